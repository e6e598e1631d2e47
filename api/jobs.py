"""Every scheduled job of every domain, registered with the one scheduler."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from api import reporting
from api.scheduler import JobSpec, register_job
from core.clock import today
from core.identity import service as identity
from grants import service as grants_service


async def _purge_auth(session: AsyncSession, scheduled_for: dt.datetime) -> None:
    await identity.purge_expired(session, scheduled_for)


async def _finalise_publicity(session: AsyncSession, scheduled_for: dt.datetime) -> None:
    await grants_service.finalise_publicity(session, today())


def register_all() -> None:
    register_job(JobSpec("grants.finalise_publicity", "*/30 * * * *", _finalise_publicity))
    register_job(JobSpec("identity.purge_expired", "17 * * * *", _purge_auth))
    for spec in reporting.report_jobs():
        register_job(spec)
