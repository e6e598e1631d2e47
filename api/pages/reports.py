"""Pages: the report archive, report schedules, and the user's notifications."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import (
    CurrentPrincipal,
    IdPath,
    Pagination,
    SessionDep,
    SettingsDep,
    StaffOrAdmin,
    require_roles,
)
from api.routers.reports import pdf_response, schedule_read
from api.routing import Router
from api.web import register_nav, render
from composition.names import scope_names
from core import notifications
from core.db import utcnow
from core.errors import ValidationFailed
from core.i18n import N_, _
from core.identity import repository as identity_queries
from core.identity.models import Role
from core.identity.principal import Principal
from reports import service, style
from reports.kinds import KINDS, all_kinds
from reports.models import GENERATOR_LABELS, LETTER_STYLE_LABELS, SCOPE_LABELS, LetterStyle, ScopeType
from reports.registry import report_access, report_output
from reports.schemas import ReportStyleIn, ScheduleCreate, ScheduleUpdate

router = Router(include_in_schema=False)

DEFAULT_SCHEDULE_FORM: dict[str, Any] = {
    "kind": "",
    "frequency": "monthly",
    "day": 1,
    "weekday": 0,
    "month": 1,
    "time": "08:00",
    "cron": "0 8 1 * *",
    "recipients": [],
}

ReportReader = Annotated[Principal, Depends(require_roles(Role.staff, Role.admin, Role.finance))]

register_nav("/reports", N_("Reports"), {Role.staff, Role.admin, Role.finance})
register_nav("/report-schedules", N_("Report schedules"), {Role.staff, Role.admin})
register_nav("/report-style", N_("Report style"), {Role.staff, Role.admin})

WEEKDAY_LABELS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
FREQUENCY_LABELS = {
    "monthly": N_("Every month"),
    "weekly": N_("Every week"),
    "quarterly": N_("Every quarter (January, April, July, October)"),
    "yearly": N_("Every year"),
    "cron": N_("Cron expression (for experts)"),
}
SCOPE_FIELDS = {
    ScopeType.organisation: "scope_organisation",
    ScopeType.award: "scope_award",
    ScopeType.contract: "scope_contract",
    ScopeType.programme: "scope_programme",
}


def _kind_label(code: str) -> str:
    kind = KINDS.get(code)
    return _(kind.label) if kind else code


CHOOSER_SOURCES = {
    "scope_organisation": "/choosers/organisations",
    "scope_award": "/choosers/awards",
    "scope_contract": "/choosers/contracts",
}


def _searches(request: Request) -> dict[str, str]:
    """What was typed in the choosers' search boxes ("Find" reloads the page with it)."""
    return {
        f"{field}_q": request.query_params.get(f"{field}_q", "")[:100]
        for field in (*CHOOSER_SOURCES, "recipients")
    }


async def _subjects(
    session: SessionDep,
    principal: Principal,
    searches: dict[str, str] | None = None,
    chosen: dict[str, Any] | None = None,
) -> dict[str, list[tuple[int, str]]]:
    """What each kind of report can be about, in the caller's centre, for the choosers: the
    chosen subject and the first matches of each chooser's search, never the whole centre."""
    from grants.awards.repository import awards_of_centre
    from grants.contracts.repository import contracts_of_centre
    from grants.programmes.repository import programmes_of_centre
    from incubator.repository import organisations_of_centre

    searches = searches or {}
    chosen = chosen or {}

    def picked(field: str) -> list[int]:
        value = chosen.get(field)
        return [value] if isinstance(value, int) else []

    def typed(field: str) -> str:
        return searches.get(f"{field}_q", "")

    centre_id = principal.centre_id
    if centre_id is None:
        return {field: [] for field in SCOPE_FIELDS.values()}
    field = "scope_organisation"
    organisations = await organisations_of_centre(session, centre_id, typed(field), picked(field))
    field = "scope_award"
    awards = await awards_of_centre(session, centre_id, typed(field), picked(field))
    field = "scope_contract"
    contracts = await contracts_of_centre(session, centre_id, typed(field), picked(field))
    return {
        "scope_organisation": organisations,
        "scope_award": awards,
        "scope_contract": contracts,
        "scope_programme": [(p.id, p.name) for p in await programmes_of_centre(session, centre_id)],
    }


