"""Queries of score sheets, scoped to the principal's centre."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.repository import CentreScopedRepository
from evaluations.sheets.models import ScoreSheet, SheetKind, SheetState


class SheetRepository(CentreScopedRepository[ScoreSheet]):
    model = ScoreSheet
    not_found_message = N_("Score sheet not found")

    async def submitted_in_round(self, round_id: int) -> Sequence[ScoreSheet]:
        return await self.get_all(
            self.select()
            .options(selectinload(ScoreSheet.items))
            .where(ScoreSheet.round_id == round_id, ScoreSheet.state == SheetState.submitted)
            .order_by(ScoreSheet.id)
        )

    async def submitted_counts(self, round_id: int) -> dict[SheetKind, dict[int, int]]:
        """Submitted sheets per kind and subject of a round, in one grouped statement."""
        statement = (
            select(ScoreSheet.kind, ScoreSheet.subject_id, func.count())
            .where(ScoreSheet.round_id == round_id, ScoreSheet.state == SheetState.submitted)
            .group_by(ScoreSheet.kind, ScoreSheet.subject_id)
        )
        counts: dict[SheetKind, dict[int, int]] = {kind: {} for kind in SheetKind}
        for kind, subject_id, n in await self.read_rows(statement):
            counts[kind][subject_id] = int(n)
        return counts


async def submitted_expert_counts(session: AsyncSession, round_ids: Sequence[int]) -> dict[int, int]:
    """Submitted expert sheets per round, in one grouped statement."""
    statement = (
        select(ScoreSheet.round_id, func.count(ScoreSheet.id))
        .where(
            ScoreSheet.round_id.in_(round_ids),
            ScoreSheet.kind == SheetKind.expert,
            ScoreSheet.state == SheetState.submitted,
        )
        .group_by(ScoreSheet.round_id)
    )
    return {round_id: int(n) for round_id, n in (await session.execute(statement)).all()}


async def expert_sheet_totals(session: AsyncSession, round_id: int) -> Sequence[tuple[int, int, Decimal]]:
    """(subject, evaluator, total) of every submitted expert sheet of a round."""
    statement = (
        select(ScoreSheet.subject_id, ScoreSheet.evaluator_id, ScoreSheet.total)
        .where(
            ScoreSheet.round_id == round_id,
            ScoreSheet.state == SheetState.submitted,
            ScoreSheet.kind == SheetKind.expert,
            ScoreSheet.evaluator_id.is_not(None),
        )
        .order_by(ScoreSheet.subject_id, ScoreSheet.id)
    )
    return [(s, e, t) for s, e, t in (await session.execute(statement)).all() if e is not None]
