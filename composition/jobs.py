"""Every scheduled job of every domain, registered with the one scheduler."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from core import idempotency
from core.clock import today
from core.identity import repository as identity_queries
from core.notifications import configured_channels
from core.reminders import ReminderJob
from core.scheduler import JobFunc, JobSpec, register_job
from core.settings import Settings, get_settings
from cultivation import jobs as cultivation_jobs
from evaluations import jobs as evaluation_jobs
from grants import jobs as grants_jobs
from grants.applications import publicity
from reports import registry


async def _purge_auth(session: AsyncSession, scheduled_for: dt.datetime) -> None:
    await identity_queries.purge_expired(session, scheduled_for)


async def _heartbeat(session: AsyncSession, scheduled_for: dt.datetime) -> None:
    """Nothing to do: its recorded run is the proof that a scheduler leads and runs jobs on time."""


async def _purge_idempotency_keys(session: AsyncSession, scheduled_for: dt.datetime) -> None:
    retention = dt.timedelta(hours=get_settings().idempotency_retention_hours)
    await idempotency.purge_expired(session, scheduled_for, retention)


async def _finalise_publicity(session: AsyncSession, scheduled_for: dt.datetime) -> None:
    await publicity.finalise_publicity(session, today())


def _reminder(job: ReminderJob) -> JobFunc:
    """A domain reminder job with the channels this installation has configured."""

    async def run(session: AsyncSession, scheduled_for: dt.datetime) -> None:
        await job(session, scheduled_for, channels=configured_channels(get_settings()))

    return run


HEARTBEAT_JOB = "scheduler.heartbeat"

REMINDERS: list[tuple[str, ReminderJob]] = [
    ("grants.remind_application_deadlines", grants_jobs.remind_application_deadlines),
    ("grants.remind_progress_reports", grants_jobs.remind_progress_reports),
    ("grants.remind_waiting_tranches", grants_jobs.remind_waiting_tranches),
    ("evaluations.remind_reviews_due", evaluation_jobs.remind_reviews_due),
]


def register_all(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    register_job(JobSpec(HEARTBEAT_JOB, settings.scheduler_heartbeat_cron, _heartbeat, max_attempts=1))
    for job_id, job in REMINDERS:
        register_job(JobSpec(job_id, "30 8 * * *", _reminder(job)))  # daily 08:30 Asia/Shanghai
    register_job(JobSpec("grants.finalise_publicity", "*/30 * * * *", _finalise_publicity))
    register_job(
        JobSpec(
            "cultivation.remind_targets_behind",
            cultivation_jobs.CRON,
            _reminder(cultivation_jobs.remind_targets_behind),
        )
    )
    register_job(JobSpec("identity.purge_expired", "17 * * * *", _purge_auth))
    register_job(JobSpec("idempotency.purge_expired", "41 * * * *", _purge_idempotency_keys))
    for spec in registry.report_jobs():
        register_job(spec)
