"""Generating, archiving, reading and scheduling reports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, notifications
from core.db import utcnow
from core.errors import NotFound, ValidationFailed
from core.i18n import _, use_locale
from core.identity import repository as identity_repository
from core.identity.models import Role
from core.identity.principal import Principal
from core.identity.service import require_writer
from core.repository import Paged, PageParams
from reports.archive import ReportStore, new_key, store_pdf
from reports.kinds import SHANGHAI, ReportKind, get_kind, validate_period
from reports.models import GeneratedReport, Generator, ReportSchedule, ScopeType
from reports.pdf import render_html
from reports.repository import GeneratedReportRepository, ReportScheduleRepository, archive_queries
from reports.schemas import ScheduleCreate, ScheduleUpdate
from reports.style import document_for

TIMEZONE = "Asia/Shanghai"


class Renderer(Protocol):
    async def render(self, html: str) -> bytes: ...


@dataclass(frozen=True)
class ReportOutput:
    """Where reports are rendered and stored (passed in by ``api``, the CLI or a test)."""

    store: ReportStore
    renderer: Renderer
    locale: str = "zh"
    channels: Collection[notifications.Channel] = field(default_factory=tuple)


class ReportAccess(Protocol):
    """Who may read a generated report beyond the centre scoping (404 when not)."""

    async def can_read(
        self, session: AsyncSession, principal: Principal, report: GeneratedReport
    ) -> bool: ...


class CentreStaffAccess:
    """Staff, admins and finance officers of the report's centre (admins and district: all)."""

    async def can_read(self, session: AsyncSession, principal: Principal, report: GeneratedReport) -> bool:
        return principal.in_centre(report.centre_id) and (
            principal.has(Role.staff, Role.admin, Role.finance) or principal.is_district
        )


@dataclass(frozen=True)
class AnyOf:
    """Allowed when any rule allows (the integrator adds applicants' own organisation reports)."""

    rules: Sequence[ReportAccess]

    async def can_read(self, session: AsyncSession, principal: Principal, report: GeneratedReport) -> bool:
        for rule in self.rules:
            if await rule.can_read(session, principal, report):
                return True
        return False


# --- generation -------------------------------------------------------------------------


async def generate(
    session: AsyncSession,
    output: ReportOutput,
    *,
    kind_code: str,
    scope_id: int,
    period: str,
    generator: Generator,
    generator_ref: str = "",
    actor: Principal | None = None,
) -> GeneratedReport:
    """Build, render, store atomically, then list (flush). A failure leaves nothing listed."""
    kind = get_kind(kind_code)
    validate_period(kind, period)
    centre_id = await kind.centre_of(session, scope_id)
    if centre_id is None or (actor is not None and not actor.in_centre(centre_id)):
        raise NotFound(_("The subject of this report was not found"))
    with use_locale(output.locale):
        context = await kind.builder(session, scope_id, period)
        document = await document_for(
            session, kind, centre_id, utcnow(), actor=actor, with_evaluation=kind.evaluated
        )
        context["document"] = document
        html = render_html(kind.template, context, locale=output.locale)
    pdf = await output.renderer.render(html)

    version = await archive_queries(session).next_version(
        centre_id, kind.code, kind.scope_type, scope_id, period
    )
    key = new_key(centre_id, kind.code, f"{kind.scope_type.value}-{scope_id}", period, version)
    stored = await store_pdf(output.store, key, pdf)
    try:
        report = GeneratedReport(
            centre_id=centre_id,
            kind=kind.code,
            scope_type=kind.scope_type,
            scope_id=scope_id,
            period=period,
            version=version,
            title=str(context.get("title") or kind.code)[:300],
            generator=generator,
            generator_ref=generator_ref[:120],
            size=stored.size,
            sha256=stored.sha256,
            storage_key=stored.key,
            doc_number=document.doc_number,
            created_at=utcnow(),
        )
        session.add(report)
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="report.generate",
            subject_type="generated_report",
            subject_id=report.id,
            centre_id=centre_id,
            after={
                "kind": kind.code,
                "scope": f"{kind.scope_type.value}:{scope_id}",
                "period": period,
                "version": version,
                "sha256": stored.sha256,
                "doc_number": document.doc_number,
                "generator": f"{generator.value}:{generator_ref}",
            },
        )
    except BaseException:
        await output.store.delete(key)
        raise
    return report


