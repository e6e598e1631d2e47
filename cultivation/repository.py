"""Every query of sites, cultivation plans and targets, scoped to the caller's centre."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.repository import CentreScopedRepository
from cultivation.models import CultivationPlan, CultivationTarget, Site, SiteLevel


class SiteRepository(CentreScopedRepository[Site]):
    model = Site
    not_found_message = N_("Site not found")

    def ordered(self) -> Select[Site]:
        return self.select().order_by(Site.centre_id, Site.level, Site.name, Site.id)

    def with_id(self, site_id: int) -> Select[Site]:
        return self.select().where(Site.id == site_id)

    def children_of(self, site_id: int) -> Select[Site]:
        return self.select().where(Site.parent_id == site_id)

    def hub_of(self, centre_id: int) -> Select[Site]:
        return self.select().where(Site.centre_id == centre_id, Site.level == SiteLevel.hub)


class PlanRepository(CentreScopedRepository[CultivationPlan]):
    model = CultivationPlan
    not_found_message = N_("Cultivation plan not found")

    def with_targets(self) -> Select[CultivationPlan]:
        return self.select().options(selectinload(CultivationPlan.targets))

    def ordered(self) -> Select[CultivationPlan]:
        return self.select().order_by(CultivationPlan.first_year.desc(), CultivationPlan.id.desc())


async def targets_for(
    session: AsyncSession, centre_ids: Sequence[int], year: int | None = None
) -> Sequence[tuple[CultivationTarget, int]]:
    """(target, centre) of every plan of these centres, for one year or all years."""
    statement = (
        select(CultivationTarget, CultivationPlan.centre_id)
        .join(CultivationPlan, CultivationPlan.id == CultivationTarget.plan_id)
        .where(CultivationPlan.centre_id.in_(centre_ids))
        .order_by(CultivationTarget.year, CultivationTarget.metric, CultivationTarget.id)
    )
    if year is not None:
        statement = statement.where(CultivationTarget.year == year)
    rows = await session.execute(statement)
    return [(row[0], row[1]) for row in rows.all()]


async def target_of_plan(session: AsyncSession, plan_id: int, target_id: int) -> CultivationTarget | None:
    rows = await session.execute(
        select(CultivationTarget).where(
            CultivationTarget.id == target_id, CultivationTarget.plan_id == plan_id
        )
    )
    return rows.scalar_one_or_none()


async def same_target(
    session: AsyncSession, plan_id: int, year: int, community_id: int | None, metric: str
) -> CultivationTarget | None:
    statement = select(CultivationTarget).where(
        CultivationTarget.plan_id == plan_id,
        CultivationTarget.year == year,
        CultivationTarget.metric == metric,
        CultivationTarget.community_id.is_(None)
        if community_id is None
        else CultivationTarget.community_id == community_id,
    )
    return (await session.execute(statement)).scalars().first()


async def delete_target(session: AsyncSession, target: CultivationTarget) -> None:
    await session.delete(target)
    await session.flush()


async def sites_of(session: AsyncSession, centre_ids: Sequence[int]) -> Sequence[Site]:
    rows = await session.execute(
        select(Site).where(Site.centre_id.in_(centre_ids)).order_by(Site.centre_id, Site.name, Site.id)
    )
    return rows.scalars().all()


async def plans_of(session: AsyncSession, centre_id: int, year: int) -> Sequence[CultivationPlan]:
    """A centre's plans that cover ``year``."""
    rows = await session.execute(
        select(CultivationPlan)
        .where(
            CultivationPlan.centre_id == centre_id,
            CultivationPlan.first_year <= year,
            CultivationPlan.last_year >= year,
        )
        .order_by(CultivationPlan.first_year, CultivationPlan.id)
    )
    return rows.scalars().all()
