"""Scheduled jobs for admins: what runs when, how the last runs went, and run-now."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Path, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from api.deps import AdminUser, SessionDep, SettingsDep
from api.routing import Router
from api.schemas import ListResponse
from composition.jobs import register_all
from core.errors import Conflict
from core.i18n import _
from core.jobs import JobRunRead
from core.scheduler import JobRead, find_job, job_overview, run_now

router = Router(prefix="/api/v1", tags=["jobs"])

JobIdPath = Annotated[str, Path(max_length=120, description="e.g. scheduler.heartbeat")]


@router.get("/jobs", response_model=ListResponse[JobRead])
async def list_jobs(session: SessionDep, admin: AdminUser, settings: SettingsDep) -> ListResponse[JobRead]:
    """Every registered job with its cron, its newest runs and their status (``scheduler.heartbeat``
    shows whether a scheduler is leading)."""
    register_all(settings)
    items = await job_overview(session, settings)
    return ListResponse.whole(items)


@router.post("/jobs/{job_id}/run", response_model=JobRunRead, status_code=201)
async def run_job_now(
    job_id: JobIdPath, request: Request, session: SessionDep, admin: AdminUser, settings: SettingsDep
) -> JobRunRead:
    """Run a job now, once per minute: a second run-now in the same minute is a 409 naming the first run."""
    register_all(settings)
    find_job(job_id)
    # The run commits its own transactions (claim, work, result), as a scheduled run does;
    # end the request's own transaction first, so that SQLite's one writer is free for them.
    await session.commit()
    engine: AsyncEngine = request.app.state.engine
    outcome = await run_now(engine, job_id, actor=admin)
    if not outcome.ran:
        slot = outcome.run.scheduled_for.astimezone(ZoneInfo(settings.timezone))
        raise Conflict(
            _("This job was already run for {minute} (run {run_id}); nothing new was started").format(
                minute=slot.strftime("%Y-%m-%d %H:%M"), run_id=outcome.run.id
            )
        )
    return JobRunRead.model_validate(outcome.run)
