"""Pages: the report archive, report schedules, and the user's notifications."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
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
from api.web import register_nav, render
from core import notifications
from core.errors import ValidationFailed
from core.i18n import N_, _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from reports import service
from reports.kinds import KINDS, all_kinds
from reports.models import GENERATOR_LABELS, SCOPE_LABELS
from reports.registry import report_access, report_output
from reports.schemas import ScheduleCreate, ScheduleUpdate

router = APIRouter(include_in_schema=False)

ReportReader = Annotated[Principal, Depends(require_roles(Role.staff, Role.admin, Role.finance))]

register_nav("/reports", N_("Reports"), {Role.staff, Role.admin, Role.finance})
register_nav("/report-schedules", N_("Report schedules"), {Role.staff, Role.admin})


def _kind_label(code: str) -> str:
    kind = KINDS.get(code)
    return _(kind.label) if kind else code


def _common() -> dict[str, Any]:
    return {
        "kinds": [(k.code, _(k.label), k.period_hint) for k in all_kinds()],
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
) -> Response:
    report = await service.generate_for(
        session,
        principal,
        report_output(settings),
        kind_code=kind,
        scope_id=None,
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
) -> Response:
    page = await service.list_schedules(session, principal, pagination)
    users = [u for u in await identity.list_users(session, principal) if u.is_active]
    return render(
        request,
        "web/reports/schedules.html",
        {
            **_common(),
            "schedules": [schedule_read(s) for s in page.items],
            "page": page,
            "users": users,
            "user_names": {u.id: u.full_name or u.email for u in users},
            "errors": errors or {},
            "form": form or {"kind": "", "cron": "0 8 1 * *", "recipients": []},
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
    cron: Annotated[str, Form(max_length=120)],
    recipients: Annotated[list[int] | None, Form()] = None,
) -> Response:
    form = {"kind": kind, "cron": cron, "recipients": recipients or []}
    try:
        data = ScheduleCreate(kind=kind, cron=cron, recipients=recipients or [])
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
