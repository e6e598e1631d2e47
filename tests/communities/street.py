"""A realistic street for the cultivation tests: three communities, a hub with stations and a
point, organisations of every category founded over 2024–2026, and a plan whose 2026 targets
are met, above range and behind.

Counts as the tests expect them (today = 2026-11-27):

玉林北路社区 2024: new service 2 (长者服务中心, 老年协会) · 2025: new service 1 (助残服务社,
which moved to 芳草 in 2026), total 4 (老年协会 exited mid-2025) · 2026: new associations 2,
new self-governance 1, new volunteer teams 2 (one created at 00:30 on 1 January in Shanghai),
flagship 1, total 9 (with 2023's 公益联盟), registered 2, filed 1.
芳草社区 2026: new associations 1, new volunteer teams 1, total 3 (助残服务社 moved in).
向阳村 2026: new service 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from communities import service as communities
from communities.models import Community, CommunityKind
from communities.schemas import CommunityIn
from core.identity.models import Centre, Role
from cultivation import service as cultivation
from cultivation.models import CultivationPlan, Metric, Premises, Site, SiteKind, SiteLevel
from cultivation.schemas import PlanIn, SiteIn, TargetIn
from incubator import service as incubator
from incubator.models import Organisation
from incubator.schemas import OrganisationCreate, OrganisationUpdate
from tests.factories import Actor, make_centre, make_user
from tests.incubator.helpers import VALID_USCC, VALID_USCC_2

TODAY = dt.date(2026, 11, 27)


@dataclass
class Street:
    centre: Centre
    staff: Actor
    station: Actor
    yulin: Community
    fangcao: Community
    xiangyang: Community
    hub: Site
    yulin_station: Site
    fangcao_station: Site
    yulin_point: Site
    plan: CultivationPlan
    orgs: dict[str, Organisation] = field(default_factory=dict)


async def _org(
    session: AsyncSession, staff: Actor, name: str, community: Community, **values: Any
) -> Organisation:
    data: dict[str, Any] = {
        "name": name,
        "kind": "community_group",
        "legal_status": "unregistered",
        "community_id": community.id,
        **values,
    }
    return await incubator.create_organisation(session, staff.principal, OrganisationCreate(**data))


async def build_street(session: AsyncSession) -> Street:
    centre = await make_centre(session, name="玉林街道社会组织孵化中心")
    staff = await make_user(session, centre, Role.staff)
    p = staff.principal
    yulin = await communities.create_community(
        session, p, CommunityIn(name="玉林北路社区", code="510107001", households=4200, population=11800)
    )
    fangcao = await communities.create_community(session, p, CommunityIn(name="芳草社区", households=3100))
    xiangyang = await communities.create_community(
        session, p, CommunityIn(name="向阳村", kind=CommunityKind.village, population=2600)
    )
    station = await make_user(session, centre, Role.station, community_id=yulin.id)

    orgs: dict[str, Organisation] = {}

    async def add(key: str, name: str, community: Community, **values: Any) -> Organisation:
        orgs[key] = await _org(session, staff, name, community, **values)
        return orgs[key]

    hub_org = await add(
        "hub",
        "玉林邻里枢纽",
        yulin,
        category="hub",
        legal_status="registered",
        uscc=VALID_USCC,
        founded_on="2024-01-10",
        registered_on="2024-06-01",
        flagship_on="2026-05-20",
        origin="local",
        party_organisation="own",
        party_members=5,
    )
    await add(
        "elderly",
        "玉林长者服务中心",
        yulin,
        category="service",
        legal_status="registered",
        uscc=VALID_USCC_2,
        founded_on="2024-03-01",
        registered_on="2024-04-10",
        origin="introduced",
    )
    await add(
        "seniors", "玉林老年协会", yulin, category="service", founded_on="2024-05-01", exited_on="2025-06-30"
    )
    await add("calligraphy", "玉林书画社", yulin, category="association", founded_on="2025-05-01")
    await add(
        "choir", "玉林合唱团", yulin, category="association", founded_on="2026-03-01", parent_id=hub_org.id
    )
    await add(
        "dance", "玉林舞蹈队", yulin, category="association", founded_on="2026-06-01", parent_id=hub_org.id
    )
    await add("courtyard", "玉林一院落自治协会", yulin, category="self_governance", founded_on="2026-02-01")
    await add(
        "armband",
        "玉林红袖标志愿队",
        yulin,
        category="volunteer_team",
        legal_status="filed",
        filed_on="2026-04-01",
    )
    new_year = await add("new_year", "玉林跨年志愿队", yulin, category="volunteer_team")
    # recorded at 00:30 on 1 January 2026 in Shanghai: 31 December 2025 in UTC
    new_year.created_at = dt.datetime(2025, 12, 31, 16, 30, tzinfo=dt.UTC)
    moved = await add("disability", "芳草助残服务社", yulin, category="service", founded_on="2025-03-01")
    await incubator.update_organisation(
        session,
        p,
        moved.id,
        OrganisationUpdate(community_id=fangcao.id, moved_on=dt.date(2026, 2, 1)),
    )
    await add("reading", "芳草读书会", fangcao, category="association", founded_on="2026-01-15")
    await add("green", "芳草环保志愿队", fangcao, category="volunteer_team", founded_on="2026-09-01")
    await add("village", "向阳村助老服务队", xiangyang, category="service", founded_on="2026-05-01")
    await add("alliance", "玉林街道公益联盟", yulin, category="alliance", founded_on="2023-09-01")
    await session.flush()

    hub = await cultivation.create_site(
        session,
        p,
        SiteIn(
            name="玉林街道社会组织孵化中心",
            level=SiteLevel.hub,
            kind=SiteKind.incubation_centre,
            premises=Premises.government,
            area_sqm="620.00",
            investment="850000.00",
            opened_on="2019-06-01",
            supervisor_id=hub_org.id,
        ),
    )
    yulin_station = await cultivation.create_site(
        session,
        p,
        SiteIn(
            name="玉林北路友邻站",
            level=SiteLevel.station,
            kind=SiteKind.neighbour_station,
            parent_id=hub.id,
            community_id=yulin.id,
            premises=Premises.community,
            area_sqm="180.50",
            investment="120000.00",
            opened_on="2022-03-15",
            operator_id=hub_org.id,
        ),
    )
    fangcao_station = await cultivation.create_site(
        session,
        p,
        SiteIn(
            name="芳草社工站",
            level=SiteLevel.station,
            kind=SiteKind.social_work_station,
            parent_id=hub.id,
            community_id=fangcao.id,
        ),
    )
    yulin_point = await cultivation.create_site(
        session,
        p,
        SiteIn(
            name="一院落友邻点",
            level=SiteLevel.point,
            kind=SiteKind.neighbour_point,
            parent_id=yulin_station.id,
            area_sqm="35.00",
        ),
    )

    plan = await cultivation.create_plan(
        session,
        p,
        PlanIn(
            title="2024—2026年社区社会组织培育计划",
            document="玉林街办发〔2024〕12号",
            issued_on="2024-02-20",
            first_year=2024,
            last_year=2026,
        ),
    )
    targets = [
        TargetIn(year=2026, metric=Metric.new_service, minimum=1, maximum=3),
        TargetIn(year=2026, metric=Metric.new_association, minimum=5),
        TargetIn(year=2026, community_id=yulin.id, metric=Metric.new_volunteer_team, minimum=1, maximum=1),
        TargetIn(year=2026, community_id=yulin.id, metric=Metric.flagship, minimum=1, maximum=1),
        TargetIn(year=2026, community_id=yulin.id, metric=Metric.total, minimum=6),
        TargetIn(year=2025, metric=Metric.new_service, minimum=1),
        TargetIn(year=2025, community_id=yulin.id, metric=Metric.total, minimum=4),
    ]
    for target in targets:
        await cultivation.set_target(session, p, plan.id, target)
    plan = await cultivation.get_plan(session, p, plan.id)
    return Street(
        centre=centre,
        staff=staff,
        station=station,
        yulin=yulin,
        fangcao=fangcao,
        xiangyang=xiangyang,
        hub=hub,
        yulin_station=yulin_station,
        fangcao_station=fangcao_station,
        yulin_point=yulin_point,
        plan=plan,
        orgs=orgs,
    )
