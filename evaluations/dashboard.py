"""The evaluations domain's figures for the role dashboards: grouped counts, no N+1."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SHANGHAI
from core.identity.principal import Principal
from core.todo import Waiting
from evaluations.models import (
    Assignment,
    AssignmentState,
    ReviewRound,
    RoundState,
    RoundSubject,
    ScoreSheet,
    SheetKind,
    SheetState,
)


@dataclass(frozen=True)
class RoundProgress:
    id: int
    name: str
    due_at: dt.datetime | None
    subjects: int
    required: int
    submitted: int

    @property
    def percent(self) -> int:
        if self.required <= 0:
            return 0
        return min(100, round(100 * self.submitted / self.required))


async def open_rounds(session: AsyncSession, principal: Principal, *, limit: int = 10) -> list[RoundProgress]:
    """Open rounds with expert sheets submitted against what closing needs (subjects × minimum)."""
    statement = select(ReviewRound).where(ReviewRound.state == RoundState.open)
    if not principal.sees_all_centres:
        statement = statement.where(ReviewRound.centre_id == principal.centre_id)
    rounds = (await session.execute(statement.order_by(ReviewRound.id.desc()).limit(limit))).scalars().all()
    if not rounds:
        return []
    ids = [r.id for r in rounds]
    subjects = dict(
        (
            await session.execute(
                select(RoundSubject.round_id, func.count(RoundSubject.id))
                .where(RoundSubject.round_id.in_(ids))
                .group_by(RoundSubject.round_id)
            )
        ).all()
    )
    sheets = dict(
        (
            await session.execute(
                select(ScoreSheet.round_id, func.count(ScoreSheet.id))
                .where(
                    ScoreSheet.round_id.in_(ids),
                    ScoreSheet.kind == SheetKind.expert,
                    ScoreSheet.state == SheetState.submitted,
                )
                .group_by(ScoreSheet.round_id)
            )
        ).all()
    )
    return [
        RoundProgress(
            id=r.id,
            name=r.name,
            due_at=r.due_at,
            subjects=int(subjects.get(r.id, 0)),
            required=int(subjects.get(r.id, 0)) * r.min_sheets_per_subject,
            submitted=int(sheets.get(r.id, 0)),
        )
        for r in rounds
    ]


@dataclass(frozen=True)
class OpenAssignment:
    id: int
    state: AssignmentState
    round_name: str
    subject_title: str
    due_at: dt.datetime | None


async def my_open_assignments(
    session: AsyncSession, principal: Principal, *, limit: int = 50
) -> list[OpenAssignment]:
    """The evaluator's assignments in open rounds still to declare or to score, soonest due first."""
    rows = await session.execute(
        select(Assignment.id, Assignment.state, ReviewRound.name, RoundSubject.title, ReviewRound.due_at)
        .join(ReviewRound, ReviewRound.id == Assignment.round_id)
        .join(RoundSubject, RoundSubject.id == Assignment.subject_id)
        .outerjoin(
            ScoreSheet,
            and_(ScoreSheet.assignment_id == Assignment.id, ScoreSheet.state == SheetState.submitted),
        )
        .where(
            Assignment.evaluator_id == principal.user_id,
            Assignment.state.in_((AssignmentState.pending, AssignmentState.active)),
            ReviewRound.state == RoundState.open,
            ScoreSheet.id.is_(None),
        )
        .order_by(ReviewRound.due_at.is_(None), ReviewRound.due_at, Assignment.id)
        .limit(limit)
    )
    return [OpenAssignment(*row) for row in rows.all()]


async def waiting_for_evaluator(session: AsyncSession, principal: Principal) -> list[Waiting]:
    """Score sheets to fill in, due by the round's deadline."""
    return [
        Waiting(
            "score_sheet",
            a.subject_title,
            f"/evaluations/assignments/{a.id}",
            due=a.due_at.astimezone(SHANGHAI).date() if a.due_at else None,
            detail=a.round_name,
        )
        for a in await my_open_assignments(session, principal)
    ]
