"""In-app notifications of the current user."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from api.deps import CurrentPrincipal, IdPath, Pagination, SessionDep
from api.routing import Router
from api.schemas import ListResponse
from core import notifications

router = Router(prefix="/api/v1", tags=["notifications"])


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    title: str
    body: str
    link: str | None
    read_at: dt.datetime | None
    created_at: dt.datetime


class NotificationList(ListResponse[NotificationRead]):
    unread: int


class UnreadCount(BaseModel):
    unread: int


@router.get("/notifications", response_model=NotificationList)
async def list_notifications(
    session: SessionDep, principal: CurrentPrincipal, pagination: Pagination, unread_only: bool = False
) -> NotificationList:
    page = await notifications.list_for(session, principal, pagination, unread_only=unread_only)
    return NotificationList(
        items=[NotificationRead.model_validate(n) for n in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
        unread=await notifications.unread_count(session, principal),
    )


@router.get("/notifications/unread-count", response_model=UnreadCount)
async def unread_count(session: SessionDep, principal: CurrentPrincipal) -> UnreadCount:
    return UnreadCount(unread=await notifications.unread_count(session, principal))


@router.post("/notifications/read-all", response_model=UnreadCount)
async def read_all(session: SessionDep, principal: CurrentPrincipal) -> UnreadCount:
    await notifications.mark_all_read(session, principal)
    return UnreadCount(unread=0)


@router.post("/notifications/{notification_id:int}/read", response_model=NotificationRead)
async def mark_read(
    notification_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> NotificationRead:
    return NotificationRead.model_validate(await notifications.mark_read(session, principal, notification_id))
