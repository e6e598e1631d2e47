"""Queries of job runs: slots claimed, watermarks, and the compare-and-sets that end a run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.jobs import JobRun, RunOrigin, RunStatus, is_slot
from core.repository import Repository


class JobRunRepository(Repository[JobRun]):
    model = JobRun

    async def for_slot(self, job_id: str, slot: dt.datetime) -> JobRun | None:
        return await self.get_one_or_none(
            self.select().where(JobRun.job_id == job_id, JobRun.scheduled_for == slot)
        )

    async def watermark(self, job_id: str, trigger: CronTrigger) -> dt.datetime | None:
        scheduled = (
            await self.session.execute(
                select(func.max(JobRun.scheduled_for)).where(
                    JobRun.job_id == job_id, JobRun.origin == RunOrigin.schedule
                )
            )
        ).scalar_one_or_none()
        manual = select(JobRun.scheduled_for).where(
            JobRun.job_id == job_id, JobRun.origin == RunOrigin.manual
        )
        if scheduled is not None:
            manual = manual.where(JobRun.scheduled_for > scheduled)
        later = (
            await self.session.execute(manual.order_by(JobRun.scheduled_for.desc()).limit(100))
        ).scalars()
        # a manual run on one of the job's own slots has taken that slot
        taken = next((slot for slot in later if is_slot(trigger, slot)), None)
        return taken or scheduled

    async def resumable(self, job_id: str, since: dt.datetime, max_attempts: int) -> list[dt.datetime]:
        """Scheduled slots since ``since`` that were cut short: interrupted, or failed with retries left."""
        rows = await self.session.execute(
            select(JobRun.scheduled_for).where(
                JobRun.job_id == job_id,
                JobRun.origin == RunOrigin.schedule,
                JobRun.scheduled_for >= since,
                or_(
                    JobRun.status == RunStatus.interrupted,
                    (JobRun.status == RunStatus.failed) & (JobRun.attempts < max_attempts),
                ),
            )
        )
        return list(rows.scalars())

    async def recent(self, job_id: str, limit: int) -> Sequence[JobRun]:
        return await self.get_all(
            self.select().where(JobRun.job_id == job_id).order_by(JobRun.scheduled_for.desc()).limit(limit)
        )

    async def last_succeeded(self, job_id: str) -> dt.datetime | None:
        return (
            await self.session.execute(
                select(func.max(JobRun.finished_at)).where(
                    JobRun.job_id == job_id, JobRun.status == RunStatus.succeeded
                )
            )
        ).scalar_one_or_none()


async def interrupt_running(session: AsyncSession) -> int:
    result = await session.execute(
        update(JobRun)
        .where(JobRun.origin == RunOrigin.schedule, JobRun.status == RunStatus.running)
        .values(
            status=RunStatus.interrupted,
            finished_at=utcnow(),
            error="interrupted: the scheduler running it stopped before it finished",
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def take_over(session: AsyncSession, existing: JobRun) -> bool:
    """Compare-and-set a failed or interrupted run back to running, one attempt more."""
    taken = await session.execute(
        update(JobRun)
        .where(
            JobRun.id == existing.id,
            JobRun.status == existing.status,
            JobRun.attempts == existing.attempts,
        )
        .values(status=RunStatus.running, attempts=JobRun.attempts + 1, started_at=utcnow(), finished_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


async def finish(
    session: AsyncSession, run_id: int, attempt: int, status: RunStatus, error: str | None = None
) -> bool:
    result = await session.execute(
        update(JobRun)
        .where(JobRun.id == run_id, JobRun.status == RunStatus.running, JobRun.attempts == attempt)
        .values(status=status, finished_at=utcnow(), error=error)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
