"""Schedules fire on their cron in Asia/Shanghai; missed slots coalesce into one run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select

from core.db import session_factory
from core.identity.models import Role
from core.jobs import JobRun
from core.notifications import Notification
from reports import events, jobs
from reports.briefing import KIND_CODE
from reports.models import GeneratedReport, Generator, ReportSchedule, ScopeType
from reports.registry import slot_runner
from reports.service import ReportOutput, due_slot
from tests.conftest import TestDatabase
from tests.factories import make_centre, make_user

UTC = dt.UTC


def test_due_slot_is_the_latest_missed_fire_time() -> None:
    # 08:00 Beijing = 00:00 UTC, daily. Last run five days ago; now is 10:00 Beijing.
    last = dt.datetime(2026, 11, 18, 0, 0, tzinfo=UTC)
    now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert due_slot("0 8 * * *", last, now) == dt.datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    # Already ran today's slot: nothing due until tomorrow 08:00 Beijing.
    assert due_slot("0 8 * * *", dt.datetime(2026, 11, 23, 0, 0, tzinfo=UTC), now) is None
    # Monthly on the 1st at 08:00 Beijing, long downtime: the latest 1st only.
    assert due_slot("0 8 1 * *", dt.datetime(2026, 6, 1, tzinfo=UTC), now) == dt.datetime(
        2026, 11, 1, 0, 0, tzinfo=UTC
    )


async def test_missed_slots_run_once(database: TestDatabase, tmp_path: Path, renderer: object) -> None:
    factory = session_factory(database.engine)
    now = dt.datetime(2026, 11, 23, 3, 7, tzinfo=UTC)
    async with factory() as session:
        centre = await make_centre(session)
        reader = await make_user(session, centre, Role.staff)
        schedule = ReportSchedule(
            centre_id=centre.id,
            kind=KIND_CODE,
            scope_type=ScopeType.centre,
            scope_id=centre.id,
            cron="*/10 * * * *",
            recipients=[reader.user.id],
            # the last run was five slots ago (02:10 UTC); 02:20 … 03:00 were missed
            last_slot_at=now.replace(hour=2, minute=10),
        )
        session.add(schedule)
        await session.commit()
        schedule_id, centre_id, reader_id = schedule.id, centre.id, reader.user.id

    from reports.archive import FilesystemReportStore

    output = ReportOutput(store=FilesystemReportStore(tmp_path / "reports"), renderer=renderer)  # type: ignore[arg-type]
    run = slot_runner(database.engine)
    assert await jobs.run_due_schedules(factory, now, output=output, run_slot=run) >= 1
    # the same minute again, and a second scheduler overlapping: nothing more
    assert schedule_id not in [sid for sid, _slot in await _due(database, now)]
    await jobs.run_due_schedules(factory, now, output=output, run_slot=run)

    async with factory() as session:
        reports = list(
            (
                await session.execute(select(GeneratedReport).where(GeneratedReport.centre_id == centre_id))
            ).scalars()
        )
        stored = await session.get(ReportSchedule, schedule_id)
        runs = list(
            (
                await session.execute(
                    select(JobRun).where(JobRun.job_id == jobs.schedule_job_id(schedule_id))
                )
            ).scalars()
        )
        notes = list(
            (await session.execute(select(Notification).where(Notification.user_id == reader_id))).scalars()
        )
    assert len(reports) == 1
    assert reports[0].generator is Generator.schedule
    assert reports[0].generator_ref == str(schedule_id)
    assert reports[0].period == "2026-10"  # a run in November reports on October
    assert stored is not None
    assert stored.last_slot_at == dt.datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert stored.last_report_id == reports[0].id
    assert [r.scheduled_for for r in runs] == [dt.datetime(2026, 11, 23, 3, 0, tzinfo=UTC)]
    assert len(notes) == 1

    # ten minutes later the next slot is due again
    later = now + dt.timedelta(minutes=10)
    assert (schedule_id, dt.datetime(2026, 11, 23, 3, 10, tzinfo=UTC)) in await _due(database, later)


async def _due(database: TestDatabase, now: dt.datetime) -> list[tuple[int, dt.datetime]]:
    async with session_factory(database.engine)() as session:
        return await jobs.due_schedules(session, now)


async def test_paused_schedule_does_not_run(database: TestDatabase) -> None:
    factory = session_factory(database.engine)
    now = dt.datetime(2026, 11, 23, 3, 7, tzinfo=UTC)
    async with factory() as session:
        centre = await make_centre(session)
        schedule = ReportSchedule(
            centre_id=centre.id,
            kind=KIND_CODE,
            scope_type=ScopeType.centre,
            scope_id=centre.id,
            cron="* * * * *",
            active=False,
            recipients=[],
            last_slot_at=now - dt.timedelta(hours=1),
        )
        session.add(schedule)
        await session.commit()
    assert schedule.id not in [sid for sid, _slot in await _due(database, now)]


async def test_event_triggers_a_report(database: TestDatabase, tmp_path: Path, renderer: object) -> None:
    from reports.archive import FilesystemReportStore

    output = ReportOutput(store=FilesystemReportStore(tmp_path / "reports"), renderer=renderer)  # type: ignore[arg-type]
    events.on("test.centre_reviewed", KIND_CODE)
    try:
        async with session_factory(database.engine)() as session:
            centre = await make_centre(session)
            generated = await events.emit(
                session, output, "test.centre_reviewed", centre.id, period="2026-08"
            )
            nothing = await events.emit(session, output, "test.unknown_event", centre.id)
            await session.commit()
    finally:
        events.off("test.centre_reviewed", KIND_CODE)
    assert nothing == []
    assert [(r.generator, r.generator_ref, r.period, r.version) for r in generated] == [
        (Generator.event, "test.centre_reviewed", "2026-08", 1)
    ]
