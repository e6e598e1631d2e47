"""The tranche schedule of an award, split exactly to the fen."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from core.money import split_into_payments
from grants.awards.models import Tranche, TrancheState
from grants.programmes.models import TranchePlanRow


def tranches_for(amount: Decimal, plan_rows: Sequence[TranchePlanRow]) -> list[Tranche]:
    """Tranches of an award from its programme's plan; their amounts add exactly to ``amount``
    and each is at least one fen."""
    rows = sorted(plan_rows, key=lambda r: r.seq)
    parts = split_into_payments(amount, [r.share_pct for r in rows])
    return [
        Tranche(seq=i, share_pct=r.share_pct, trigger=r.trigger, amount=part, state=TrancheState.planned)
        for i, (r, part) in enumerate(zip(rows, parts, strict=True), start=1)
    ]
