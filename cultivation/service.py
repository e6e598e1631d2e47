"""Rules of the street's network of sites and its cultivation plans; progress read-outs."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from communities import repository as community_queries
from communities import service as communities
from communities.models import Community
from core import audit
from core.errors import Forbidden, NotFound, ValidationFailed
from core.i18n import _
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.models import Centre, Role
from core.identity.principal import Principal
from cultivation import progress as counting
from cultivation import repository as queries
from cultivation.models import CultivationPlan, CultivationTarget, Metric, Site, SiteLevel
from cultivation.progress import Standing, TargetProgress
from cultivation.repository import PlanRepository, SiteRepository
from cultivation.schemas import PlanIn, SiteIn, TargetIn
from grants.contracts import service as contracts
from incubator import service as incubator
from incubator.models import LegalStatus, OrganisationCategory


def _centre_staff(principal: Principal) -> int:
    identity.require_writer(principal)
    if principal.centre_id is None:
        raise Forbidden(_("District-level accounts are read-only"))
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))
    return principal.centre_id


def require_reader(principal: Principal) -> None:
    """The network and the targets are read by the centre's people and the district, not by
    applicants or evaluators."""
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.station)):
        raise Forbidden(_("Only the centre's staff, station officers and the district see the network"))


# --- sites -----------------------------------------------------------------------------------


async def list_sites(session: AsyncSession, principal: Principal) -> Sequence[Site]:
    require_reader(principal)
    repository = SiteRepository(session, principal)
    sites = await repository.get_all(repository.ordered())
    if principal.station_only:
        return [s for s in sites if s.level is SiteLevel.hub or s.community_id == principal.community_id]
    return sites


async def get_site(session: AsyncSession, principal: Principal, site_id: int) -> Site:
    require_reader(principal)
    site = await SiteRepository(session, principal).get(site_id)
    if (
        principal.station_only
        and site.level is not SiteLevel.hub
        and site.community_id != principal.community_id
    ):
        raise NotFound(_("Site not found"))
    return site


async def _organisation(session: AsyncSession, principal: Principal, org_id: int | None, name: str) -> None:
    if org_id is None:
        return
    try:
        await incubator.get_organisation(session, principal, org_id)
    except NotFound:
        raise ValidationFailed.field(name, _("Choose an organisation of your centre")) from None


async def _check_site(
    session: AsyncSession, principal: Principal, centre_id: int, data: SiteIn, site: Site | None
) -> int | None:
    """The tree's rules; answers the community the site is in."""
    repository = SiteRepository(session, principal)
    community_id = data.community_id
    if community_id is not None:
        await communities.of_centre(session, centre_id, community_id)
    if data.level is SiteLevel.hub:
        if data.parent_id is not None:
            raise ValidationFailed.field(
                "parent_id", _("The hub is the root of the network: it has no parent")
            )
        hub = await repository.get_one_or_none(repository.hub_of(centre_id))
        if hub is not None and (site is None or hub.id != site.id):
            raise ValidationFailed.field(
                "level", _("The centre already has its hub: {name}").format(name=hub.name)
            )
    else:
        if data.parent_id is None:
            raise ValidationFailed.field("parent_id", _("Choose the site this one belongs under"))
        parent = await repository.get_one_or_none(repository.with_id(data.parent_id))
        if parent is None or (site is not None and parent.id == site.id):
            raise ValidationFailed.field("parent_id", _("Choose a site of your centre"))
        if data.level is SiteLevel.station:
            if parent.level is not SiteLevel.hub:
                raise ValidationFailed.field("parent_id", _("A station sits directly under the hub"))
            if community_id is None:
                raise ValidationFailed.field("community_id", _("A station is in one community: choose it"))
        else:
            if parent.level is not SiteLevel.station:
                raise ValidationFailed.field("parent_id", _("A point sits under a station"))
            if community_id is None:
                community_id = parent.community_id
            elif community_id != parent.community_id:
                station_community = (
                    await communities.of_centre(session, centre_id, parent.community_id)
                    if parent.community_id is not None
                    else None
                )
                raise ValidationFailed.field(
                    "community_id",
                    _("A point is in the community of its station ({station}: {community})").format(
                        station=parent.name, community=station_community.name if station_community else "—"
                    ),
                )
    if site is not None and site.level is not SiteLevel.point:
        children = list(await repository.get_all(repository.children_of(site.id)))
        if children and data.level is not site.level:
            raise ValidationFailed.field("level", _("A site with sites under it keeps its level"))
        if site.level is SiteLevel.station and any(c.community_id != community_id for c in children):
            raise ValidationFailed.field(
                "community_id", _("The points under this station are in its community: move them first")
            )
    await _organisation(session, principal, data.operator_id, "operator_id")
    await _organisation(session, principal, data.supervisor_id, "supervisor_id")
    if data.operator_contract_id is not None:
        try:
            contract = await contracts.get_contract(session, principal, data.operator_contract_id)
        except NotFound:
            raise ValidationFailed.field(
                "operator_contract_id", _("Choose a purchased-service contract of your centre")
            ) from None
        if data.operator_id is not None and contract.provider_id != data.operator_id:
            raise ValidationFailed.field(
                "operator_contract_id", _("The contract's provider is not the site's operator")
            )
    return community_id


