"""Awards (立项项目): agreement, tranche schedule, evaluations, rectification, termination and
closing; documents; progress reports and expense claims."""

from __future__ import annotations
