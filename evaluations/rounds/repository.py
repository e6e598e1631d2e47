"""Queries of review rounds and their subjects, scoped to the principal's centre."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.repository import CentreScopedRepository
from evaluations.rounds.models import ReviewRound, RoundState, RoundSubject
from evaluations.rubrics.models import RoundPurpose, RubricVersion


class RoundRepository(CentreScopedRepository[ReviewRound]):
    model = ReviewRound
    not_found_message = N_("Review round not found")

    def with_rubric(self) -> Select[ReviewRound]:
        return self.select().options(
            selectinload(ReviewRound.rubric_version).selectinload(RubricVersion.rubric)
        )

    def listing(self, state: RoundState | None = None) -> Select[ReviewRound]:
        """Newest first, with their rubrics; only those in ``state`` when given."""
        statement = self.with_rubric().order_by(ReviewRound.id.desc())
        if state is not None:
            statement = statement.where(ReviewRound.state == state)
        return statement

    async def open_newest(self, limit: int) -> Sequence[ReviewRound]:
        return await self.get_all(
            self.select()
            .where(ReviewRound.state == RoundState.open)
            .order_by(ReviewRound.id.desc())
            .limit(limit)
        )

    async def subject_counts(self, round_ids: Sequence[int]) -> dict[int, int]:
        if not round_ids:
            return {}
        statement = (
            select(RoundSubject.round_id, func.count())
            .where(RoundSubject.round_id.in_(round_ids))
            .group_by(RoundSubject.round_id)
        )
        return {rid: int(n) for rid, n in (await self.session.execute(statement)).all()}


class SubjectRepository(CentreScopedRepository[RoundSubject]):
    model = RoundSubject
    not_found_message = N_("Subject not found")

    async def of_round(self, round_id: int) -> Sequence[RoundSubject]:
        return await self.get_all(
            self.select().where(RoundSubject.round_id == round_id).order_by(RoundSubject.id)
        )

    async def rows_of_round(self, round_id: int, *columns: Any) -> Sequence[Row[Any]]:
        """Only the named columns of a round's subjects, in order: for readers that show them
        (progress, results) without building an ORM object per subject."""
        statement = (
            self.select()
            .with_only_columns(*columns)
            .where(RoundSubject.round_id == round_id)
            .order_by(RoundSubject.id)
        )
        return (await self.session.execute(statement)).all()

    async def in_round(self, round_id: int, subject_id: int) -> RoundSubject | None:
        return await self.get_one_or_none(
            self.select().where(RoundSubject.id == subject_id, RoundSubject.round_id == round_id)
        )

    async def registered(self, round_id: int, subject_type: str, subject_ref: int) -> bool:
        """Whether the round already scores this thing (e.g. ``("award", 12)``)."""
        statement = select(RoundSubject.id).where(
            RoundSubject.round_id == round_id,
            RoundSubject.subject_type == subject_type,
            RoundSubject.subject_id == subject_ref,
        )
        return (await self.session.execute(statement)).first() is not None

    async def latest_closed(
        self, subject_type: str, subject_ref: int, purpose: RoundPurpose
    ) -> RoundSubject | None:
        """The subject of the most recently closed round of ``purpose`` that scored this thing."""
        statement = (
            self.select()
            .join(ReviewRound, ReviewRound.id == RoundSubject.round_id)
            .where(
                RoundSubject.subject_type == subject_type,
                RoundSubject.subject_id == subject_ref,
                ReviewRound.purpose == purpose,
                ReviewRound.state == RoundState.closed,
            )
            .order_by(ReviewRound.closed_at.desc(), RoundSubject.id.desc())
            .limit(1)
        )
        return await self.get_one_or_none(statement)
