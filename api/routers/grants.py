"""Programmes, needs and topics, applications, eligibility, decision, publicity, objections, open data."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy import select

from api.deps import (
    AdminUser,
    CurrentPrincipal,
    IdPath,
    Pagination,
    SessionDep,
    SettingsDep,
    StaffOrAdmin,
    StaffUser,
    client_address,
    counted_attempt,
)
from api.errors import register_field_labels
from api.schemas import ListResponse
from core.clock import today
from core.errors import Forbidden, NotFound, ValidationFailed
from core.fields import Day, RequestModel
from core.files import FileStore, StoredFile, store_upload
from core.i18n import N_, _
from core.identity import service as identity
from core.identity.models import Role
from core.money import dumps_exact
from grants import calendar, service
from grants.exports import grants_package
from grants.models import (
    Application,
    ApplicationAttachment,
    ApplicationState,
    ObjectionState,
    Programme,
    ProgrammeState,
)
from grants.schemas import (
    ApplicationBrief,
    ApplicationCreate,
    ApplicationIn,
    ApplicationOut,
    CalendarYearIn,
    ConfirmEligibility,
    DecideIn,
    EligibilityOut,
    NeedIn,
    NeedOut,
    ObjectionIn,
    ObjectionOut,
    ProgrammeCreate,
    ProgrammeOut,
    ProgrammeUpdate,
    PublicityItem,
    ReasonIn,
    ResolveObjection,
    TopicIn,
    TopicOut,
)

# Documented bound of an upload (the settings' upload limit, 20 MB by default, is enforced).
UPLOAD_DOC_MAX = 20 * 1024 * 1024

router = APIRouter(prefix="/api/v1", tags=["grants"])
public_router = APIRouter(prefix="/api/v1", tags=["public"])

register_field_labels(
    {
        "year": N_("Year"),
        "total_budget": N_("Total budget"),
        "max_award_registered": N_("Maximum award (registered organisations)"),
        "max_award_community": N_("Maximum award (filed and resident groups)"),
        "min_cofunding_pct": N_("Minimum co-funding (%)"),
        "management_fee_cap_pct": N_("Management fee cap (%)"),
        "personnel_cap_pct": N_("Personnel cost cap (%)"),
        "opens_at": N_("Opens"),
        "closes_at": N_("Closes"),
        "tranche_plan": N_("Tranche plan"),
        "share_pct": N_("Share (%)"),
        "categories": N_("Categories"),
        "budget": N_("Budget"),
        "rubric_version_id": N_("Review rubric"),
        "min_reviewers": N_("Minimum reviewers"),
        "publicity_working_days": N_("Publicity (working days)"),
        "title": N_("Title"),
        "budget_lines": N_("Budget lines"),
        "unit_price": N_("Unit price"),
        "quantity": N_("Quantity"),
        "item": N_("Item"),
        "indicators": N_("Indicators"),
        "target": N_("Target"),
        "decisions": N_("Decisions"),
        "amount": N_("Amount"),
        "content": N_("Content"),
        "resolution": N_("Resolution"),
        "topic_id": N_("Topic"),
        "category_id": N_("Category"),
        "file": N_("File"),
        "description": N_("Description"),
        "source": N_("Source"),
    }
)


def programme_out(programme: Programme) -> ProgrammeOut:
    return ProgrammeOut.model_validate(programme)


def application_out(application: Application) -> ApplicationOut:
    return ApplicationOut.model_validate(application)


# --- programmes -------------------------------------------------------------------------


@router.get("/programmes", response_model=ListResponse[ProgrammeOut])
async def list_programmes(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    state: ProgrammeState | None = None,
) -> ListResponse[ProgrammeOut]:
    page = await service.list_programmes(session, principal, pagination, state=state)
    return ListResponse(
        items=[programme_out(p) for p in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
    )


@router.post("/programmes", response_model=ProgrammeOut, status_code=201)
async def create_programme(data: ProgrammeCreate, session: SessionDep, principal: StaffUser) -> ProgrammeOut:
    programme = await service.create_programme(session, principal, data)
    return programme_out(await service.get_programme(session, principal, programme.id))


@router.get("/programmes/{programme_id:int}", response_model=ProgrammeOut)
async def get_programme(
    programme_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> ProgrammeOut:
    await service.get_programme(session, principal, programme_id)  # 404/403 before any work
    await service.finalise_publicity(session, today(), programme_id=programme_id)
    return programme_out(await service.get_programme(session, principal, programme_id))


@router.put("/programmes/{programme_id:int}", response_model=ProgrammeOut)
async def update_programme(
    programme_id: IdPath, data: ProgrammeUpdate, session: SessionDep, principal: StaffUser
) -> ProgrammeOut:
    await service.update_programme(session, principal, programme_id, data)
    return programme_out(await service.get_programme(session, principal, programme_id))


@router.post("/programmes/{programme_id:int}/open", response_model=ProgrammeOut)
async def open_programme(programme_id: IdPath, session: SessionDep, principal: StaffUser) -> ProgrammeOut:
    return programme_out(await service.open_programme(session, principal, programme_id))


@router.post("/programmes/{programme_id:int}/start-review", response_model=ProgrammeOut)
async def start_review(programme_id: IdPath, session: SessionDep, principal: StaffUser) -> ProgrammeOut:
    """Hand every eligible application to an expert review round (the evaluations engine)."""
    return programme_out(await service.start_review(session, principal, programme_id))


@router.post("/programmes/{programme_id:int}/collect-results", response_model=ProgrammeOut)
async def collect_results(programme_id: IdPath, session: SessionDep, principal: StaffUser) -> ProgrammeOut:
    """Take the closed round's scores, ranks and budget-constrained recommendation."""
    return programme_out(await service.collect_review(session, principal, programme_id))


