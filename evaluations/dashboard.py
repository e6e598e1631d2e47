"""The evaluations domain's figures for the role dashboards: grouped counts, no N+1."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SHANGHAI
from core.identity.principal import Principal
from core.todo import Waiting
from evaluations.assignments.models import AssignmentState
from evaluations.assignments.repository import open_of_evaluator
from evaluations.rounds.repository import RoundRepository
from evaluations.sheets.repository import submitted_expert_counts


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
    rounds = await RoundRepository(session, principal).open_newest(limit)
    if not rounds:
        return []
    ids = [r.id for r in rounds]
    subjects = await RoundRepository(session, principal).subject_counts(ids)
    sheets = await submitted_expert_counts(session, ids)
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
    rows = await open_of_evaluator(session, principal.user_id, limit)
    return [OpenAssignment(*row) for row in rows]


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
