"""The one active scheduler: a leader lease, APScheduler 3 as its clock, and recorded job runs.

APScheduler 3 cannot share a job store between processes, so every process that wants
to schedule first takes the lease (a PostgreSQL advisory lock held on its own
connection; on SQLite an exclusive lock on a file next to the database). Only the holder
starts APScheduler. A standby tries to take the lease every ``scheduler_poll_seconds``
(3 s); the leader checks its lease connection every ``scheduler_lease_check_seconds``
(2 s) and steps down at once when it is gone, before another process can take it.

On PostgreSQL the server drops the lock as soon as the leader's connection closes: at
once when the process dies, and within about 11 s when its host vanishes (TCP keepalives
on the lease connection). The leader stops scheduling sooner than that (a lease check
times out after 3 s), so two leaders never run. A standby therefore takes over within
about 15 s of the leader's death in the worst case, and within a few seconds usually.

APScheduler only says when to look. What to run comes from each job's cron and its
recorded runs (``core.jobs.due_slots``): a fire, and every takeover, runs each slot
since the job's last recorded one, so slots missed during a failover run on the new
leader, oldest first, within the misfire grace (the coalescing rule is stated in
``core/jobs.py``). Every run also claims its unique (job, scheduled_for) row, so none
runs twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from pydantic import BaseModel
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from core import jobs
from core.db import session_factory, utcnow
from core.errors import NotFound
from core.i18n import _
from core.identity.principal import Principal
from core.repository import connection as lease_sql
from core.repository import jobs as job_queries
from core.settings import Settings

log = logging.getLogger("seedbed.scheduler")

LEASE_KEY = 7_270_002
LEASE_CHECK_TIMEOUT = 3.0
"""Seconds a lease check may take; a leader whose database does not answer steps down."""
LEASE_KEEPALIVES = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}
"""On the lease connection: the server notices a vanished leader host after about 11 s."""
RECENT_RUNS = 5
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


def find_job(job_id: str) -> JobSpec:
    for spec in JOBS:
        if spec.job_id == job_id:
            return spec
    raise NotFound(_("No job is registered under this name"))


class LeaderLease:
    """Held by at most one process at a time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._connection: AsyncConnection | None = None
        self._file: IO[str] | None = None
        self._io = asyncio.Lock()  # one statement at a time on the lease connection

    async def try_acquire(self) -> bool:
        if self.engine.dialect.name == "postgresql":
            return await self._acquire_advisory_lock()
        return self._acquire_file_lock()

    async def _acquire_advisory_lock(self) -> bool:
        connection = await self.engine.connect()
        try:
            got = await lease_sql.try_advisory_lock(connection, LEASE_KEY)
            if got:
                for name, value in LEASE_KEEPALIVES.items():
                    await lease_sql.set_config(connection, name, value)
            await connection.commit()
        except BaseException:
            await connection.invalidate()
            raise
        if got:
            self._connection = connection
            return True
        await connection.close()
        return False

    def _acquire_file_lock(self) -> bool:
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

    async def verify(self) -> bool:
        """Whether the lease is still ours: on PostgreSQL its connection answers (the lock lives as long)."""
        if self._file is not None:
            return True
        connection = self._connection
        if connection is None:
            return False
        async with self._io:
            try:
                async with asyncio.timeout(LEASE_CHECK_TIMEOUT):
                    await lease_sql.ping(connection)
                    await connection.commit()
            except Exception as exc:
                log.warning("the scheduler lease connection failed: %s", type(exc).__name__)
                return False
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            async with self._io:
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(LEASE_CHECK_TIMEOUT):
                        await lease_sql.advisory_unlock(connection, LEASE_KEY)
                        await connection.commit()
                # Closed, not returned to the pool: should the unlock have failed, the
                # server drops the lock with the connection.
                with contextlib.suppress(Exception):
                    await connection.invalidate()
                with contextlib.suppress(Exception):
                    await connection.close()
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    @property
    def held(self) -> bool:
        return self._connection is not None or self._file is not None


@dataclass(frozen=True)
class RunOutcome:
    run: jobs.JobRun
    """The slot's run as stored after this call."""
    ran: bool
    """Whether this call claimed the slot and finished its run; false when the slot was
    taken already (``run`` is that earlier run) or was taken over while it ran."""


