"""Disbursements (拨付): a due tranche or contract milestone requested by staff, approved or
rejected by a finance officer who did not request it, then paid."""

from __future__ import annotations
