"""Queries of review rounds and their subjects, scoped to the principal's centre."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, null, select
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


DECIMAL_STATS = ("mean", "trimmed_mean", "normalised", "stdev", "spread", "public_mean")
RESULT_KEYS = (
    "subject_id", "subject_type", "subject_ref", "title", "category", "expert_sheets", "public_sheets",
    *DECIMAL_STATS, "final_score", "grade", "grade_label", "rank_in_category", "flagged",
)  # fmt: skip
"""The columns of ``results_of_round``, named as ``evaluations.results.schemas.SubjectResult``."""


def _result_row(values: Iterable[Any]) -> dict[str, Any]:
    return dict(zip(RESULT_KEYS, values, strict=True))


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
        return await self.read_rows(statement)

    async def results_of_round(self, round_id: int) -> list[dict[str, Any]]:
        """A closed round's stored results, one dict per subject in ``RESULT_KEYS`` (the
        statistics taken out of ``stats`` by the database, as the decimal strings the close
        stored), in subject order: no ORM object and no decoding of ``stats`` per subject."""
        read = self.direct("results", self._results_statement, _result_row)
        return await read.all(self.session, {"round_id": round_id})

    def _results_statement(self) -> Select[Any]:
        stats = RoundSubject.stats
        return (
            self.select()
            .with_only_columns(
                RoundSubject.id,
                RoundSubject.subject_type,
                RoundSubject.subject_id,
                RoundSubject.title,
                RoundSubject.category,
                *(
                    func.coalesce(stats[key].as_integer(), 0).label(key)
                    for key in ("expert_sheets", "public_sheets")
                ),
                *(stats[key].as_string().label(key) for key in DECIMAL_STATS),
                RoundSubject.final_score,
                RoundSubject.grade,
                null().label("grade_label"),  # in the language of the request, by the service
                RoundSubject.rank_in_category,
                RoundSubject.flagged,
                maintain_column_froms=True,
            )
            .where(RoundSubject.round_id == bindparam("round_id"))
            .order_by(RoundSubject.id)
        )

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