async def execute(
    engine: AsyncEngine,
    spec: JobSpec,
    scheduled_for: dt.datetime,
    *,
    origin: jobs.RunOrigin = jobs.RunOrigin.schedule,
    actor: Principal | None = None,
    max_attempts: int | None = None,
) -> RunOutcome:
    """Claim and run one slot of a job, retrying with backoff."""
    factory = session_factory(engine)
    attempts = max_attempts or spec.max_attempts
    ran = False
    for attempt in range(1, attempts + 1):
        async with factory() as session:
            run = await jobs.claim(session, spec.job_id, scheduled_for, origin=origin, actor=actor)
            await session.commit()
        if run is None:
            break
        try:
            async with factory() as session:
                await spec.func(session, scheduled_for)
                if not await jobs.finish(session, run.id, run.attempts, jobs.RunStatus.succeeded):
                    await session.rollback()
                    log.warning(
                        "job %s slot %s was taken over; its work is rolled back", spec.job_id, scheduled_for
                    )
                    ran = False
                    break
                await session.commit()
        except Exception as exc:
            log.exception("job %s failed (attempt %d)", spec.job_id, attempt)
            async with factory() as session:
                ran = await jobs.finish(
                    session,
                    run.id,
                    run.attempts,
                    jobs.RunStatus.failed,
                    f"{type(exc).__name__}: {exc}"[:4000],
                )
                await session.commit()
            if ran and attempt < attempts:
                await asyncio.sleep(min(2**attempt, 60))
                continue
            break
        ran = True
        break
    async with factory() as session:
        stored = await job_queries.JobRunRepository(session).for_slot(spec.job_id, scheduled_for)
    if stored is None:
        raise RuntimeError(f"job {spec.job_id}: the run of {scheduled_for} is missing")
    return RunOutcome(stored, ran=ran)


async def run_job(engine: AsyncEngine, spec: JobSpec, scheduled_for: dt.datetime) -> bool:
    """Claim and run one scheduled slot; answers whether this call ran it to success."""
    outcome = await execute(engine, spec, scheduled_for)
    return outcome.ran and outcome.run.status is jobs.RunStatus.succeeded


async def run_now(engine: AsyncEngine, job_id: str, *, actor: Principal | None) -> RunOutcome:
    """An admin's run-now: one attempt, claiming the current minute (audited)."""
    spec = find_job(job_id)
    slot = jobs.manual_slot(utcnow())
    return await execute(engine, spec, slot, origin=jobs.RunOrigin.manual, actor=actor, max_attempts=1)


class JobRead(BaseModel):
    job_id: str
    cron: str
    status: jobs.RunStatus | None
    """The newest run's status; none before the first run."""
    last_succeeded_at: dt.datetime | None
    next_run_at: dt.datetime | None
    recent_runs: list[jobs.JobRunRead]


async def job_overview(session: AsyncSession, settings: Settings) -> list[JobRead]:
    """Every registered job with its cron, its newest runs and when it runs next."""
    runs = job_queries.JobRunRepository(session)
    now = utcnow()
    overview: list[JobRead] = []
    for spec in sorted(JOBS, key=lambda s: s.job_id):
        recent = [jobs.JobRunRead.model_validate(r) for r in await runs.recent(spec.job_id, RECENT_RUNS)]
        overview.append(
            JobRead(
                job_id=spec.job_id,
                cron=spec.cron,
                status=recent[0].status if recent else None,
                last_succeeded_at=await runs.last_succeeded(spec.job_id),
                next_run_at=jobs.next_slot(jobs.parse_cron(spec.cron, settings.timezone), now),
                recent_runs=recent,
            )
        )
    return overview


