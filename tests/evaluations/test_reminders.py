"""Review-due reminders: evaluators with unscored assignments in a round due soon, once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.notifications import Notification
from evaluations import jobs
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import DeclarationIn
from tests.evaluations.factories import assign, make_scenario, score

DUE = dt.datetime(2026, 6, 30, 9, 0, tzinfo=dt.UTC)


async def test_review_due_reminds_evaluators_with_open_work_once(session: AsyncSession) -> None:
    scenario = await make_scenario(session, evaluators=3, subjects=2, due_at=DUE.isoformat())
    busy, done, conflicted = scenario.evaluators
    await score(session, scenario, scenario.subjects[0], busy, 80)
    await assign(session, scenario, scenario.subjects[1], busy)
    await score(session, scenario, scenario.subjects[0], done, 75)
    blocked = await assign(session, scenario, scenario.subjects[1], conflicted)
    await assignment_service.declare(
        session, conflicted.principal, blocked.id, DeclarationIn(has_conflict=True, reason="曾任该组织理事")
    )

    assert await jobs.remind_reviews_due(session, DUE - dt.timedelta(days=3)) == []

    now = DUE - dt.timedelta(days=1)
    assert await jobs.remind_reviews_due(session, now) == [busy.user.id]
    [note] = (
        (await session.execute(select(Notification).where(Notification.kind == jobs.KIND_REVIEW_DUE)))
        .scalars()
        .all()
    )
    assert note.title == "评审即将截止：2026年公益创投项目评审"
    assert "2026-06-30 17:00" in note.body
    assert "1 个" in note.body
    assert note.link == f"/evaluations#round-{scenario.round.id}"

    assert await jobs.remind_reviews_due(session, now + dt.timedelta(hours=6)) == []


async def test_round_without_due_date_reminds_nobody(session: AsyncSession) -> None:
    scenario = await make_scenario(session, evaluators=1, subjects=1)
    await assign(session, scenario, scenario.subjects[0], scenario.evaluators[0])
    assert await jobs.remind_reviews_due(session, dt.datetime.now(dt.UTC)) == []