async def generate_for(
    session: AsyncSession,
    principal: Principal,
    output: ReportOutput,
    *,
    kind_code: str,
    scope_id: int | None,
    period: str | None,
) -> GeneratedReport:
    require_writer(principal)
    kind = get_kind(kind_code)
    resolved_scope = _default_scope(kind, principal, scope_id)
    chosen_period = period or kind.period_for(utcnow().astimezone(SHANGHAI))
    return await generate(
        session,
        output,
        kind_code=kind.code,
        scope_id=resolved_scope,
        period=chosen_period,
        generator=Generator.user,
        generator_ref=str(principal.user_id),
        actor=principal,
    )


def _default_scope(kind: ReportKind, principal: Principal, scope_id: int | None) -> int:
    if scope_id is not None:
        return scope_id
    if kind.scope_type is ScopeType.centre and principal.centre_id is not None:
        return principal.centre_id
    raise ValidationFailed.field("scope_id", _("Choose what the report is about"))


# --- reading ----------------------------------------------------------------------------


async def list_reports(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    kind: str | None = None,
    scope_type: ScopeType | None = None,
    scope_id: int | None = None,
    period: str | None = None,
) -> Paged[GeneratedReport]:
    repository = GeneratedReportRepository(session, principal)
    statement = repository.filtered(kind=kind, scope_type=scope_type, scope_id=scope_id, period=period)
    return await repository.paginate(statement, params)


async def get_report(
    session: AsyncSession, principal: Principal, report_id: int, access: ReportAccess
) -> GeneratedReport:
    """404 for other centres and for anyone the access rule does not admit."""
    report = await GeneratedReportRepository(session, principal).get(report_id)
    if not await access.can_read(session, principal, report):
        raise NotFound(_("Report not found"))
    return report


async def read_pdf(store: ReportStore, report: GeneratedReport) -> bytes:
    import hashlib

    data = await store.get(report.storage_key)
    if hashlib.sha256(data).hexdigest() != report.sha256:
        raise RuntimeError(f"report {report.id}: the stored file does not match its SHA-256")
    return data


# --- schedules --------------------------------------------------------------------------


def parse_cron(expression: str) -> CronTrigger:
    """A five-field crontab in Asia/Shanghai; a bad one is a 422 naming ``cron``."""
    text = " ".join(expression.split())
    if len(text.split(" ")) != 5:
        raise ValidationFailed.field(
            "cron", _("The schedule must have five fields: minute hour day month weekday")
        )
    try:
        return CronTrigger.from_crontab(text, timezone=TIMEZONE)
    except (ValueError, KeyError) as exc:
        raise ValidationFailed.field(
            "cron", _("The schedule is not a valid cron expression: {error}").format(error=str(exc)[:120])
        ) from exc


def next_fire(cron: str, after: dt.datetime) -> dt.datetime | None:
    trigger = parse_cron(cron)
    fire: dt.datetime | None = trigger.get_next_fire_time(None, after)
    return fire.astimezone(dt.UTC) if fire else None


def _following(trigger: CronTrigger, fire: dt.datetime) -> dt.datetime | None:
    result: dt.datetime | None = trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return result


def _latest_from(trigger: CronTrigger, fire: dt.datetime, now: dt.datetime, limit: int) -> dt.datetime:
    latest = fire
    for _step in range(limit):
        following = _following(trigger, latest)
        if following is None or following > now:
            break
        latest = following
    return latest.astimezone(dt.UTC)


