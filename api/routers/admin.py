"""Users and centres (admin; staff read their own centre's users)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from api.deps import AdminUser, CurrentPrincipal, IdPath, SessionDep, SettingsDep
from api.routing import Router
from api.schemas import ListResponse
from communities import service as communities
from core.errors import NotFound
from core.i18n import _
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.accounts import service as accounts
from core.identity.models import User
from core.identity.schemas import CentreCreate, CentreRead, UserCreate, UserRead, UserUpdate

router = Router(prefix="/api/v1", tags=["admin"])


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        centre_id=user.centre_id,
        is_district=user.is_district,
        is_active=user.is_active,
        locale=user.locale,
        roles=sorted(user.role_set),
        community_id=user.community_id,
        created_at=user.created_at,
    )


@router.get("/centres", response_model=ListResponse[CentreRead])
async def list_centres(session: SessionDep, principal: CurrentPrincipal) -> ListResponse[CentreRead]:
    centres = [
        c
        for c in await identity_queries.list_centres(session)
        if principal.sees_all_centres or c.id == principal.centre_id
    ]
    items = [CentreRead.model_validate(c) for c in centres]
    return ListResponse.whole(items)


@router.post("/centres", response_model=CentreRead, status_code=201)
async def create_centre(data: CentreCreate, session: SessionDep, admin: AdminUser) -> CentreRead:
    return CentreRead.model_validate(await identity.create_centre(session, data, actor=admin))


@router.get("/users", response_model=ListResponse[UserRead])
async def list_users(session: SessionDep, admin: AdminUser) -> ListResponse[UserRead]:
    users = [user_read(u) for u in await identity_queries.list_users(session, admin)]
    return ListResponse.whole(users)


@router.post("/users", response_model=UserRead, status_code=201)
async def create_user(data: UserCreate, session: SessionDep, admin: AdminUser) -> UserRead:
    await communities.check_of_centre(session, data.community_id, data.centre_id)
    return user_read(await identity.create_user(session, data, actor=admin))


@router.get("/users/{user_id:int}", response_model=UserRead)
async def get_user(user_id: IdPath, session: SessionDep, admin: AdminUser) -> UserRead:
    user = await identity_queries.get_user(session, user_id)
    if user is None:
        raise NotFound(_("User not found"))
    return user_read(user)


@router.patch("/users/{user_id:int}", response_model=UserRead)
async def update_user(user_id: IdPath, data: UserUpdate, session: SessionDep, admin: AdminUser) -> UserRead:
    user = await identity_queries.get_user(session, user_id)
    if user is None:
        raise NotFound(_("User not found"))
    if "community_id" in data.model_fields_set:
        await communities.check_of_centre(session, data.community_id, user.centre_id)
    return user_read(await identity.update_user(session, user, data, actor=admin))


class LockoutRead(BaseModel):
    user: UserRead
    failures: int
    last_failure: dt.datetime
    locked_until: dt.datetime


class ResetLinkRead(BaseModel):
    url: str = Field(description="Shown once: only its SHA-256 is stored")
    expires_at: dt.datetime


@router.get("/users/locked", response_model=ListResponse[LockoutRead])
async def locked_users(
    session: SessionDep, settings: SettingsDep, admin: AdminUser
) -> ListResponse[LockoutRead]:
    """Accounts the per-account login throttle refuses right now."""
    items = [
        LockoutRead(
            user=user_read(lock.user),
            failures=lock.failures,
            last_failure=lock.last_failure,
            locked_until=lock.until,
        )
        for lock in await accounts.lockouts(session, settings, admin)
    ]
    return ListResponse.whole(items)


@router.post("/users/{user_id:int}/unlock", response_model=UserRead)
async def unlock_user(user_id: IdPath, session: SessionDep, admin: AdminUser) -> UserRead:
    return user_read(await accounts.unlock(session, admin, user_id))


@router.post("/users/{user_id:int}/reset-link", response_model=ResetLinkRead, status_code=201)
async def reset_link(
    user_id: IdPath, session: SessionDep, settings: SettingsDep, admin: AdminUser
) -> ResetLinkRead:
    """A one-time link with which the account's owner sets a new password (earlier links stop working)."""
    link, raw = await accounts.issue_reset_link(session, admin, user_id)
    return ResetLinkRead(
        url=f"{settings.base_url.rstrip('/')}/password-reset/{raw}", expires_at=link.expires_at
    )