def _site_snapshot(site: Site) -> dict[str, Any]:
    return {
        "name": site.name,
        "level": site.level,
        "kind": site.kind,
        "parent_id": site.parent_id,
        "community_id": site.community_id,
        "premises": site.premises,
        "area_sqm": str(site.area_sqm) if site.area_sqm is not None else None,
        "investment": str(site.investment) if site.investment is not None else None,
        "opened_on": site.opened_on.isoformat() if site.opened_on else None,
        "operator_id": site.operator_id,
        "operator_contract_id": site.operator_contract_id,
        "supervisor_id": site.supervisor_id,
    }


async def create_site(session: AsyncSession, principal: Principal, data: SiteIn) -> Site:
    centre_id = _centre_staff(principal)
    community_id = await _check_site(session, principal, centre_id, data, None)
    site = Site(centre_id=centre_id, **{**data.model_dump(), "community_id": community_id})
    session.add(site)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="site.create",
        subject_type="site",
        subject_id=site.id,
        centre_id=centre_id,
        after=_site_snapshot(site),
    )
    return site


async def update_site(session: AsyncSession, principal: Principal, site_id: int, data: SiteIn) -> Site:
    centre_id = _centre_staff(principal)
    site = await get_site(session, principal, site_id)
    community_id = await _check_site(session, principal, centre_id, data, site)
    before = _site_snapshot(site)
    for name, value in {**data.model_dump(), "community_id": community_id}.items():
        setattr(site, name, value)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="site.update",
        subject_type="site",
        subject_id=site.id,
        centre_id=centre_id,
        before=before,
        after=_site_snapshot(site),
    )
    return site


@dataclass
class SiteNode:
    site: Site
    children: list[SiteNode] = field(default_factory=list)


def site_tree(sites: Sequence[Site]) -> list[SiteNode]:
    """Roots first (the hub), each site's children under it, by name."""
    nodes = {s.id: SiteNode(s) for s in sites}
    roots: list[SiteNode] = []
    for site in sorted(sites, key=lambda s: (s.name, s.id)):
        node = nodes[site.id]
        parent = nodes.get(site.parent_id) if site.parent_id is not None else None
        (parent.children if parent is not None else roots).append(node)
    return roots


# --- plans and targets -----------------------------------------------------------------------


async def list_plans(session: AsyncSession, principal: Principal) -> Sequence[CultivationPlan]:
    require_reader(principal)
    repository = PlanRepository(session, principal)
    return await repository.get_all(repository.ordered())


async def get_plan(session: AsyncSession, principal: Principal, plan_id: int) -> CultivationPlan:
    require_reader(principal)
    repository = PlanRepository(session, principal)
    return await repository.get(plan_id, repository.with_targets().execution_options(populate_existing=True))


