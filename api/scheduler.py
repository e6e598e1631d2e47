"""The one active scheduler: a leader lease, APScheduler 3, and recorded job runs.

APScheduler 3 cannot share a job store between processes, so every process that wants
to schedule first takes the lease (a PostgreSQL advisory lock held on its own
connection; on SQLite an exclusive lock on a file next to the database). Only the holder
starts APScheduler. Every run also claims a unique (job, scheduled_for) row.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from core import jobs
from core.db import session_factory, utcnow
from core.settings import Settings

log = logging.getLogger("seedbed.scheduler")

LEASE_KEY = 7_270_002
JobFunc = Callable[[AsyncSession, dt.datetime], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    cron: str
    func: JobFunc
    max_attempts: int = 3


JOBS: list[JobSpec] = []


def register_job(spec: JobSpec) -> None:
    if all(existing.job_id != spec.job_id for existing in JOBS):
        JOBS.append(spec)


class LeaderLease:
    """Held by at most one process at a time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._file: IO[str] | None = None

    async def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            connection = await self.engine.connect()
            got = (
                await connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEASE_KEY})
            ).scalar()
            await connection.commit()
            if got:
                self._connection = connection
                return True
            await connection.close()
            return False
        database = make_url(str(self.engine.url)).database or "seedbed"
        path = Path(database + ".scheduler.lock") if database != ":memory:" else Path("var/scheduler.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    async def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEASE_KEY})
                await self._connection.commit()
            await self._connection.close()
            self._connection = None
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None


async def run_job(engine: AsyncEngine, spec: JobSpec, scheduled_for: dt.datetime) -> bool:
    """Claim and run one slot of a job; retries with backoff; answers whether it succeeded."""
    factory = session_factory(engine)
    for attempt in range(1, spec.max_attempts + 1):
        async with factory() as session:
            run = await jobs.claim(session, spec.job_id, scheduled_for)
            await session.commit()
        if run is None:
            return False
        try:
            async with factory() as session:
                await spec.func(session, scheduled_for)
                await session.commit()
        except Exception as exc:
            log.exception("job %s failed (attempt %d)", spec.job_id, attempt)
            async with factory() as session:
                stored = await session.get(jobs.JobRun, run.id)
                if stored is not None:
                    stored.status = jobs.RunStatus.failed
                    stored.error = f"{type(exc).__name__}: {exc}"[:4000]
                    stored.finished_at = utcnow()
                await session.commit()
            if attempt < spec.max_attempts:
                await asyncio.sleep(min(2**attempt, 60))
            continue
        async with factory() as session:
            stored = await session.get(jobs.JobRun, run.id)
            if stored is not None:
                stored.status = jobs.RunStatus.succeeded
                stored.finished_at = utcnow()
                stored.error = None
            await session.commit()
        return True
    return False


class SeedbedScheduler:
    def __init__(self, settings: Settings, engine: AsyncEngine, *, poll_seconds: float = 30.0) -> None:
        self.settings = settings
        self.engine = engine
        self.lease = LeaderLease(engine)
        self.poll_seconds = poll_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._waiter: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        return self._scheduler is not None

    async def start(self) -> None:
        if await self.lease.try_acquire():
            self._start_apscheduler()
        else:
            log.info("another process holds the scheduler lease; waiting")
            self._waiter = asyncio.create_task(self._wait_for_lease())

    async def _wait_for_lease(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            if await self.lease.try_acquire():
                self._start_apscheduler()
                return

    def _start_apscheduler(self) -> None:
        scheduler = AsyncIOScheduler(
            timezone=self.settings.timezone,
            job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
        )
        for spec in JOBS:
            scheduler.add_job(
                self._fire,
                CronTrigger.from_crontab(spec.cron, timezone=self.settings.timezone),
                args=[spec],
                id=spec.job_id,
                replace_existing=True,
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started with %d jobs", len(JOBS))

    async def _fire(self, spec: JobSpec, **_: Any) -> None:
        slot = utcnow().replace(second=0, microsecond=0)
        await run_job(self.engine, spec, slot)

    async def stop(self) -> None:
        if self._waiter is not None:
            self._waiter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._waiter
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        await self.lease.release()
