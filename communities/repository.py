"""Every query of communities, scoped to the caller's centre."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Select, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from communities.models import Community, CommunityKind
from core.i18n import N_
from core.identity.models import Role, User, UserRole
from core.repository import CentreScopedRepository


class CommunityRepository(CentreScopedRepository[Community]):
    model = Community
    not_found_message = N_("Community not found")

    def ordered(self) -> Select[Community]:
        return self.select().order_by(Community.centre_id, Community.name, Community.id)

    def named(self, centre_id: int, name: str) -> Select[Community]:
        return self.select().where(Community.centre_id == centre_id, Community.name == name)


async def of_centre(session: AsyncSession, centre_id: int) -> Sequence[Community]:
    """A centre's communities for jobs and reports that run without a caller."""
    rows = await session.execute(
        select(Community).where(Community.centre_id == centre_id).order_by(Community.name, Community.id)
    )
    return rows.scalars().all()


async def by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, Community]:
    if not ids:
        return {}
    rows = await session.execute(select(Community).where(Community.id.in_(set(ids))))
    return {c.id: c for c in rows.scalars()}


async def in_centre(session: AsyncSession, community_id: int, centre_id: int | None) -> Community | None:
    rows = await session.execute(
        select(Community).where(Community.id == community_id, Community.centre_id == centre_id)
    )
    return rows.scalar_one_or_none()


async def named(session: AsyncSession, centre_id: int, name: str) -> Community | None:
    rows = await session.execute(
        select(Community).where(Community.centre_id == centre_id, Community.name == name)
    )
    return rows.scalar_one_or_none()


async def station_officers(session: AsyncSession, community_ids: Sequence[int]) -> dict[int, list[int]]:
    """Active station officers of these communities: community → user ids."""
    if not community_ids:
        return {}
    rows = await session.execute(
        select(User.community_id, User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(
            User.community_id.in_(set(community_ids)), UserRole.role == Role.station, User.is_active.is_(True)
        )
        .order_by(User.id)
    )
    found: dict[int, list[int]] = {}
    for community_id, user_id in rows:
        if community_id is not None:
            found.setdefault(community_id, []).append(user_id)
    return found


async def insert_unless_named(
    session: AsyncSession, centre_id: int, name: str, kind: CommunityKind
) -> int | None:
    """``INSERT … ON CONFLICT DO NOTHING`` on the (centre, name) unique key: the new id, or None
    when the centre has that community already (two requests naming a new community at once
    make one record; the other finds it)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Community)
        .values(centre_id=centre_id, name=name, kind=kind)
        .on_conflict_do_nothing(index_elements=["centre_id", "name"])
        .returning(Community.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def community_names(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Communities by id, by their names."""
    if not ids:
        return {}
    rows = await session.execute(select(Community.id, Community.name).where(Community.id.in_(ids)))
    return {row_id: str(value) for row_id, value in rows}
