"""The registry of reports: kinds, who may read them, storage, renderer and schedules.

Report kinds are registered here (``register_report_kinds``) with builders that read the
other domains through those domains' services and repositories; other domains extend who
may read a report (``register_report_access``) and map their events to report kinds
(``reports.events.on``). The jobs that generate scheduled reports run under the one
scheduler (``core.scheduler``); the composition root (``composition.jobs``) registers them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core import notifications
from core.db import session_factory, utcnow
from core.identity.principal import Principal
from core.scheduler import JobSpec, run_job
from core.settings import Settings, get_settings
from reports import assessment, briefing, cultivation, events, fund_statement, incubation, jobs, programme
from reports.archive import FilesystemReportStore
from reports.kinds import SHANGHAI, get_kind
from reports.models import GeneratedReport, Generator, ScopeType
from reports.pdf import get_renderer
from reports.service import AnyOf, CentreStaffAccess, ReportAccess, ReportOutput, generate


class OwnOrganisationAccess:
    """Applicants read the reports about their own organisation and its projects."""

    async def can_read(self, session: AsyncSession, principal: Principal, report: GeneratedReport) -> bool:
        from incubator import repository as incubator_queries

        mine = {o.id for o in await incubator_queries.organisations_of(session, principal.user_id)}
        if not mine:
            return False
        if report.scope_type is ScopeType.organisation:
            return report.scope_id in mine
        if report.scope_type is ScopeType.award:
            from grants.awards.repository import award_organisation

            return await award_organisation(session, report.scope_id) in mine
        return False


ACCESS_RULES: list[ReportAccess] = [
    CentreStaffAccess(),
    OwnOrganisationAccess(),
    cultivation.StationCommunityAccess(),
]


def register_report_kinds() -> None:
    """Every report kind of every domain (idempotent)."""
    briefing.register()
    incubation.register()
    programme.register()
    assessment.register()
    cultivation.register()
    fund_statement.register()
    events.on("award.evaluation_finalised", assessment.AWARD_KIND)
    events.on("contract.evaluation_finalised", assessment.CONTRACT_KIND)


def register_report_access(rule: ReportAccess) -> None:
    ACCESS_RULES.append(rule)


def report_access() -> ReportAccess:
    return AnyOf(tuple(ACCESS_RULES))


def report_output(settings: Settings) -> ReportOutput:
    return ReportOutput(
        store=FilesystemReportStore(settings.reports_dir),
        renderer=get_renderer(settings.report_workers),
        locale=settings.default_locale,
        channels=tuple(notifications.configured_channels(settings)),
    )


def slot_runner(engine: AsyncEngine) -> jobs.SlotRunner:
    async def run(job_id: str, slot: dt.datetime, work: jobs.JobFunc) -> bool:
        return await run_job(engine, JobSpec(job_id, "* * * * *", work, max_attempts=3), slot)

    return run


async def run_due_report_schedules(session: AsyncSession, scheduled_for: dt.datetime) -> None:
    """The every-minute job: the given session only identifies the engine."""
    engine = session.bind
    if not isinstance(engine, AsyncEngine):
        raise RuntimeError("the report schedule job needs a session bound to an engine")
    register_report_kinds()
    await jobs.run_due_schedules(
        session_factory(engine),
        scheduled_for,
        output=report_output(get_settings()),
        run_slot=slot_runner(engine),
    )


async def deliver_notifications(session: AsyncSession, scheduled_for: dt.datetime) -> None:
    """The outbox job (email, 企业微信) for every domain's reminders."""
    await notifications.deliver_due(session, get_settings(), scheduled_for)


async def generate_from_cli(
    session: AsyncSession, settings: Settings, kind_code: str, scope_id: int | None, period: str | None
) -> GeneratedReport:
    """``seedbed reports run KIND``: centre reports default to the only centre, if there is one."""
    from core.identity.repository import some_centre_ids

    register_report_kinds()
    kind = get_kind(kind_code)
    if scope_id is None:
        centres = list(await some_centre_ids(session, 2))
        if kind.scope_type is not ScopeType.centre or len(centres) != 1:
            raise ValueError("--scope-id is required")
        scope_id = centres[0]
    output = report_output(settings)
    try:
        return await generate(
            session,
            output,
            kind_code=kind.code,
            scope_id=scope_id,
            period=period or kind.period_for(utcnow().astimezone(SHANGHAI)),
            generator=Generator.cli,
            generator_ref="seedbed reports run",
        )
    finally:
        get_renderer(settings.report_workers).shutdown()


def report_jobs() -> list[JobSpec]:
    return [
        JobSpec("reports.run_schedules", "* * * * *", run_due_report_schedules, max_attempts=1),
        JobSpec("notifications.deliver", "* * * * *", deliver_notifications, max_attempts=1),
    ]


register_report_kinds()
