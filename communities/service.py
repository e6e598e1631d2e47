"""Communities of a centre: staff keep the list; everyone in the centre chooses from it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from communities.models import Community
from communities.repository import CommunityRepository
from communities.schemas import CommunityIn
from core import audit
from core.errors import Conflict, FieldError, Forbidden, ValidationFailed
from core.i18n import _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal


def _centre_staff(principal: Principal) -> int:
    identity.require_writer(principal)
    if principal.centre_id is None:
        raise Forbidden(_("District-level accounts are read-only"))
    if not principal.has(Role.staff, Role.admin):
        raise Forbidden(_("Only centre staff may do this"))
    return principal.centre_id


async def list_communities(session: AsyncSession, principal: Principal) -> Sequence[Community]:
    repository = CommunityRepository(session, principal)
    return await repository.get_all(repository.ordered())


async def get_community(session: AsyncSession, principal: Principal, community_id: int) -> Community:
    return await CommunityRepository(session, principal).get(community_id)


async def require_in_centre(
    session: AsyncSession, principal: Principal, community_id: int | None, field: str = "community_id"
) -> Community | None:
    """The chosen community must be one of the caller's centre: otherwise a field error, never a 500."""
    if community_id is None:
        return None
    repository = CommunityRepository(session, principal)
    found = await repository.get_one_or_none(repository.select().where(Community.id == community_id))
    if found is None:
        raise ValidationFailed(
            _("Choose a community of your centre"),
            details=[FieldError(field=field, message=_("Choose a community of your centre"))],
        )
    return found


async def _name_taken(
    session: AsyncSession, principal: Principal, centre_id: int, name: str, own: int | None
) -> None:
    repository = CommunityRepository(session, principal)
    other = await repository.get_one_or_none(repository.named(centre_id, name))
    if other is not None and other.id != own:
        raise Conflict(
            _("A community of this name already exists"),
            details=[FieldError(field="name", message=_("A community of this name already exists"))],
        )


async def create_community(session: AsyncSession, principal: Principal, data: CommunityIn) -> Community:
    centre_id = _centre_staff(principal)
    name = data.name.strip()
    await _name_taken(session, principal, centre_id, name, None)
    community = Community(centre_id=centre_id, **{**data.model_dump(), "name": name})
    session.add(community)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="community.create",
        subject_type="community",
        subject_id=community.id,
        centre_id=centre_id,
        after=data.model_dump(mode="json"),
    )
    return community


async def update_community(
    session: AsyncSession, principal: Principal, community_id: int, data: CommunityIn
) -> Community:
    centre_id = _centre_staff(principal)
    community = await get_community(session, principal, community_id)
    name = data.name.strip()
    await _name_taken(session, principal, centre_id, name, community.id)
    before = CommunityIn.model_validate(community, from_attributes=True).model_dump(mode="json")
    for key, value in {**data.model_dump(), "name": name}.items():
        setattr(community, key, value)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="community.update",
        subject_type="community",
        subject_id=community.id,
        centre_id=centre_id,
        before=before,
        after=data.model_dump(mode="json"),
    )
    return community