def _chosen_scope(kind_code: str, chosen: dict[str, int | None]) -> int | None:
    kind = KINDS.get(kind_code)
    if kind is None or kind.scope_type is ScopeType.centre:
        return None
    scope_id = chosen.get(SCOPE_FIELDS[kind.scope_type])
    if scope_id is None:
        raise ValidationFailed.field(SCOPE_FIELDS[kind.scope_type], _("Choose what the report is about"))
    return scope_id


def _common() -> dict[str, Any]:
    return {
        "kinds": [(k.code, _(k.label), k.period_hint) for k in all_kinds()],
        "kind_scopes": {k.code: k.scope_type.value for k in all_kinds()},
        "scope_fields": [(t.value, field, _(SCOPE_LABELS[t])) for t, field in SCOPE_FIELDS.items()],
        "kind_label": _kind_label,
        "scope_label": lambda s: _(SCOPE_LABELS[s]),
        "generator_label": lambda g: _(GENERATOR_LABELS[g]),
    }


@router.get("/reports")
async def archive_page(
    request: Request,
    session: SessionDep,
    principal: ReportReader,
    pagination: Pagination,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(max_length=32)] = None,
    generated: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    page = await service.list_reports(
        session, principal, pagination, kind=kind or None, period=period or None
    )
    flash = None
    if generated is not None:
        report = await service.get_report(session, principal, generated, report_access())
        flash = _("Report generated: {title} {period}, version {version}").format(
            title=report.title, period=report.period, version=report.version
        )
    return render(
        request,
        "web/reports/archive.html",
        {
            **_common(),
            "subjects": await _subjects(session, principal, _searches(request)),
            "subject_names": await scope_names(
                session, [(str(r.scope_type), r.scope_id) for r in page.items]
            ),
            "searches": _searches(request),
            "chooser_sources": CHOOSER_SOURCES,
            "page": page,
            "kind": kind or "",
            "period": period or "",
            "flash": flash,
            "can_generate": principal.has(Role.staff, Role.admin) and not principal.read_only,
        },
    )


@router.post("/reports/generate")
async def generate_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: StaffOrAdmin,
    kind: Annotated[str, Form(max_length=64)],
    period: Annotated[str, Form(max_length=32)] = "",
    scope_organisation: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    scope_award: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    scope_contract: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    scope_programme: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
) -> Response:
    chosen = {
        "scope_organisation": scope_organisation,
        "scope_award": scope_award,
        "scope_contract": scope_contract,
        "scope_programme": scope_programme,
    }
    report = await service.generate_for(
        session,
        principal,
        report_output(settings),
        kind_code=kind,
        scope_id=_chosen_scope(kind, chosen),
        period=period.strip() or None,
    )
    return RedirectResponse(f"/reports?generated={report.id}", status_code=303)