@router.post("/programmes/{programme_id:int}/decide", response_model=ProgrammeOut)
async def decide(
    programme_id: IdPath, data: DecideIn, session: SessionDep, principal: StaffUser
) -> ProgrammeOut:
    return programme_out(await service.decide(session, principal, programme_id, data))


class PubliciseIn(RequestModel):
    starts_on: Day | None = None


@router.post("/programmes/{programme_id:int}/publicise", response_model=ProgrammeOut)
async def publicise(
    programme_id: IdPath, data: PubliciseIn, session: SessionDep, principal: StaffUser
) -> ProgrammeOut:
    return programme_out(await service.publicise(session, principal, programme_id, starts_on=data.starts_on))


@router.post("/programmes/{programme_id:int}/close", response_model=ProgrammeOut)
async def close_programme(programme_id: IdPath, session: SessionDep, principal: StaffUser) -> ProgrammeOut:
    return programme_out(await service.close_programme(session, principal, programme_id))


@router.get("/programmes/{programme_id:int}/topics", response_model=list[TopicOut])
async def list_topics(
    programme_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[TopicOut]:
    programme = await service.get_programme(session, principal, programme_id)
    return [TopicOut.model_validate(t) for t in programme.topics]


@router.post("/programmes/{programme_id:int}/topics", response_model=TopicOut, status_code=201)
async def add_topic(
    programme_id: IdPath, data: TopicIn, session: SessionDep, principal: StaffUser
) -> TopicOut:
    return TopicOut.model_validate(await service.add_topic(session, principal, programme_id, data))


@router.get("/needs", response_model=ListResponse[NeedOut])
async def list_needs(
    session: SessionDep, principal: StaffOrAdmin, pagination: Pagination
) -> ListResponse[NeedOut]:
    page = await service.list_needs(session, principal, pagination)
    return ListResponse(
        items=[NeedOut.model_validate(n) for n in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
    )


@router.post("/needs", response_model=NeedOut, status_code=201)
async def record_need(data: NeedIn, session: SessionDep, principal: StaffUser) -> NeedOut:
    return NeedOut.model_validate(await service.record_need(session, principal, data))


class WorkingDays(BaseModel):
    first: dt.date
    last: dt.date


@router.get("/calendar/working-days", response_model=WorkingDays)
async def working_days(
    session: SessionDep,
    principal: CurrentPrincipal,
    start: dt.date,
    count: Annotated[int, Query(ge=1, le=60)],
) -> WorkingDays:
    """The first and last of ``count`` working days from ``start`` on the official calendar."""
    cal = await calendar.WorkingCalendar.load(session, {start.year, start.year + 1})
    first, last = cal.working_days_from(start, count)
    return WorkingDays(first=first, last=last)


@router.put("/calendar/{year:int}", response_model=WorkingDays)
async def enter_calendar_year(
    year: Annotated[int, Path(ge=2000, le=2100)], data: CalendarYearIn, session: SessionDep, admin: AdminUser
) -> WorkingDays:
    """An admin enters a year's official schedule (holidays and adjusted working days)."""
    days = data.holidays + data.workdays
    if any(day.year != year for day in days):
        raise ValidationFailed.field("holidays", _("Every date must fall in {year}").format(year=year))
    await calendar.enter_year(session, year, data.holidays, data.workdays, {})
    from core import audit

    await audit.record(
        session,
        actor=admin,
        action="calendar.enter_year",
        subject_type="calendar",
        subject_id=year,
        centre_id=None,
        after={"holidays": data.holidays, "workdays": data.workdays},
    )
    cal = await calendar.WorkingCalendar.load(session, {year})
    first, last = cal.working_days_from(dt.date(year, 1, 1), 1)
    return WorkingDays(first=first, last=last)


# --- applications -----------------------------------------------------------------------


@router.get("/applications", response_model=ListResponse[ApplicationBrief])
async def list_applications(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    programme_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    state: ApplicationState | None = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> ListResponse[ApplicationBrief]:
    page = await service.list_applications(
        session,
        principal,
        pagination,
        programme_id=programme_id,
        state=state,
        organisation_id=organisation_id,
    )
    return ListResponse(
        items=[ApplicationBrief.model_validate(a) for a in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
    )


@router.post("/applications", response_model=ApplicationOut, status_code=201)
async def create_application(
    data: ApplicationCreate, session: SessionDep, principal: CurrentPrincipal
) -> ApplicationOut:
    application = await service.create_application(session, principal, data)
    return application_out(await service.get_application(session, principal, application.id))


@router.get("/applications/{application_id:int}", response_model=ApplicationOut)
async def get_application(
    application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> ApplicationOut:
    return application_out(await service.get_application(session, principal, application_id))


@router.put("/applications/{application_id:int}", response_model=ApplicationOut)
async def update_application(
    application_id: IdPath, data: ApplicationIn, session: SessionDep, principal: CurrentPrincipal
) -> ApplicationOut:
    await service.update_application(session, principal, application_id, data)
    return await _fresh(session, principal, application_id)


async def _fresh(session: SessionDep, principal: CurrentPrincipal, application_id: int) -> ApplicationOut:
    session.expunge_all()
    return application_out(await service.get_application(session, principal, application_id))


@router.post("/applications/{application_id:int}/submit", response_model=ApplicationOut)
async def submit(application_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> ApplicationOut:
    """Submit before the deadline (Asia/Shanghai, enforced here); eligibility checks run now."""
    await service.submit_application(session, principal, application_id)
    return await _fresh(session, principal, application_id)


@router.post("/applications/{application_id:int}/withdraw", response_model=ApplicationOut)
async def withdraw(
    application_id: IdPath, data: ReasonIn, session: SessionDep, principal: CurrentPrincipal
) -> ApplicationOut:
    await service.withdraw_application(session, principal, application_id, data.reason)
    return await _fresh(session, principal, application_id)


@router.post("/applications/{application_id:int}/return", response_model=ApplicationOut)
async def return_for_correction(
    application_id: IdPath, data: ReasonIn, session: SessionDep, principal: StaffUser
) -> ApplicationOut:
    await service.return_application(session, principal, application_id, data.reason)
    return await _fresh(session, principal, application_id)


@router.get("/applications/{application_id:int}/eligibility", response_model=list[EligibilityOut])
async def eligibility(
    application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[EligibilityOut]:
    application = await service.get_application(session, principal, application_id)
    return [EligibilityOut.model_validate(c) for c in application.checks]


@router.post("/applications/{application_id:int}/confirm-eligibility", response_model=ApplicationOut)
async def confirm_eligibility(
    application_id: IdPath, data: ConfirmEligibility, session: SessionDep, principal: StaffUser
) -> ApplicationOut:
    await service.confirm_eligibility(session, principal, application_id, data)
    return await _fresh(session, principal, application_id)


class AttachmentOut(BaseModel):
    id: int
    label: str
    original_name: str
    content_type: str
    size: int
    sha256: str


@router.get("/applications/{application_id:int}/attachments", response_model=list[AttachmentOut])
async def list_attachments(
    application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[AttachmentOut]:
    application = await service.get_application(session, principal, application_id)
    rows = await session.execute(
        select(ApplicationAttachment, StoredFile)
        .join(StoredFile, StoredFile.id == ApplicationAttachment.file_id)
        .where(ApplicationAttachment.application_id == application.id)
        .order_by(ApplicationAttachment.id)
    )
    return [
        AttachmentOut(
            id=a.id,
            label=a.label,
            original_name=f.original_name,
            content_type=f.content_type,
            size=f.size,
            sha256=f.sha256,
        )
        for a, f in rows.all()
    ]


@router.post("/applications/{application_id:int}/attachments", response_model=AttachmentOut, status_code=201)
async def upload_attachment(
    application_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(json_schema_extra={"maxLength": UPLOAD_DOC_MAX})],
    label: Annotated[str, Form(max_length=200)] = "",
) -> AttachmentOut:
    """PDF, images or Office files; the type is checked by content and the SHA-256 stored."""
    application = await service.get_application(session, principal, application_id)
    await service.require_member(session, principal, application.organisation_id)
    if application.state not in (ApplicationState.draft, ApplicationState.returned):
        from core.errors import Conflict

        raise Conflict(_("Only a draft or an application returned for correction can be edited"))
    content = await file.read(settings.upload_max_bytes + 1)
    stored = await store_upload(
        session,
        FileStore(settings.files_dir),
        centre_id=application.centre_id,
        uploaded_by=principal.user_id,
        filename=file.filename or "file",
        content=content,
        max_bytes=settings.upload_max_bytes,
    )
    link = ApplicationAttachment(application_id=application.id, file_id=stored.id, label=label)
    session.add(link)
    await session.flush()
    return AttachmentOut(
        id=link.id,
        label=label,
        original_name=stored.original_name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
    )


@router.get("/applications/{application_id:int}/attachments/{attachment_id:int}", response_class=Response)
async def download_attachment(
    application_id: IdPath,
    attachment_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> Response:
    application = await service.get_application(session, principal, application_id)
    row = (
        await session.execute(
            select(StoredFile)
            .join(ApplicationAttachment, ApplicationAttachment.file_id == StoredFile.id)
            .where(
                ApplicationAttachment.id == attachment_id,
                ApplicationAttachment.application_id == application.id,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(_("Record not found"))
    content = FileStore(settings.files_dir).read(row.storage_key)
    return Response(
        content,
        media_type=row.content_type,
        headers={"Content-Disposition": f'attachment; filename="attachment-{attachment_id}"'},
    )


# --- publicity and objections -----------------------------------------------------------


@public_router.get("/public/publicity", response_model=list[PublicityItem])
async def public_publicity(session: SessionDep) -> list[PublicityItem]:
    """The open publicity list (公示) of approved projects; no login needed."""
    rows = await service.publicity_list(session, today())
    return [
        PublicityItem(
            application_id=a.id,
            organisation=o.name,
            project=a.title,
            amount=a.approved_amount or 0,
            category=c,
            starts_on=a.publicity_starts_on or today(),
            ends_on=a.publicity_ends_on or today(),
        )
        for a, o, c in rows
    ]


@public_router.post("/objections", response_model=ObjectionOut, status_code=201)
async def lodge_objection(data: ObjectionIn, request: Request, session: SessionDep) -> ObjectionOut:
    """Anyone may lodge an objection (异议) to a project in publicity; rate-limited per address."""
    await identity.rate_limit(session, f"objection:{client_address(request)}", limit=5, window_seconds=3600)
    async with counted_attempt(session):
        objection = await service.lodge_objection(session, data, on=today())
    return ObjectionOut.model_validate(objection)


@router.get("/objections", response_model=ListResponse[ObjectionOut])
async def list_objections(
    session: SessionDep, principal: StaffOrAdmin, pagination: Pagination, state: ObjectionState | None = None
) -> ListResponse[ObjectionOut]:
    page = await service.list_objections(session, principal, pagination, state=state)
    return ListResponse(
        items=[ObjectionOut.model_validate(o) for o in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
    )


@router.post("/objections/{objection_id:int}/resolve", response_model=ObjectionOut)
async def resolve_objection(
    objection_id: IdPath, data: ResolveObjection, session: SessionDep, principal: StaffUser
) -> ObjectionOut:
    return ObjectionOut.model_validate(
        await service.resolve_objection(session, principal, objection_id, data)
    )


# --- open data --------------------------------------------------------------------------


@router.get("/exports/360giving.json", response_class=Response)
async def export_360giving(session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Awarded grants as a 360Giving 1.4.3 package (amounts as exact JSON numbers)."""
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        raise Forbidden(_("Your role does not allow this"))
    centre = await identity.get_centre(session, principal.centre_id) if principal.centre_id else None
    slug = centre.slug if centre else "district"
    package = grants_package(
        await service.awarded_grants(session, principal),
        centre_slug=slug,
        funder_name=centre.name if centre else "district",
        funder_id=f"XI-SEEDBED-{slug}",
        prefix=f"seedbed-{slug}",
    )
    return Response(dumps_exact(package), media_type="application/json")
