"""On 1 October the station officers and staff of communities behind their targets hear it, once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from composition.jobs import register_all
from core.clock import SHANGHAI
from core.identity.models import Role
from core.notifications import Notification
from core.scheduler import find_job
from cultivation.jobs import KIND_TARGETS_BEHIND, remind_targets_behind
from tests.communities.street import build_street
from tests.factories import make_centre, make_user

FIRST_OCTOBER = dt.datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI)


async def _notes(session: AsyncSession) -> list[Notification]:
    rows = await session.execute(
        select(Notification).where(Notification.kind == KIND_TARGETS_BEHIND).order_by(Notification.id)
    )
    return list(rows.scalars())


async def test_communities_behind_reach_their_station_officers_and_the_staff_once(
    session: AsyncSession,
) -> None:
    street = await build_street(session)
    fangcao_officer = await make_user(session, street.centre, Role.station, community_id=street.fangcao.id)
    elsewhere = await make_centre(session)
    other_staff = await make_user(session, elsewhere, Role.staff)

    reminded = await remind_targets_behind(session, FIRST_OCTOBER)

    assert street.station.user.id in reminded
    assert fangcao_officer.user.id in reminded
    assert street.staff.user.id in reminded
    assert other_staff.user.id not in reminded
    notes = {n.user_id: n for n in await _notes(session)}
    yulin_note = notes[street.station.user.id]
    assert "玉林北路社区" in yulin_note.title
    assert "新增社团：2" in yulin_note.body
    assert "芳草社区" not in yulin_note.body
    assert "3个月" in yulin_note.body
    assert yulin_note.link == "/network?year=2026"
    staff_note = notes[street.staff.user.id]
    for name in ("玉林北路社区", "芳草社区", "向阳村"):
        assert name in staff_note.body

    assert await remind_targets_behind(session, FIRST_OCTOBER + dt.timedelta(hours=1)) == []


def test_the_reminder_is_scheduled_for_the_first_of_october() -> None:
    register_all()
    spec = find_job("cultivation.remind_targets_behind")
    assert spec.cron == "0 9 1 10 *"
