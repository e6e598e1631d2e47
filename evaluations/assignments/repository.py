"""Queries of assignments, evaluators and standing conflicts, scoped to the principal's centre."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.identity.models import Role, User
from core.repository import CentreScopedRepository
from evaluations.assignments.models import Assignment, AssignmentState, EvaluatorConflict
from evaluations.rounds.models import ReviewRound, RoundState, RoundSubject
from evaluations.rubrics.models import RubricVersion
from evaluations.sheets.models import ScoreSheet, SheetState

ProgressRow = tuple[int, int, int, AssignmentState, bool, str]


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

    def listing(self, *, round_id: int | None = None, mine: bool = True) -> Select[Assignment]:
        """Newest first: the principal's own, or (``mine=False``) all they may see; of one round
        when given."""
        statement = self.mine() if mine else self.detailed()
        if round_id is not None:
            statement = statement.where(Assignment.round_id == round_id)
        return statement.order_by(Assignment.id.desc())

    async def get_detailed(self, assignment_id: int) -> Assignment:
        """With round, rubric, subject and sheet read afresh, so a flushed change is among them."""
        return await self.get(assignment_id, self.detailed().execution_options(populate_existing=True))

    async def detailed_by_ids(self, ids: Sequence[int]) -> Sequence[Assignment]:
        return await self.get_all(self.detailed().where(Assignment.id.in_(ids)))

    async def state_of(self, subject_id: int, evaluator_id: int) -> AssignmentState | None:
        """The state of an evaluator's assignment to a subject, if they have one."""
        statement = select(Assignment.state).where(
            Assignment.subject_id == subject_id, Assignment.evaluator_id == evaluator_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

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
        return cast(Sequence[ProgressRow], await self.read_rows(statement))

    async def load_in_round(self, round_id: int) -> dict[int, int]:
        """Assignments that count (not withdrawn for a conflict) per evaluator in a round."""
        statement = (
            select(Assignment.evaluator_id, func.count())
            .where(Assignment.round_id == round_id, Assignment.state != AssignmentState.conflict)
            .group_by(Assignment.evaluator_id)
        )
        return {e: int(n) for e, n in (await self.session.execute(statement)).all()}


class ConflictRepository(CentreScopedRepository[EvaluatorConflict]):
    model = EvaluatorConflict
    not_found_message = N_("Conflict declaration not found")

    async def declared(self, evaluator_id: int, organisation_id: int) -> bool:
        statement = select(EvaluatorConflict.id).where(
            EvaluatorConflict.evaluator_id == evaluator_id,
            EvaluatorConflict.organisation_id == organisation_id,
        )
        return (await self.session.execute(statement.limit(1))).first() is not None

    def visible(self) -> Select[EvaluatorConflict]:
        """Staff see every standing conflict of their centre; an evaluator their own."""
        statement = self.select().order_by(EvaluatorConflict.id)
        if not self.principal.has(Role.staff, Role.admin):
            statement = statement.where(EvaluatorConflict.evaluator_id == self.principal.user_id)
        return statement


async def users_by_id(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, User]:
    """Evaluators' accounts (with roles) for names and eligibility checks."""
    if not user_ids:
        return {}
    statement = select(User).options(selectinload(User.roles)).where(User.id.in_(set(user_ids)))
    return {u.id: u for u in (await session.execute(statement)).scalars().all()}


OpenAssignmentRow = tuple[int, AssignmentState, str, str, dt.datetime | None]
AwaitingRow = tuple[int, str, dt.datetime | None, int]


async def open_of_evaluator(
    session: AsyncSession, evaluator_id: int, limit: int
) -> Sequence[OpenAssignmentRow]:
    """An evaluator's assignments in open rounds still to declare or to score, soonest due
    first: id, state, round name, subject title, due time."""
    statement = (
        select(Assignment.id, Assignment.state, ReviewRound.name, RoundSubject.title, ReviewRound.due_at)
        .join(ReviewRound, ReviewRound.id == Assignment.round_id)
        .join(RoundSubject, RoundSubject.id == Assignment.subject_id)
        .outerjoin(
            ScoreSheet,
            and_(ScoreSheet.assignment_id == Assignment.id, ScoreSheet.state == SheetState.submitted),
        )
        .where(
            Assignment.evaluator_id == evaluator_id,
            Assignment.state.in_((AssignmentState.pending, AssignmentState.active)),
            ReviewRound.state == RoundState.open,
            ScoreSheet.id.is_(None),
        )
        .order_by(ReviewRound.due_at.is_(None), ReviewRound.due_at, Assignment.id)
        .limit(limit)
    )
    return cast(Sequence[OpenAssignmentRow], (await session.execute(statement)).all())


async def awaiting_by(session: AsyncSession, due_by: dt.datetime) -> Sequence[AwaitingRow]:
    """Across centres, open rounds due by ``due_by`` and, per assignment still to declare or to
    score (no submitted sheet): round id, name, due time, evaluator."""
    statement = (
        select(ReviewRound.id, ReviewRound.name, ReviewRound.due_at, Assignment.evaluator_id)
        .join(Assignment, Assignment.round_id == ReviewRound.id)
        .outerjoin(
            ScoreSheet,
            and_(ScoreSheet.assignment_id == Assignment.id, ScoreSheet.state == SheetState.submitted),
        )
        .where(
            ReviewRound.state == RoundState.open,
            ReviewRound.due_at.is_not(None),
            ReviewRound.due_at <= due_by,
            Assignment.state.in_((AssignmentState.pending, AssignmentState.active)),
            ScoreSheet.id.is_(None),
        )
        .order_by(ReviewRound.id, Assignment.id)
    )
    return cast(Sequence[AwaitingRow], (await session.execute(statement)).all())