def _check_years(data: PlanIn) -> None:
    if data.last_year < data.first_year:
        raise ValidationFailed.field("last_year", _("The last year cannot come before the first"))


async def create_plan(session: AsyncSession, principal: Principal, data: PlanIn) -> CultivationPlan:
    centre_id = _centre_staff(principal)
    _check_years(data)
    plan = CultivationPlan(centre_id=centre_id, **data.model_dump())
    session.add(plan)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="cultivation_plan.create",
        subject_type="cultivation_plan",
        subject_id=plan.id,
        centre_id=centre_id,
        after=data.model_dump(mode="json"),
    )
    return await get_plan(session, principal, plan.id)


async def update_plan(
    session: AsyncSession, principal: Principal, plan_id: int, data: PlanIn
) -> CultivationPlan:
    centre_id = _centre_staff(principal)
    plan = await get_plan(session, principal, plan_id)
    _check_years(data)
    outside = [t.year for t in plan.targets if not data.first_year <= t.year <= data.last_year]
    if outside:
        raise ValidationFailed.field(
            "first_year",
            _("The plan has targets for {year}: keep that year in the plan").format(year=min(outside)),
        )
    before = PlanIn.model_validate(plan, from_attributes=True).model_dump(mode="json")
    for name, value in data.model_dump().items():
        setattr(plan, name, value)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="cultivation_plan.update",
        subject_type="cultivation_plan",
        subject_id=plan.id,
        centre_id=centre_id,
        before=before,
        after=data.model_dump(mode="json"),
    )
    return plan


async def set_target(
    session: AsyncSession, principal: Principal, plan_id: int, data: TargetIn
) -> CultivationTarget:
    """Add a target, or change the range of the plan's target for the same year, community
    and metric."""
    centre_id = _centre_staff(principal)
    plan = await get_plan(session, principal, plan_id)
    if not plan.first_year <= data.year <= plan.last_year:
        raise ValidationFailed.field(
            "year",
            _("The plan covers {first}–{last}").format(first=plan.first_year, last=plan.last_year),
        )
    if data.maximum is not None and data.maximum < data.minimum:
        raise ValidationFailed.field("maximum", _("The maximum cannot be below the minimum"))
    if data.community_id is not None:
        await communities.of_centre(session, centre_id, data.community_id)
    target = await queries.same_target(session, plan.id, data.year, data.community_id, data.metric)
    before = None
    if target is None:
        target = CultivationTarget(plan_id=plan.id, **data.model_dump())
        session.add(target)
    else:
        before = {"minimum": target.minimum, "maximum": target.maximum}
        target.minimum = data.minimum
        target.maximum = data.maximum
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="cultivation_target.set",
        subject_type="cultivation_plan",
        subject_id=plan.id,
        centre_id=centre_id,
        before=before,
        after=data.model_dump(mode="json"),
    )
    return target


async def remove_target(session: AsyncSession, principal: Principal, plan_id: int, target_id: int) -> None:
    centre_id = _centre_staff(principal)
    plan = await get_plan(session, principal, plan_id)
    target = await queries.target_of_plan(session, plan.id, target_id)
    if target is None:
        raise NotFound(_("Target not found"))
    snapshot = {
        "year": target.year,
        "community_id": target.community_id,
        "metric": target.metric,
        "minimum": target.minimum,
        "maximum": target.maximum,
    }
    await queries.delete_target(session, target)
    await audit.record(
        session,
        actor=principal,
        action="cultivation_target.remove",
        subject_type="cultivation_plan",
        subject_id=plan.id,
        centre_id=centre_id,
        before=snapshot,
    )


# --- progress --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressRow:
    progress: TargetProgress
    community: str