def due_slot(cron: str, since: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The latest fire time in ``(since, now]``, or ``None``: missed slots coalesce into one."""
    trigger = parse_cron(cron)
    first: dt.datetime | None = trigger.get_next_fire_time(None, since + dt.timedelta(seconds=1))
    if first is None or first > now:
        return None
    # Search a growing window back from now so the forward walk stays short.
    for window in (
        dt.timedelta(minutes=2),
        dt.timedelta(hours=2),
        dt.timedelta(days=2),
        dt.timedelta(days=40),
    ):
        fire: dt.datetime | None = trigger.get_next_fire_time(None, max(now - window, first))
        if fire is not None and fire <= now:
            return _latest_from(trigger, fire, now, 10_000)
    return _latest_from(trigger, first, now, 1_000_000)


async def _check_recipients(session: AsyncSession, centre_id: int, recipients: list[int]) -> list[int]:
    unique = sorted(set(recipients))
    if not unique:
        return []
    found = await identity_repository.user_ids_in_centre(session, centre_id, unique)
    if found != set(unique):
        raise ValidationFailed.field("recipients", _("Recipients must be users of this centre"))
    return unique


async def create_schedule(
    session: AsyncSession, principal: Principal, data: ScheduleCreate
) -> ReportSchedule:
    require_writer(principal)
    kind = get_kind(data.kind)
    if data.scope_type is not None and data.scope_type is not kind.scope_type:
        raise ValidationFailed.field("scope_type", _("This report kind is about another kind of subject"))
    parse_cron(data.cron)
    scope_id = _default_scope(kind, principal, data.scope_id)
    centre_id = await kind.centre_of(session, scope_id)
    if centre_id is None or not principal.in_centre(centre_id):
        raise NotFound(_("The subject of this report was not found"))
    schedule = ReportSchedule(
        centre_id=centre_id,
        kind=kind.code,
        scope_type=kind.scope_type,
        scope_id=scope_id,
        cron=" ".join(data.cron.split()),
        active=data.active,
        recipients=await _check_recipients(session, centre_id, data.recipients),
        last_slot_at=utcnow(),
        created_by=principal.user_id,
    )
    session.add(schedule)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="report_schedule.create",
        subject_type="report_schedule",
        subject_id=schedule.id,
        centre_id=centre_id,
        after=_snapshot(schedule),
    )
    return schedule


def _snapshot(schedule: ReportSchedule) -> dict[str, object]:
    return {
        "kind": schedule.kind,
        "scope": f"{schedule.scope_type.value}:{schedule.scope_id}",
        "cron": schedule.cron,
        "active": schedule.active,
        "recipients": list(schedule.recipients or []),
    }


async def update_schedule(
    session: AsyncSession, principal: Principal, schedule_id: int, data: ScheduleUpdate
) -> ReportSchedule:
    require_writer(principal)
    schedule = await ReportScheduleRepository(session, principal).get(schedule_id)
    before = _snapshot(schedule)
    if data.cron is not None:
        parse_cron(data.cron)
        schedule.cron = " ".join(data.cron.split())
    if data.recipients is not None:
        schedule.recipients = await _check_recipients(session, schedule.centre_id, data.recipients)
    if data.active is not None and data.active != schedule.active:
        schedule.active = data.active
        if data.active:
            # Re-activated: start from now, do not catch up on the paused period.
            schedule.last_slot_at = utcnow()
    await session.flush()
    after = _snapshot(schedule)
    if after != before:
        await audit.record(
            session,
            actor=principal,
            action="report_schedule.update",
            subject_type="report_schedule",
            subject_id=schedule.id,
            centre_id=schedule.centre_id,
            before=before,
            after=after,
        )
    return schedule


async def get_schedule(session: AsyncSession, principal: Principal, schedule_id: int) -> ReportSchedule:
    return await ReportScheduleRepository(session, principal).get(schedule_id)


async def list_schedules(
    session: AsyncSession, principal: Principal, params: PageParams
) -> Paged[ReportSchedule]:
    repository = ReportScheduleRepository(session, principal)
    return await repository.paginate(repository.ordered(), params)


async def _notify_recipients(
    session: AsyncSession, output: ReportOutput, schedule: ReportSchedule, report: GeneratedReport
) -> None:
    recipients = list(schedule.recipients or [])
    if not recipients:
        return
    with use_locale(output.locale):
        await notifications.remind(
            session,
            recipients,
            "report.ready",
            _("Report ready: {title} ({period})").format(title=report.title, period=report.period),
            _("Version {version}, generated {at}").format(
                version=report.version, at=report.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            ),
            f"/reports/{report.id}/download",
            channels=output.channels,
        )


async def run_schedule_slot(
    session: AsyncSession, output: ReportOutput, schedule_id: int, slot: dt.datetime
) -> GeneratedReport | None:
    """One scheduled run (called once per slot through the job-run claim)."""
    schedule = await archive_queries(session).schedule(schedule_id)
    if schedule is None or not schedule.active:
        return None
    kind = get_kind(schedule.kind)
    report = await generate(
        session,
        output,
        kind_code=schedule.kind,
        scope_id=schedule.scope_id,
        period=kind.period_for(slot.astimezone(SHANGHAI)),
        generator=Generator.schedule,
        generator_ref=str(schedule.id),
    )
    schedule.last_slot_at = slot
    schedule.last_report_id = report.id
    await session.flush()
    await _notify_recipients(session, output, schedule, report)
    return report


async def run_schedule_now(
    session: AsyncSession, principal: Principal, output: ReportOutput, schedule_id: int
) -> GeneratedReport:
    require_writer(principal)
    schedule = await ReportScheduleRepository(session, principal).get(schedule_id)
    kind = get_kind(schedule.kind)
    report = await generate(
        session,
        output,
        kind_code=schedule.kind,
        scope_id=schedule.scope_id,
        period=kind.period_for(utcnow().astimezone(SHANGHAI)),
        generator=Generator.user,
        generator_ref=str(principal.user_id),
        actor=principal,
    )
    schedule.last_report_id = report.id
    await session.flush()
    await _notify_recipients(session, output, schedule, report)
    return report


# --- schedule presets -----------------------------------------------------------------------

FREQUENCIES = ("monthly", "weekly", "quarterly", "yearly", "cron")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def preset_cron(
    frequency: str, *, day: int = 1, weekday: int = 0, month: int = 1, at: str = "08:00", cron: str = ""
) -> str:
    """每月 N 日 / 每周 X / 每季度 / 每年 at a time, as a five-field cron (``cron`` as given)."""
    if frequency == "cron":
        parse_cron(cron)
        return " ".join(cron.split())
    if frequency not in FREQUENCIES:
        raise ValidationFailed.field("frequency", _("Choose how often the report runs"))
    try:
        hour_text, minute_text = at.split(":", 1)
        hour, minute = int(hour_text), int(minute_text)
    except ValueError as exc:
        raise ValidationFailed.field("time", _("The time must look like 08:30")) from exc
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValidationFailed.field("time", _("The time must look like 08:30"))
    if frequency == "weekly":
        if not 0 <= weekday <= 6:
            raise ValidationFailed.field("weekday", _("Choose a day of the week"))
        return f"{minute} {hour} * * {WEEKDAYS[weekday]}"
    if not 1 <= day <= 28:
        raise ValidationFailed.field("day", _("The day must be between 1 and 28 (every month has it)"))
    if frequency == "monthly":
        return f"{minute} {hour} {day} * *"
    if frequency == "quarterly":
        return f"{minute} {hour} {day} 1,4,7,10 *"
    if not 1 <= month <= 12:
        raise ValidationFailed.field("month", _("Choose a month"))
    return f"{minute} {hour} {day} {month} *"


def next_runs(cron: str, after: dt.datetime, count: int = 3) -> list[dt.datetime]:
    """The next ``count`` fire times (UTC) after ``after``."""
    trigger = parse_cron(cron)
    runs: list[dt.datetime] = []
    previous: dt.datetime | None = None
    moment = after
    for _step in range(count):
        fire: dt.datetime | None = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        runs.append(fire.astimezone(dt.UTC))
        previous, moment = fire, fire + dt.timedelta(seconds=1)
    return runs
