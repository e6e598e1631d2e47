"""Applications (申报书): submission and eligibility, the review hand-off and decision, publicity."""

from __future__ import annotations