async def centre_progress(
    session: AsyncSession,
    centre_id: int,
    year: int,
    today: dt.date,
    *,
    plan_id: int | None = None,
    community_id: int | None = None,
    until: dt.date | None = None,
) -> list[ProgressRow]:
    """Every target of the centre's plans for ``year`` against the organisations, for callers
    who have already checked access (jobs, reports, the checked read-outs below)."""
    places = await community_queries.of_centre(session, centre_id)
    names = {c.id: c.name for c in places}
    targets = [t for t, _centre in await queries.targets_for(session, [centre_id], year)]
    if plan_id is not None:
        targets = [t for t in targets if t.plan_id == plan_id]
    orgs = await incubator.counted_organisations(session, [centre_id])
    rows = counting.evaluate(targets, orgs, list(names), today, until)
    if community_id is not None:
        rows = [r for r in rows if r.community_id == community_id]
    rows.sort(key=lambda r: (names.get(r.community_id, ""), list(Metric).index(r.metric)))
    return [ProgressRow(r, names.get(r.community_id, "")) for r in rows]


async def plan_progress(
    session: AsyncSession, principal: Principal, plan_id: int, year: int, today: dt.date
) -> list[ProgressRow]:
    plan = await get_plan(session, principal, plan_id)
    return await centre_progress(
        session,
        plan.centre_id,
        year,
        today,
        plan_id=plan.id,
        community_id=principal.community_id if principal.station_only else None,
    )


def behind(rows: Sequence[ProgressRow]) -> list[ProgressRow]:
    return [r for r in rows if r.progress.standing is Standing.behind]


# --- the network at a glance -----------------------------------------------------------------

CATEGORY_ORDER = list(OrganisationCategory)
STATUS_ORDER = [LegalStatus.registered, LegalStatus.filed, LegalStatus.unregistered]


@dataclass
class CommunityPicture:
    community: Community
    by_category: Counter[OrganisationCategory]
    by_status: Counter[LegalStatus]
    total: int
    progress: list[ProgressRow]


@dataclass
class CentrePicture:
    centre_id: int
    centre_name: str
    tree: list[SiteNode]
    communities: list[CommunityPicture]
    unplaced: int

    @property
    def behind(self) -> int:
        return sum(1 for c in self.communities for r in c.progress if r.progress.standing is Standing.behind)


async def centre_picture(
    session: AsyncSession, centre: Centre, year: int, today: dt.date, *, only_community: int | None = None
) -> CentrePicture:
    """Sites, organisations by category and legal status, and the year's targets, per community
    (organisations that have exited are not counted)."""
    places = list(await community_queries.of_centre(session, centre.id))
    if only_community is not None:
        places = [c for c in places if c.id == only_community]
    sites = await queries.sites_of(session, [centre.id])
    if only_community is not None:
        sites = [s for s in sites if s.level is SiteLevel.hub or s.community_id == only_community]
    orgs = [o for o in await incubator.counted_organisations(session, [centre.id]) if o.exited_on is None]
    rows = await centre_progress(session, centre.id, year, today, community_id=only_community)
    pictures = []
    for place in places:
        mine = [o for o in orgs if o.community_id == place.id]
        pictures.append(
            CommunityPicture(
                community=place,
                by_category=Counter(o.category for o in mine),
                by_status=Counter(o.legal_status for o in mine),
                total=len(mine),
                progress=[r for r in rows if r.progress.community_id == place.id],
            )
        )
    return CentrePicture(
        centre_id=centre.id,
        centre_name=centre.name,
        tree=site_tree(sites),
        communities=pictures,
        unplaced=0 if only_community is not None else sum(1 for o in orgs if o.community_id is None),
    )


async def network(session: AsyncSession, principal: Principal, year: int, today: dt.date) -> CentrePicture:
    require_reader(principal)
    if principal.centre_id is None:
        raise Forbidden(_("Choose a centre: district accounts read the district roll-up"))
    centre = await identity.get_centre(session, principal.centre_id)
    return await centre_picture(
        session,
        centre,
        year,
        today,
        only_community=principal.community_id if principal.station_only else None,
    )


async def district_rollup(
    session: AsyncSession, principal: Principal, year: int, today: dt.date
) -> list[CentrePicture]:
    """Every centre's communities, organisations and targets: for district-level users."""
    if not principal.sees_all_centres:
        raise Forbidden(_("Only district-level accounts see the district roll-up"))
    centres = await identity_queries.list_centres(session)
    return [await centre_picture(session, c, year, today) for c in centres]
