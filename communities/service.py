"""Communities of a centre: staff keep the list; everyone in the centre chooses from it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from communities import repository
from communities.models import Community, CommunityKind
from communities.repository import CommunityRepository
from communities.schemas import CommunityIn
from core import audit
from core.errors import Conflict, FieldError, Forbidden, ValidationFailed
from core.i18n import _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal

VILLAGE_SUFFIX = "\u6751"  # 村: a name ending in it is a village


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


async def check_of_centre(session: AsyncSession, community_id: int | None, centre_id: int | None) -> None:
    """A station officer's community is one of their own centre's."""
    if community_id is not None and await repository.in_centre(session, community_id, centre_id) is None:
        raise ValidationFailed.field("community_id", _("Choose a community of the user's centre"))


async def of_centre(
    session: AsyncSession, centre_id: int, community_id: int, field: str = "community_id"
) -> Community:
    """The centre's community of this id, or a field error naming ``field``."""
    community = await repository.in_centre(session, community_id, centre_id)
    if community is None:
        raise ValidationFailed.field(field, _("Choose a community of your centre"))
    return community


async def resolve_name(
    session: AsyncSession, principal: Principal | None, centre_id: int, name: str
) -> Community:
    """The centre's community of this name, recorded first if the centre has none yet (the
    free-text community of API clients that do not send an id)."""
    name = name.strip()[:100]
    found = await repository.named(session, centre_id, name)
    if found is not None:
        return found
    kind = CommunityKind.village if name.endswith(VILLAGE_SUFFIX) else CommunityKind.community
    created_id = await repository.insert_unless_named(session, centre_id, name, kind)
    community = await repository.named(session, centre_id, name)
    if community is None:  # recorded here or by a concurrent request, so always found
        raise Conflict(_("The change conflicts with what is already recorded; reload and check"))
    if created_id is None:
        return community
    await audit.record(
        session,
        actor=principal,
        action="community.create",
        subject_type="community",
        subject_id=community.id,
        centre_id=centre_id,
        after={"name": name, "from": "free text"},
    )
    return community


async def id_named(session: AsyncSession, centre_id: int, name: str) -> int | None:
    """The centre's community of exactly this name, if there is one (a project's target
    community is free text: "全街道" or two communities stay unlinked)."""
    found = await repository.named(session, centre_id, name.strip()[:100]) if name.strip() else None
    return found.id if found is not None else None
