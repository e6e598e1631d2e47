"""Every query of the evaluations domain, scoped to the principal's centre."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import cast

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.identity.models import Role, User
from core.repository import CentreScopedRepository
from evaluations.models import (
    Assignment,
    AssignmentState,
    EvaluatorConflict,
    RecommendationAdjustment,
    ReviewRound,
    RoundPurpose,
    RoundSubject,
    Rubric,
    RubricVersion,
    ScoreSheet,
    SheetKind,
    SheetState,
)

ProgressRow = tuple[int, int, int, AssignmentState, bool, str]


class RubricRepository(CentreScopedRepository[Rubric]):
    model = Rubric
    not_found_message = N_("Rubric not found")

    def with_versions(self) -> Select[Rubric]:
        return self.select().options(selectinload(Rubric.versions)).order_by(Rubric.id)


class RubricVersionRepository(CentreScopedRepository[RubricVersion]):
    model = RubricVersion
    not_found_message = N_("Rubric version not found")

    def with_rubric(self) -> Select[RubricVersion]:
        return self.select().options(selectinload(RubricVersion.rubric))

    async def latest_number(self, rubric_id: int) -> int:
        statement = select(func.max(RubricVersion.number)).where(RubricVersion.rubric_id == rubric_id)
        return int((await self.session.execute(statement)).scalar_one() or 0)


class RoundRepository(CentreScopedRepository[ReviewRound]):
    model = ReviewRound
    not_found_message = N_("Review round not found")

    def with_rubric(self) -> Select[ReviewRound]:
        return self.select().options(
            selectinload(ReviewRound.rubric_version).selectinload(RubricVersion.rubric)
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


class AssignmentRepository(CentreScopedRepository[Assignment]):
    """Evaluators only ever find their own assignments; another's answers 404."""

    model = Assignment
    not_found_message = N_("Assignment not found")

    def select(self) -> Select[Assignment]:
        statement = super().select()
        if not self.principal.has(Role.staff, Role.admin):
            statement = statement.where(Assignment.evaluator_id == self.principal.user_id)
        return statement

    def detailed(self) -> Select[Assignment]:
        return self.select().options(
            selectinload(Assignment.round)
            .selectinload(ReviewRound.rubric_version)
            .selectinload(RubricVersion.rubric),
            selectinload(Assignment.subject),
            selectinload(Assignment.sheet).selectinload(ScoreSheet.items),
        )

    def mine(self) -> Select[Assignment]:
        return self.detailed().where(Assignment.evaluator_id == self.principal.user_id)

    async def of_round(self, round_id: int) -> Sequence[Assignment]:
        return await self.get_all(
            self.detailed().where(Assignment.round_id == round_id).order_by(Assignment.id)
        )

    async def progress_rows(self, round_id: int) -> Sequence[ProgressRow]:
        """Per assignment of a round, in one statement: id, subject, evaluator, state, whether its
        sheet is submitted, and the evaluator's display name (no sheets or items loaded)."""
        statement = (
            select(
                Assignment.id,
                Assignment.subject_id,
                Assignment.evaluator_id,
                Assignment.state,
                func.coalesce(ScoreSheet.state == SheetState.submitted, False),
                func.coalesce(func.nullif(User.full_name, ""), User.email),
            )
            .outerjoin(
                ScoreSheet,
                # the round on the sheet too, so the plan takes the round's sheets by index
                (ScoreSheet.assignment_id == Assignment.id) & (ScoreSheet.round_id == round_id),
            )
            .join(User, User.id == Assignment.evaluator_id)
            .where(Assignment.round_id == round_id)
            .order_by(Assignment.id)
        )
        if not self.principal.sees_all_centres:
            statement = statement.where(Assignment.centre_id == self.principal.centre_id)
        if not self.principal.has(Role.staff, Role.admin):
            statement = statement.where(Assignment.evaluator_id == self.principal.user_id)
        return cast(Sequence[ProgressRow], (await self.session.execute(statement)).all())

    async def load_in_round(self, round_id: int) -> dict[int, int]:
        """Assignments that count (not withdrawn for a conflict) per evaluator in a round."""
        statement = (
            select(Assignment.evaluator_id, func.count())
            .where(Assignment.round_id == round_id, Assignment.state != AssignmentState.conflict)
            .group_by(Assignment.evaluator_id)
        )
        return {e: int(n) for e, n in (await self.session.execute(statement)).all()}


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
        for kind, subject_id, n in (await self.session.execute(statement)).all():
            counts[kind][subject_id] = int(n)
        return counts


class ConflictRepository(CentreScopedRepository[EvaluatorConflict]):
    model = EvaluatorConflict
    not_found_message = N_("Conflict declaration not found")

    async def declared(self, evaluator_id: int, organisation_id: int) -> bool:
        statement = select(EvaluatorConflict.id).where(
            EvaluatorConflict.evaluator_id == evaluator_id,
            EvaluatorConflict.organisation_id == organisation_id,
        )
        return (await self.session.execute(statement.limit(1))).first() is not None


class AdjustmentRepository(CentreScopedRepository[RecommendationAdjustment]):
    model = RecommendationAdjustment

    async def of_round(self, round_id: int) -> dict[int, RecommendationAdjustment]:
        rows = await self.get_all(self.select().where(RecommendationAdjustment.round_id == round_id))
        return {row.subject_id: row for row in rows}


async def users_by_id(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, User]:
    """Evaluators' accounts (with roles) for names and eligibility checks."""
    if not user_ids:
        return {}
    statement = select(User).options(selectinload(User.roles)).where(User.id.in_(set(user_ids)))
    return {u.id: u for u in (await session.execute(statement)).scalars().all()}


async def latest_project_version(session: AsyncSession, centre_id: int) -> RubricVersion | None:
    """The newest version of a centre's mid-term or final rubric: what awards are evaluated on."""
    statement = (
        select(RubricVersion)
        .join(Rubric, Rubric.id == RubricVersion.rubric_id)
        .where(Rubric.centre_id == centre_id, Rubric.purpose.in_([RoundPurpose.midterm, RoundPurpose.final]))
        .order_by(RubricVersion.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


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
