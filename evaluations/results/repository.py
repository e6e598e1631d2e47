"""Queries of recommendation adjustments, scoped to the principal's centre."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.repository import CentreScopedRepository
from evaluations.results.models import RecommendationAdjustment
from evaluations.rounds.models import ReviewRound, RoundState, RoundSubject
from evaluations.rubrics.models import RubricVersion
from evaluations.sheets.models import ScoreSheet, SheetKind, SheetState


class AdjustmentRepository(CentreScopedRepository[RecommendationAdjustment]):
    model = RecommendationAdjustment

    async def of_round(self, round_id: int) -> dict[int, RecommendationAdjustment]:
        rows = await self.get_all(self.select().where(RecommendationAdjustment.round_id == round_id))
        return {row.subject_id: row for row in rows}


# --- unscoped reads for report builders (the caller has checked the subject's centre) ---


async def closed_rounds_of(
    session: AsyncSession, subject_type: str, subject_ref: int
) -> Sequence[tuple[RoundSubject, ReviewRound]]:
    """Every closed round that evaluated a subject (an award, a contract), oldest first."""
    statement = (
        select(RoundSubject, ReviewRound)
        .join(ReviewRound, ReviewRound.id == RoundSubject.round_id)
        .where(
            RoundSubject.subject_type == subject_type,
            RoundSubject.subject_id == subject_ref,
            ReviewRound.state == RoundState.closed,
        )
        .order_by(ReviewRound.closed_at, ReviewRound.id)
    )
    return [(subject, review_round) for subject, review_round in (await session.execute(statement)).all()]


async def submitted_expert_sheets(session: AsyncSession, round_subject_id: int) -> Sequence[ScoreSheet]:
    """A subject's submitted expert sheets with their items, in the order they were made."""
    statement = (
        select(ScoreSheet)
        .options(selectinload(ScoreSheet.items))
        .where(
            ScoreSheet.subject_id == round_subject_id,
            ScoreSheet.state == SheetState.submitted,
            ScoreSheet.kind == SheetKind.expert,
        )
        .order_by(ScoreSheet.id)
    )
    return (await session.execute(statement)).scalars().all()


async def graded_subjects(session: AsyncSession, round_id: int) -> Sequence[RoundSubject]:
    statement = select(RoundSubject).where(RoundSubject.round_id == round_id, RoundSubject.grade.is_not(None))
    return (await session.execute(statement)).scalars().all()


async def rubric_version(session: AsyncSession, version_id: int) -> RubricVersion | None:
    return await session.get(RubricVersion, version_id)
