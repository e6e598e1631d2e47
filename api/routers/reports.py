"""Reports: the archive, downloads, on-demand generation and schedules."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import (
    CurrentPrincipal,
    IdPath,
    Pagination,
    SessionDep,
    SettingsDep,
    StaffOrAdmin,
    require_roles,
)
from api.routing import Router
from api.schemas import ListResponse
from core.db import utcnow
from core.i18n import _
from core.identity.models import Role
from core.identity.principal import Principal
from reports import service, style
from reports.kinds import all_kinds
from reports.models import GeneratedReport, ReportSchedule, ScopeType
from reports.registry import report_access, report_output
from reports.schemas import (
    ReportGenerate,
    ReportRead,
    ReportStyleIn,
    ReportStyleRead,
    ScheduleCreate,
    ScheduleRead,
    ScheduleUpdate,
)

router = Router(prefix="/api/v1", tags=["reports"])

ReportReader = Annotated[Principal, Depends(require_roles(Role.staff, Role.admin, Role.finance))]


class ReportKindRead(BaseModel):
    code: str
    label: str
    scope_type: ScopeType
    period_hint: str


def report_read(report: GeneratedReport) -> ReportRead:
    read = ReportRead.model_validate(report)
    read.download_url = f"/api/v1/reports/{report.id}/download"
    return read


def schedule_read(schedule: ReportSchedule) -> ScheduleRead:
    read = ScheduleRead.model_validate(schedule)
    if schedule.active:
        now = utcnow()
        read.next_run_at = service.next_fire(schedule.cron, max(schedule.last_slot_at or now, now))
    return read


def pdf_response(report: GeneratedReport, data: bytes) -> Response:
    filename = f"seedbed-{report.kind}-{report.period}-v{report.version}.pdf"
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-SHA256": report.sha256,
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/report-kinds", response_model=list[ReportKindRead])
async def list_kinds(principal: ReportReader) -> list[ReportKindRead]:
    return [
        ReportKindRead(code=k.code, label=_(k.label), scope_type=k.scope_type, period_hint=k.period_hint)
        for k in all_kinds()
    ]


@router.get("/reports", response_model=ListResponse[ReportRead])
async def list_reports(
    session: SessionDep,
    principal: ReportReader,
    pagination: Pagination,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    scope_type: ScopeType | None = None,
    scope_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    period: Annotated[str | None, Query(max_length=32)] = None,
) -> ListResponse[ReportRead]:
    page = await service.list_reports(
        session, principal, pagination, kind=kind, scope_type=scope_type, scope_id=scope_id, period=period
    )
    return ListResponse.of_page(page, [report_read(r) for r in page.items])


@router.post("/reports", response_model=ReportRead, status_code=201)
async def generate_report(
    data: ReportGenerate, session: SessionDep, settings: SettingsDep, principal: StaffOrAdmin
) -> ReportRead:
    report = await service.generate_for(
        session,
        principal,
        report_output(settings),
        kind_code=data.kind,
        scope_id=data.scope_id,
        period=data.period,
    )
    return report_read(report)


@router.get("/reports/{report_id:int}", response_model=ReportRead)
async def get_report(report_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> ReportRead:
    return report_read(await service.get_report(session, principal, report_id, report_access()))


@router.get(
    "/reports/{report_id:int}/download",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "the PDF"}},
)
async def download_report(
    report_id: IdPath, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> Response:
    report = await service.get_report(session, principal, report_id, report_access())
    return pdf_response(report, await service.read_pdf(report_output(settings).store, report))


@router.get("/report-schedules", response_model=ListResponse[ScheduleRead])
async def list_schedules(
    session: SessionDep, principal: StaffOrAdmin, pagination: Pagination
) -> ListResponse[ScheduleRead]:
    page = await service.list_schedules(session, principal, pagination)
    return ListResponse.of_page(page, [schedule_read(s) for s in page.items])


@router.post("/report-schedules", response_model=ScheduleRead, status_code=201)
async def create_schedule(data: ScheduleCreate, session: SessionDep, principal: StaffOrAdmin) -> ScheduleRead:
    return schedule_read(await service.create_schedule(session, principal, data))


@router.get("/report-schedules/{schedule_id:int}", response_model=ScheduleRead)
async def get_schedule(schedule_id: IdPath, session: SessionDep, principal: StaffOrAdmin) -> ScheduleRead:
    return schedule_read(await service.get_schedule(session, principal, schedule_id))


@router.patch("/report-schedules/{schedule_id:int}", response_model=ScheduleRead)
async def update_schedule(
    schedule_id: IdPath, data: ScheduleUpdate, session: SessionDep, principal: StaffOrAdmin
) -> ScheduleRead:
    return schedule_read(await service.update_schedule(session, principal, schedule_id, data))


@router.post("/report-schedules/{schedule_id:int}/run", response_model=ReportRead, status_code=201)
async def run_schedule(
    schedule_id: IdPath, session: SessionDep, settings: SettingsDep, principal: StaffOrAdmin
) -> ReportRead:
    report = await service.run_schedule_now(session, principal, report_output(settings), schedule_id)
    return report_read(report)


@router.get("/report-style", response_model=ReportStyleRead)
async def get_report_style(session: SessionDep, principal: StaffOrAdmin) -> ReportStyleRead:
    """The caller's centre's report style: plain working papers or official documents."""
    return ReportStyleRead.model_validate(await style.get_style(session, principal))


@router.put("/report-style", response_model=ReportStyleRead)
async def put_report_style(
    data: ReportStyleIn, session: SessionDep, principal: StaffOrAdmin
) -> ReportStyleRead:
    return ReportStyleRead.model_validate(await style.set_style(session, principal, data))
