"""Scheduled work of the reports domain: run the report schedules that are due.

Every minute one job looks for schedules whose latest fire time (in Asia/Shanghai) is
after their last run; missed slots coalesce into one run of the latest slot. Each run goes
through the job-run claim (``SlotRunner``, passed in by ``api``) as its own job
``report-schedule:<id>`` and slot, so a slot is generated once across processes and a
failed run is retried without leaving a half-written report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.repository.jobs import failed_attempts
from reports import service
from reports.repository import archive_queries

JobFunc = Callable[[AsyncSession, dt.datetime], Awaitable[None]]
SlotRunner = Callable[[str, dt.datetime, JobFunc], Awaitable[bool]]
"""``(job_id, slot, work) -> ran``: claims (job_id, slot) once and runs ``work`` in its own session."""

GIVE_UP_AFTER_ATTEMPTS = 9


def schedule_job_id(schedule_id: int) -> str:
    return f"report-schedule:{schedule_id}"


async def due_schedules(session: AsyncSession, now: dt.datetime) -> list[tuple[int, dt.datetime]]:
    due: list[tuple[int, dt.datetime]] = []
    for schedule in await archive_queries(session).active_schedules():
        since = schedule.last_slot_at or schedule.created_at
        slot = service.due_slot(schedule.cron, since, now)
        if slot is None:
            continue
        failed = await failed_attempts(session, schedule_job_id(schedule.id), slot)
        if failed is not None and failed >= GIVE_UP_AFTER_ATTEMPTS:
            continue
        due.append((schedule.id, slot))
    return due


async def _run_slot(
    output: service.ReportOutput, schedule_id: int, session: AsyncSession, slot: dt.datetime
) -> None:
    await service.run_schedule_slot(session, output, schedule_id, slot)


async def run_due_schedules(
    factory: async_sessionmaker[AsyncSession],
    now: dt.datetime,
    *,
    output: service.ReportOutput,
    run_slot: SlotRunner,
) -> int:
    """Answer how many schedules ran. Reads in a short session of its own, then runs each."""
    async with factory() as session:
        due = await due_schedules(session, now)
        await session.rollback()
    ran = 0
    for schedule_id, slot in due:
        if await run_slot(schedule_job_id(schedule_id), slot, partial(_run_slot, output, schedule_id)):
            ran += 1
    return ran
