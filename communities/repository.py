"""Every query of communities, scoped to the caller's centre."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from communities.models import Community
from core.i18n import N_
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
