"""Applications: draft, submit, withdraw, return, eligibility, attachments; the public publicity
list and objections."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import (
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
from api.routing import Router, reads_only
from api.schemas import ListResponse
from core.clock import today
from core.files import FileStore
from core.i18n import N_
from core.identity import service as identity
from grants.applications import publicity
from grants.applications import repository as application_queries
from grants.applications import service as applications
from grants.applications.models import Application, ApplicationState, ObjectionState
from grants.applications.schemas import (
    ApplicationBrief,
    ApplicationCreate,
    ApplicationIn,
    ApplicationOut,
    ConfirmEligibility,
    EligibilityOut,
    ObjectionIn,
    ObjectionOut,
    PublicityItem,
    ReasonIn,
    ResolveObjection,
)

router = Router(prefix="/api/v1", tags=["applications"])
public_router = Router(prefix="/api/v1", tags=["public"])


# Documented bound of an upload (the settings' upload limit, 20 MB by default, is enforced).
UPLOAD_DOC_MAX = 20 * 1024 * 1024


def application_out(application: Application) -> ApplicationOut:
    return ApplicationOut.model_validate(application)


@router.get("/applications", response_model=ListResponse[ApplicationBrief])
@reads_only
async def list_applications(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    programme_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    state: ApplicationState | None = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> ListResponse[ApplicationBrief]:
    listed = application_queries.Listed(programme_id, state, organisation_id)
    page = await applications.application_briefs(session, principal, pagination, listed)
    return ListResponse.of_page(page, [ApplicationBrief.model_validate(a) for a in page.items])


@router.post("/applications", response_model=ApplicationOut, status_code=201)
async def create_application(
    data: ApplicationCreate, session: SessionDep, principal: CurrentPrincipal
) -> ApplicationOut:
    application = await applications.create_application(session, principal, data)
    return application_out(await applications.get_application(session, principal, application.id))


@router.get("/applications/{application_id:int}", response_model=ApplicationOut)
@reads_only
async def get_application(
    application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> ApplicationOut:
    return ApplicationOut.model_validate(
        await applications.application_detail(session, principal, application_id)
    )


@router.put("/applications/{application_id:int}", response_model=ApplicationOut)
async def update_application(
    application_id: IdPath, data: ApplicationIn, session: SessionDep, principal: CurrentPrincipal
) -> ApplicationOut:
    await applications.update_application(session, principal, application_id, data)
    return await _fresh(session, principal, application_id)


async def _fresh(session: SessionDep, principal: CurrentPrincipal, application_id: int) -> ApplicationOut:
    session.expunge_all()
    return application_out(await applications.get_application(session, principal, application_id))


@router.post("/applications/{application_id:int}/submit", response_model=ApplicationOut)
async def submit(application_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> ApplicationOut:
    """Submit before the deadline (Asia/Shanghai, enforced here); eligibility checks run now."""
    await applications.submit_application(session, principal, application_id)
    return await _fresh(session, principal, application_id)


@router.post("/applications/{application_id:int}/withdraw", response_model=ApplicationOut)
async def withdraw(
    application_id: IdPath, data: ReasonIn, session: SessionDep, principal: CurrentPrincipal
) -> ApplicationOut:
    await applications.withdraw_application(session, principal, application_id, data.reason)
    return await _fresh(session, principal, application_id)


@router.post("/applications/{application_id:int}/return", response_model=ApplicationOut)
async def return_for_correction(
    application_id: IdPath, data: ReasonIn, session: SessionDep, principal: StaffUser
) -> ApplicationOut:
    await applications.return_application(session, principal, application_id, data.reason)
    return await _fresh(session, principal, application_id)


@router.get("/applications/{application_id:int}/eligibility", response_model=list[EligibilityOut])
async def eligibility(
    application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[EligibilityOut]:
    application = await applications.get_application(session, principal, application_id)
    return [EligibilityOut.model_validate(c) for c in application.checks]


@router.post("/applications/{application_id:int}/confirm-eligibility", response_model=ApplicationOut)
async def confirm_eligibility(
    application_id: IdPath, data: ConfirmEligibility, session: SessionDep, principal: StaffUser
) -> ApplicationOut:
    await applications.confirm_eligibility(session, principal, application_id, data)
    return await _fresh(session, principal, application_id)


class AttachmentOut(BaseModel):
    id: int
    label: str
    original_name: str
    content_type: str
    size: int
    sha256: str


def attachment_out(view: applications.AttachmentView) -> AttachmentOut:
    return AttachmentOut(
        id=view.id,
        label=view.label,
        original_name=view.original_name,
        content_type=view.content_type,
        size=view.size,
        sha256=view.sha256,
    )


@router.get("/applications/{application_id:int}/attachments", response_model=list[AttachmentOut])
async def list_attachments(
    application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[AttachmentOut]:
    return [
        attachment_out(v) for v in await applications.list_attachments(session, principal, application_id)
    ]


@router.post("/applications/{application_id:int}/attachments", response_model=AttachmentOut, status_code=201)
async def upload_attachment(
    application_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(title=N_("File"), json_schema_extra={"maxLength": UPLOAD_DOC_MAX})],
    label: Annotated[str, Form(max_length=200)] = "",
) -> AttachmentOut:
    """PDF, images or Office files; the type is checked by content and the SHA-256 stored."""
    content = await file.read(settings.upload_max_bytes + 1)
    view = await applications.add_attachment(
        session,
        principal,
        application_id,
        store=FileStore(settings.files_dir),
        filename=file.filename or "file",
        content=content,
        label=label,
        max_bytes=settings.upload_max_bytes,
    )
    return attachment_out(view)


@router.delete("/applications/{application_id:int}/attachments/{attachment_id:int}", status_code=204)
async def remove_attachment(
    application_id: IdPath, attachment_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Only while the application is a draft or returned for correction, by its members."""
    await applications.remove_attachment(session, principal, application_id, attachment_id)
    return Response(status_code=204)


@router.get("/applications/{application_id:int}/attachments/{attachment_id:int}", response_class=Response)
async def download_attachment(
    application_id: IdPath,
    attachment_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> Response:
    view, content = await applications.read_attachment(
        session, principal, application_id, attachment_id, store=FileStore(settings.files_dir)
    )
    return Response(
        content,
        media_type=view.content_type,
        headers={"Content-Disposition": f'attachment; filename="attachment-{attachment_id}"'},
    )


@public_router.get("/public/publicity", response_model=list[PublicityItem])
async def public_publicity(session: SessionDep) -> list[PublicityItem]:
    """The open publicity list (公示) of approved projects; no login needed."""
    rows = await application_queries.publicity_list(session, today())
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
        objection = await publicity.lodge_objection(session, data, on=today())
    return ObjectionOut.model_validate(objection)


@router.get("/objections", response_model=ListResponse[ObjectionOut])
async def list_objections(
    session: SessionDep, principal: StaffOrAdmin, pagination: Pagination, state: ObjectionState | None = None
) -> ListResponse[ObjectionOut]:
    page = await application_queries.list_objections(session, principal, pagination, state=state)
    return ListResponse.of_page(page, [ObjectionOut.model_validate(o) for o in page.items])


@router.post("/objections/{objection_id:int}/resolve", response_model=ObjectionOut)
async def resolve_objection(
    objection_id: IdPath, data: ResolveObjection, session: SessionDep, principal: StaffUser
) -> ObjectionOut:
    return ObjectionOut.model_validate(
        await publicity.resolve_objection(session, principal, objection_id, data)
    )
