"""The audit log, read by staff (their centre) and admins."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, Field

from api.deps import IdPath, Pagination, SessionDep, StaffOrAdmin
from api.routing import Router
from api.schemas import ListResponse
from core.audit import AuditEvent
from core.errors import NotFound
from core.i18n import _
from core.repository.audit import AuditRepository

router = Router(prefix="/api/v1", tags=["audit"])


class AuditEventRead(BaseModel):
    id: int
    at: dt.datetime
    centre_id: int | None
    actor: str
    action: str
    subject_type: str
    subject_id: str
    before: Any
    after: Any
    seq: int | None = Field(description="Place in the audit chain (set when its transaction commits)")
    hash: str | None


def _read(event: AuditEvent) -> AuditEventRead:
    return AuditEventRead.model_validate(event, from_attributes=True)


@router.get("/audit-events", response_model=ListResponse[AuditEventRead])
async def list_events(
    session: SessionDep,
    principal: StaffOrAdmin,
    pagination: Pagination,
    subject_type: Annotated[str | None, Query(max_length=60)] = None,
    subject_id: Annotated[str | None, Query(max_length=64)] = None,
) -> ListResponse[AuditEventRead]:
    repository = AuditRepository(session, principal)
    page = await repository.paginate(repository.newest_first(subject_type, subject_id), pagination)
    return ListResponse.of_page(page, [_read(e) for e in page.items])


@router.get("/audit-events/{event_id:int}", response_model=AuditEventRead)
async def get_event(event_id: IdPath, session: SessionDep, principal: StaffOrAdmin) -> AuditEventRead:
    repository = AuditRepository(session, principal)
    event = await repository.by_id(event_id)
    if event is None:
        raise NotFound(_("Record not found"))
    return _read(event)