class SeedbedScheduler:
    """One per process; at most one of them, the lease holder, runs APScheduler."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        *,
        poll_seconds: float | None = None,
        lease_check_seconds: float | None = None,
        specs: Sequence[JobSpec] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.lease = LeaderLease(engine)
        self.poll_seconds = poll_seconds or settings.scheduler_poll_seconds
        self.lease_check_seconds = lease_check_seconds or settings.scheduler_lease_check_seconds
        self.grace = dt.timedelta(seconds=settings.scheduler_misfire_grace_seconds)
        self._specs = specs
        self._clock = clock
        self._scheduler: AsyncIOScheduler | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._leading_since: dt.datetime | None = None
        self._runs: set[asyncio.Task[Any]] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def specs(self) -> list[JobSpec]:
        return list(JOBS if self._specs is None else self._specs)

    @property
    def is_leader(self) -> bool:
        return self._scheduler is not None

    async def start(self) -> None:
        if await self.lease.try_acquire():
            await self._lead()
        else:
            log.info(
                "another process holds the scheduler lease; standing by (trying every %g s)",
                self.poll_seconds,
            )
        self._supervisor = asyncio.create_task(self._supervise())

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        if self.is_leader:
            await self._step_down()
            log.info("scheduler stopped; released the scheduler lease (pid %d)", os.getpid())
        else:
            await self.lease.release()

    async def _supervise(self) -> None:
        """The leader watches its lease; a standby tries to take it."""
        while True:
            try:
                if self.is_leader:
                    await asyncio.sleep(self.lease_check_seconds)
                    if not await self.lease.verify():
                        log.warning("lost the scheduler lease (pid %d); stopped scheduling", os.getpid())
                        await self._step_down()
                else:
                    await asyncio.sleep(self.poll_seconds)
                    if await self.lease.try_acquire():
                        await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scheduler lease check failed; trying again")

    async def _lead(self) -> None:
        self._leading_since = self._clock()
        log.info("took the scheduler lease (pid %d); scheduling %d jobs", os.getpid(), len(self.specs))
        try:
            async with session_factory(self.engine)() as session:
                interrupted = await jobs.interrupt_running(session)
                await session.commit()
        except BaseException:
            self._leading_since = None
            await self.lease.release()
            raise
        if interrupted:
            log.warning("%d run(s) of the previous leader were interrupted; they run again", interrupted)
        scheduler = AsyncIOScheduler(
            timezone=self.settings.timezone,
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": int(self.grace.total_seconds()),
                "max_instances": 1,
            },
        )
        for spec in self.specs:
            scheduler.add_job(
                self._fire,
                jobs.parse_cron(spec.cron, self.settings.timezone),
                args=[spec],
                id=spec.job_id,
                replace_existing=True,
            )
        scheduler.start()
        self._scheduler = scheduler
        self._track(asyncio.create_task(self.catch_up()))

    async def _step_down(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        current = asyncio.current_task()
        running = [task for task in self._runs if task is not current]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self.lease.release()
        self._leading_since = None

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._runs.add(task)
        task.add_done_callback(self._runs.discard)

    async def catch_up(self) -> None:
        """Run every job's due slots: what a new leader does first."""
        await asyncio.gather(*(self.run_due(spec) for spec in self.specs))

    async def _fire(self, spec: JobSpec, **_: Any) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._track(task)
        try:
            await self.run_due(spec)
        except asyncio.CancelledError:  # stepping down: not an error of the job
            log.info("job %s stopped mid-run; the next leader runs its slot again", spec.job_id)

    async def run_due(self, spec: JobSpec) -> None:
        """Run the job's due slots, oldest first, while this process holds the lease."""
        lock = self._locks.setdefault(spec.job_id, asyncio.Lock())
        async with lock:
            start = self._leading_since
            if start is None:
                return
            try:
                now = self._clock()
                async with session_factory(self.engine)() as session:
                    plan = await jobs.due_slots(
                        session,
                        spec.job_id,
                        jobs.parse_cron(spec.cron, self.settings.timezone),
                        now=now,
                        grace=self.grace,
                        start=start,
                        max_attempts=spec.max_attempts,
                    )
                    if plan.skipped and await jobs.record_skipped(session, spec.job_id, plan):
                        log.warning(
                            "job %s: %d slot(s) older than the misfire grace skipped",
                            spec.job_id,
                            plan.skipped,
                        )
                    await session.commit()
                if len(plan.run) > 1:
                    log.info("job %s: catching up %d slots from %s", spec.job_id, len(plan.run), plan.run[0])
                for slot in plan.run:
                    if not self.is_leader or not await self.lease.verify():
                        return
                    await run_job(self.engine, spec, slot)
            except Exception:
                log.exception("job %s: could not run its due slots", spec.job_id)