@router.get("/reports/{report_id:int}/download")
async def download_page(
    report_id: IdPath, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> Response:
    report = await service.get_report(session, principal, report_id, report_access())
    return pdf_response(report, await service.read_pdf(report_output(settings).store, report))


async def _schedules_page(
    request: Request,
    session: SessionDep,
    principal: Principal,
    pagination: Any,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    flash: str | None = None,
    status_code: int = 200,
    preview: list[Any] | None = None,
) -> Response:
    page = await service.list_schedules(session, principal, pagination)
    form = form or {**DEFAULT_SCHEDULE_FORM, **_searches(request)}
    recipients = [r for r in form.get("recipients", []) if isinstance(r, int)]
    users = await identity_queries.user_choices(session, principal, form.get("recipients_q", ""), recipients)
    shown = {uid for s in page.items for uid in (s.recipients or [])}
    now = utcnow()
    return render(
        request,
        "web/reports/schedules.html",
        {
            **_common(),
            "subjects": await _subjects(session, principal, form, form),
            "chooser_sources": CHOOSER_SOURCES,
            "frequencies": [(code, _(label)) for code, label in FREQUENCY_LABELS.items()],
            "weekdays": [_(label) for label in WEEKDAY_LABELS],
            "next_runs": {
                s.id: service.next_runs(s.cron, max(s.last_slot_at or now, now)) if s.active else []
                for s in page.items
            },
            "preview": preview or [],
            "schedules": [schedule_read(s) for s in page.items],
            "page": page,
            "users": users,
            "user_names": await identity_queries.user_names(session, shown),
            "subject_names": await scope_names(
                session, [(str(s.scope_type), s.scope_id) for s in page.items]
            ),
            "errors": errors or {},
            "form": form,
            "flash": flash,
            "can_write": not principal.read_only,
        },
        status_code=status_code,
    )


@router.get("/report-schedules")
async def schedules_page(
    request: Request,
    session: SessionDep,
    principal: StaffOrAdmin,
    pagination: Pagination,
    saved: bool = False,
) -> Response:
    flash = _("Schedule saved") if saved else None
    return await _schedules_page(request, session, principal, pagination, flash=flash)


@router.post("/report-schedules")
async def create_schedule_page(
    request: Request,
    session: SessionDep,
    principal: StaffOrAdmin,
    pagination: Pagination,
    kind: Annotated[str, Form(max_length=64)],
    frequency: Annotated[str, Form(max_length=16)] = "",
    day: Annotated[int, Form(ge=-1000, le=1000)] = 1,
    weekday: Annotated[int, Form(ge=-10, le=10)] = 0,
    month: Annotated[int, Form(ge=-100, le=100)] = 1,
    time: Annotated[str, Form(max_length=8)] = "08:00",
    cron: Annotated[str, Form(max_length=120)] = "",
    action: Annotated[str, Form(max_length=16)] = "save",
    recipients: Annotated[list[int] | None, Form()] = None,
    scope_organisation: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    scope_award: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    scope_contract: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
    scope_programme: Annotated[int | None, Form(ge=1, le=2_147_483_647)] = None,
) -> Response:
    chosen = {
        "scope_organisation": scope_organisation,
        "scope_award": scope_award,
        "scope_contract": scope_contract,
        "scope_programme": scope_programme,
    }
    frequency = frequency or ("cron" if cron.strip() else "monthly")  # a bare cron (API-style posts)
    form: dict[str, Any] = {
        "kind": kind,
        "frequency": frequency,
        "day": day,
        "weekday": weekday,
        "month": month,
        "time": time,
        "cron": cron,
        "recipients": recipients or [],
        **chosen,
    }
    try:
        expression = service.preset_cron(frequency, day=day, weekday=weekday, month=month, at=time, cron=cron)
        form["cron"] = expression
        if action == "preview":
            runs = service.next_runs(expression, utcnow())
            return await _schedules_page(request, session, principal, pagination, form=form, preview=runs)
        data = ScheduleCreate(
            kind=kind, cron=expression, recipients=recipients or [], scope_id=_chosen_scope(kind, chosen)
        )
        await service.create_schedule(session, principal, data)
    except ValidationFailed as exc:
        errors = {d.field: d.message for d in exc.details} or {"cron": exc.message}
        return await _schedules_page(
            request, session, principal, pagination, errors=errors, form=form, status_code=422
        )
    except ValueError:
        errors = {"cron": _("The schedule must have five fields: minute hour day month weekday")}
        return await _schedules_page(
            request, session, principal, pagination, errors=errors, form=form, status_code=422
        )
    return RedirectResponse("/report-schedules?saved=true", status_code=303)


@router.post("/report-schedules/{schedule_id:int}/toggle")
async def toggle_schedule_page(schedule_id: IdPath, session: SessionDep, principal: StaffOrAdmin) -> Response:
    schedule = await service.get_schedule(session, principal, schedule_id)
    await service.update_schedule(session, principal, schedule_id, ScheduleUpdate(active=not schedule.active))
    return RedirectResponse("/report-schedules?saved=true", status_code=303)


@router.post("/report-schedules/{schedule_id:int}/run")
async def run_schedule_page(
    schedule_id: IdPath, session: SessionDep, settings: SettingsDep, principal: StaffOrAdmin
) -> Response:
    report = await service.run_schedule_now(session, principal, report_output(settings), schedule_id)
    return RedirectResponse(f"/reports?generated={report.id}", status_code=303)


def _style_form(current: Any) -> dict[str, Any]:
    return {
        "style": current.style.value,
        "issuing_unit": current.issuing_unit,
        "doc_prefix": current.doc_prefix,
        "evaluating_body": current.evaluating_body,
        "signatories": "\n".join(current.signatories or []),
        "prefixes": dict(current.prefixes or {}),
    }


async def _style_page(
    request: Request,
    form: dict[str, Any],
    *,
    errors: dict[str, str] | None = None,
    flash: str | None = None,
    can_write: bool = True,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "web/reports/style.html",
        {
            "form": form,
            "errors": errors or {},
            "flash": flash,
            "can_write": can_write,
            "styles": [(s.value, _(label)) for s, label in LETTER_STYLE_LABELS.items()],
            "kinds": [(k.code, _(k.label), _(k.number_mark) if k.number_mark else "") for k in all_kinds()],
        },
        status_code=status_code,
    )


@router.get("/report-style")
async def style_page(
    request: Request, session: SessionDep, principal: StaffOrAdmin, saved: bool = False
) -> Response:
    current = await style.get_style(session, principal)
    return await _style_page(
        request,
        _style_form(current),
        flash=_("Report style saved") if saved else None,
        can_write=not principal.read_only,
    )


@router.post("/report-style")
async def save_style_page(request: Request, session: SessionDep, principal: StaffOrAdmin) -> Response:
    raw = await request.form()
    kinds = [k.code for k in all_kinds()]
    form: dict[str, Any] = {
        "style": str(raw.get("style") or "plain")[:16],
        "issuing_unit": str(raw.get("issuing_unit") or "")[:200],
        "doc_prefix": str(raw.get("doc_prefix") or "")[:24],
        "evaluating_body": str(raw.get("evaluating_body") or "")[:200],
        "signatories": str(raw.get("signatories") or "")[:400],
        "prefixes": {code: str(raw.get(f"prefix_{code}") or "")[:24] for code in kinds},
    }
    try:
        data = ReportStyleIn(
            style=LetterStyle(form["style"])
            if form["style"] in LetterStyle.__members__
            else LetterStyle.plain,
            issuing_unit=form["issuing_unit"],
            doc_prefix=form["doc_prefix"],
            evaluating_body=form["evaluating_body"],
            signatories=[line.strip()[:40] for line in form["signatories"].splitlines() if line.strip()][:6],
            prefixes={code: value for code, value in form["prefixes"].items() if value.strip()},
        )
        await style.set_style(session, principal, data)
    except ValidationFailed as exc:
        errors = {d.field: d.message for d in exc.details} or {"style": exc.message}
        return await _style_page(request, form, errors=errors, status_code=422)
    return RedirectResponse("/report-style?saved=true", status_code=303)


@router.get("/notifications")
async def notifications_page(
    request: Request, session: SessionDep, principal: CurrentPrincipal, pagination: Pagination
) -> Response:
    page = await notifications.list_for(session, principal, pagination)
    unread = await notifications.unread_count(session, principal)
    return render(request, "web/reports/notifications.html", {"page": page, "unread": unread})


@router.post("/notifications/{notification_id:int}/read")
async def read_notification_page(
    notification_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    note = await notifications.mark_read(session, principal, notification_id)
    target = note.link if note.link and note.link.startswith("/") and not note.link.startswith("//") else None
    return RedirectResponse(target or "/notifications", status_code=303)


@router.post("/notifications/read-all")
async def read_all_page(session: SessionDep, principal: CurrentPrincipal) -> Response:
    await notifications.mark_all_read(session, principal)
    return RedirectResponse("/notifications", status_code=303)
