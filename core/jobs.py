"""Job runs: every run of a job first claims a unique (job, scheduled_for) row.

A *slot* is one fire time of a job's cron, read in the installation's time zone and
stored in UTC. The claim makes a slot run at most once across processes; the leader's
catch-up (``due_slots``) makes it run at least once; so across a failover every slot
runs exactly once. The catch-up reads the job's cron and these rows, never a
scheduler's memory (a new leader has none):

- A job's *watermark* is its newest slot that the scheduler recorded (any status), or a
  manual run that fell on one of its slots.
- **Coalescing rule.** Every slot after the watermark that is no older than the misfire
  grace runs once, oldest first. Slots after the watermark but older than the grace do
  not run: the newest of them is recorded as ``skipped``, its error naming how many were
  skipped and since when (one row, not one per slot: a week's outage of a per-minute job
  writes one row, not ten thousand).
- A job with no recorded slot starts from the moment a leader took the lease, so a new
  job or a new installation runs no backlog.
- A run left ``running`` by a leader that died is marked ``interrupted`` when the next
  leader takes the lease, and runs again if it is inside the grace (its attempt count
  goes up); so does a failed run whose retries were cut short.

A run finishes with a compare-and-set (``… WHERE status = 'running' AND attempts =
:mine``) in the same transaction as the job's work: a runner whose run was taken over
meanwhile rolls its work back instead of committing a second run.

Manual runs (``seedbed jobs run``, ``POST /api/v1/jobs/{id}/run``) claim the minute of
the request: a second one in the same minute finds the row and starts nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core import audit
from core.db import Base, UTCDateTime, utcnow
from core.identity.principal import Principal

MAX_PLANNED_SLOTS = 10_000
"""A catch-up looks at this many slots at most; a longer backlog is worked off over several."""


class RunStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    interrupted = "interrupted"
    skipped = "skipped"


class RunOrigin(StrEnum):
    schedule = "schedule"
    manual = "manual"


class JobRun(Base):
    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_id", "scheduled_for"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(120))
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[RunStatus] = mapped_column(Enum(RunStatus, native_enum=False, length=16))
    origin: Mapped[RunOrigin] = mapped_column(
        Enum(RunOrigin, native_enum=False, length=16), default=RunOrigin.schedule, server_default="schedule"
    )
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


class JobRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    job_id: str
    scheduled_for: dt.datetime
    origin: RunOrigin
    status: RunStatus
    attempts: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None
    requested_by_id: int | None


# -- slots ------------------------------------------------------------------------------


def parse_cron(expression: str, timezone: str) -> CronTrigger:
    """Five fields (minute hour day month weekday) or six with seconds first, as APScheduler reads them."""
    fields = expression.split()
    if len(fields) == 5:
        return CronTrigger.from_crontab(expression, timezone=timezone)
    if len(fields) == 6:
        second, minute, hour, day, month, day_of_week = fields
        return CronTrigger(
            second=second,
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=day_of_week,
            timezone=timezone,
        )
    raise ValueError(f"a cron expression has 5 fields, or 6 with seconds first; got {len(fields)}")


def next_slot(trigger: CronTrigger, after: dt.datetime) -> dt.datetime | None:
    """The first slot strictly after ``after``, in UTC."""
    fire: dt.datetime | None = trigger.get_next_fire_time(after, after)
    return fire.astimezone(dt.UTC) if fire is not None else None


def is_slot(trigger: CronTrigger, moment: dt.datetime) -> bool:
    fire: dt.datetime | None = trigger.get_next_fire_time(None, moment)
    return fire is not None and fire == moment


def manual_slot(now: dt.datetime) -> dt.datetime:
    """The slot a run-now claims: its minute, so a second click in that minute starts nothing."""
    return now.astimezone(dt.UTC).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class SlotPlan:
    run: list[dt.datetime] = field(default_factory=list)
    """Slots to run, oldest first."""
    skipped: int = 0
    first_skipped: dt.datetime | None = None
    last_skipped: dt.datetime | None = None


def plan_slots(
    trigger: CronTrigger,
    after: dt.datetime,
    now: dt.datetime,
    grace: dt.timedelta,
    *,
    limit: int = MAX_PLANNED_SLOTS,
) -> SlotPlan:
    """Slots in ``(after, now]``: those inside the grace to run, the older ones skipped."""
    cutoff = now - grace
    run: list[dt.datetime] = []
    skipped, first, last = 0, None, None
    slot = next_slot(trigger, after)
    while slot is not None and slot <= now and skipped + len(run) < limit:
        if slot < cutoff:
            skipped += 1
            first = first or slot
            last = slot
        else:
            run.append(slot)
        slot = next_slot(trigger, slot)
    return SlotPlan(run=run, skipped=skipped, first_skipped=first, last_skipped=last)


# -- state changes (each a compare-and-set; the caller commits) -----------------------


async def due_slots(
    session: AsyncSession,
    job_id: str,
    trigger: CronTrigger,
    *,
    now: dt.datetime,
    grace: dt.timedelta,
    start: dt.datetime,
    max_attempts: int,
) -> SlotPlan:
    """What a leader runs now for one job (the coalescing rule above); ``start``: when it took the lease."""
    runs = queries.JobRunRepository(session)
    watermark = await runs.watermark(job_id, trigger)
    plan = plan_slots(trigger, watermark or start, now, grace)
    resumed = await runs.resumable(job_id, now - grace, max_attempts)
    return SlotPlan(
        run=sorted(set(plan.run) | set(resumed)),
        skipped=plan.skipped,
        first_skipped=plan.first_skipped,
        last_skipped=plan.last_skipped,
    )


async def record_skipped(session: AsyncSession, job_id: str, plan: SlotPlan) -> JobRun | None:
    """One ``skipped`` row at the newest skipped slot; ``None`` when that slot is taken already."""
    if plan.last_skipped is None or plan.first_skipped is None:
        return None
    now = utcnow()
    run = JobRun(
        job_id=job_id,
        scheduled_for=plan.last_skipped,
        status=RunStatus.skipped,
        origin=RunOrigin.schedule,
        attempts=0,
        started_at=now,
        finished_at=now,
        error=(
            f"{plan.skipped} slot(s) from {plan.first_skipped.isoformat()} to "
            f"{plan.last_skipped.isoformat()} were older than the misfire grace and did not run"
        ),
    )
    return await _insert(session, run)


async def _insert(session: AsyncSession, run: JobRun) -> JobRun | None:
    session.add(run)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        return None
    return run


async def interrupt_running(session: AsyncSession) -> int:
    """Mark scheduled runs still ``running`` as interrupted; called by a leader that just took the lease.

    Only the lease holder runs scheduled slots, so such a run belonged to a leader that
    died or stepped down; if that leader is still finishing it, its compare-and-set now
    fails and its work is rolled back.
    """
    return await queries.interrupt_running(session)


async def claim(
    session: AsyncSession,
    job_id: str,
    scheduled_for: dt.datetime,
    *,
    origin: RunOrigin = RunOrigin.schedule,
    actor: Principal | None = None,
) -> JobRun | None:
    """Claim a slot (committed by the caller). ``None`` when it is taken: running, succeeded or skipped.

    A failed or interrupted run of the slot is taken over, its attempt count raised. A
    manual claim is audited.
    """
    runs = queries.JobRunRepository(session)
    existing = await runs.for_slot(job_id, scheduled_for)
    if existing is not None:
        if existing.status not in (RunStatus.failed, RunStatus.interrupted):
            return None
        if not await queries.take_over(session, existing):
            return None
        await session.refresh(existing)
        run: JobRun | None = existing
    else:
        run = await _insert(
            session,
            JobRun(
                job_id=job_id,
                scheduled_for=scheduled_for,
                status=RunStatus.running,
                origin=origin,
                requested_by_id=actor.user_id if actor else None,
                attempts=1,
            ),
        )
    if run is not None and origin is RunOrigin.manual:
        await audit.record(
            session,
            actor=actor,
            action="job.run",
            subject_type="job_run",
            subject_id=run.id,
            centre_id=None,
            after={"job_id": job_id, "scheduled_for": scheduled_for, "attempt": run.attempts},
        )
    return run


async def finish(
    session: AsyncSession, run_id: int, attempt: int, status: RunStatus, error: str | None = None
) -> bool:
    """End a run this runner holds (its ``attempt``); false when another runner took it over."""
    return await queries.finish(session, run_id, attempt, status, error)


# Last: the repository imports this module's model.
from core.repository import jobs as queries  # noqa: E402
