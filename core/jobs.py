"""Job runs: each scheduled run claims a unique (job, scheduled_for) row before it works.

With the leader lease this makes a run happen once even if two schedulers overlap for a
moment; a failed run is recorded with its error and retried with backoff.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Enum, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class RunStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(120))
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[RunStatus] = mapped_column(Enum(RunStatus, native_enum=False, length=16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


async def claim(session: AsyncSession, job_id: str, scheduled_for: dt.datetime) -> JobRun | None:
    """Claim a run (committed by the caller). ``None`` when another process has it or it succeeded."""
    existing = (
        await session.execute(
            select(JobRun).where(JobRun.job_id == job_id, JobRun.scheduled_for == scheduled_for)
        )
    ).scalar_one_or_none()
    if existing is not None:
        if existing.status is RunStatus.failed:
            existing.status = RunStatus.running
            existing.attempts += 1
            existing.started_at = utcnow()
            await session.flush()
            return existing
        return None
    run = JobRun(job_id=job_id, scheduled_for=scheduled_for, status=RunStatus.running, attempts=1)
    session.add(run)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        return None
    return run
