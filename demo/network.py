"""The demo street's network: its communities with households and population, the hub with
stations and a point, the organisations' cultivation categories, resident teams under a hub
organisation, a station officer, and the street office's 2025–2027 cultivation plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from communities import service as communities
from communities.models import CommunityKind
from communities.schemas import CommunityIn
from core.identity import service as identity
from core.identity.models import Role
from core.identity.schemas import UserCreate
from cultivation import service as cultivation
from cultivation.models import Metric, Premises, SiteKind, SiteLevel
from cultivation.schemas import PlanIn, SiteIn, TargetIn
from demo.loader import DEMO_PASSWORD, DemoAccount, DemoContext, demo_step
from grants.contracts import service as contracts
from incubator import service as incubator
from incubator.models import Organisation
from incubator.repository import OrganisationFilters
from incubator.schemas import OrganisationCreate, OrganisationUpdate

COMMUNITIES = [
    # name, code, households, population
    ("玉林北路社区", "510107003001", 4860, 12350),
    ("芳草社区", "510107003002", 3920, 9870),
    ("玉林东路社区", "510107003003", 3310, 8460),
    ("玉林南路社区", "510107003004", 2780, 7120),
    ("玉林西路社区", "510107003005", 2450, 6030),
]
CATEGORIES: dict[str, dict[str, Any]] = {
    "玉林社区邻里互助会": {"category": "association", "origin": "local", "courtyard": "玉林北路2号院"},
    "成都市武侯区芳华青少年服务中心": {
        "category": "service",
        "origin": "introduced",
        "registered_on": dt.date(2018, 9, 3),
        "party_organisation": "own",
        "party_members": 4,
    },
    "玉林绿色家园环保志愿队": {"category": "volunteer_team", "origin": "local"},
    "武侯区乐龄文体协会": {
        "category": "association",
        "origin": "local",
        "registered_on": dt.date(2016, 6, 18),
    },
    "玉林街道法律援助服务社": {"category": "service", "origin": "local", "filed_on": dt.date(2022, 3, 1)},
}
HUB_ORG = "玉林街道社区社会组织联合会"
RESIDENT_TEAMS = [
    # name, community, category, founded, legal status
    ("玉林北路银龄合唱团", "玉林北路社区", "association", dt.date(2026, 3, 8), "unregistered"),
    ("玉林北路书画社", "玉林北路社区", "association", dt.date(2026, 5, 16), "unregistered"),
    ("玉林北路一院落自治协会", "玉林北路社区", "self_governance", dt.date(2026, 4, 2), "unregistered"),
    ("芳草社区邻里守望志愿队", "芳草社区", "volunteer_team", dt.date(2026, 2, 20), "filed"),
    ("芳草社区长者助餐服务社", "芳草社区", "service", dt.date(2025, 7, 1), "filed"),
    ("玉林东路跳绳队", "玉林东路社区", "association", dt.date(2025, 10, 12), "unregistered"),
    ("玉林南路四点半课堂服务队", "玉林南路社区", "service", dt.date(2026, 9, 1), "unregistered"),
]


async def _org(context: DemoContext, name: str) -> Organisation:
    staff = identity.principal_of(context.users["staff"])
    [org] = [
        o
        for o in await incubator.all_organisations(context.session, staff, OrganisationFilters(q=name))
        if o.name == name
    ]
    return org


@demo_step
async def network(context: DemoContext) -> None:
    session = context.session
    staff = identity.principal_of(context.users["staff"])
    places = {}
    existing = {c.name: c for c in await communities.list_communities(session, staff)}
    for name, code, households, population in COMMUNITIES:
        data = CommunityIn(
            name=name, kind=CommunityKind.community, code=code, households=households, population=population
        )
        if name in existing:
            places[name] = await communities.update_community(session, staff, existing[name].id, data)
        else:
            places[name] = await communities.create_community(session, staff, data)

    for name, values in CATEGORIES.items():
        org = await _org(context, name)
        await incubator.update_organisation(session, staff, org.id, OrganisationUpdate.model_validate(values))
    hub_org = await incubator.create_organisation(
        session,
        staff,
        OrganisationCreate.model_validate(
            {
                "name": HUB_ORG,
                "kind": "social_group",
                "legal_status": "filed",
                "category": "hub",
                "origin": "local",
                "community_id": places["玉林北路社区"].id,
                "street": "玉林街道",
                "founded_on": "2021-05-20",
                "filed_on": "2021-06-15",
                "flagship_on": "2026-06-18",
                "party_organisation": "own",
                "party_members": 7,
                "contact_name": "黄丽",
            }
        ),
    )
    for name, community, category, founded, status in RESIDENT_TEAMS:
        await incubator.create_organisation(
            session,
            staff,
            OrganisationCreate.model_validate(
                {
                    "name": name,
                    "kind": "community_group",
                    "legal_status": status,
                    "category": category,
                    "origin": "local",
                    "community_id": places[community].id,
                    "street": "玉林街道",
                    "founded_on": founded.isoformat(),
                    "filed_on": founded.isoformat() if status == "filed" else None,
                    "parent_id": hub_org.id,
                }
            ),
        )

    officer = await identity.create_user(
        session,
        UserCreate(
            email="station@yulin.demo",
            password=DEMO_PASSWORD,
            full_name="黄丽",
            roles=[Role.station],
            centre_id=context.centre.id,
            community_id=places["玉林北路社区"].id,
        ),
        actor=None,
    )
    context.users["station"] = officer
    context.accounts.append(DemoAccount("station (玉林北路社区)", officer.email, officer.full_name))

    contract = next(iter(await contracts.all_contracts(session, staff)), None)
    sports = await _org(context, "武侯区乐龄文体协会")
    hub = await cultivation.create_site(
        session,
        staff,
        SiteIn.model_validate(
            {
                "name": "玉林街道社会组织孵化中心",
                "level": SiteLevel.hub,
                "kind": SiteKind.incubation_centre,
                "address": "玉林北路2号",
                "premises": Premises.government,
                "area_sqm": "620.00",
                "investment": "850000.00",
                "opened_on": "2019-06-01",
                "supervisor_id": hub_org.id,
            }
        ),
    )
    stations = [
        ("玉林北路友邻站", SiteKind.neighbour_station, "玉林北路社区", "180.50", "120000.00", "2022-03-15", hub_org.id),
        ("芳草社工站", SiteKind.social_work_station, "芳草社区", "150.00", "96000.00", "2023-05-10", None),
        ("玉林东路党群服务中心", SiteKind.party_service_centre, "玉林东路社区", "260.00", "210000.00", "2020-07-01", None),
    ]  # fmt: skip
    made = {}
    for name, kind, community, area, investment, opened, operator in stations:
        made[name] = await cultivation.create_site(
            session,
            staff,
            SiteIn.model_validate(
                {
                    "name": name,
                    "level": SiteLevel.station,
                    "kind": kind,
                    "parent_id": hub.id,
                    "community_id": places[community].id,
                    "premises": Premises.community,
                    "area_sqm": area,
                    "investment": investment,
                    "opened_on": opened,
                    "operator_id": operator
                    if operator
                    else (sports.id if contract is not None and name == "芳草社工站" else None),
                    "operator_contract_id": contract.id
                    if contract is not None and name == "芳草社工站"
                    else None,
                }
            ),
        )
    await cultivation.create_site(
        session,
        staff,
        SiteIn.model_validate(
            {
                "name": "玉林北路一院落友邻点",
                "level": SiteLevel.point,
                "kind": SiteKind.neighbour_point,
                "parent_id": made["玉林北路友邻站"].id,
                "premises": Premises.lent,
                "area_sqm": "40.00",
                "opened_on": "2024-09-01",
            }
        ),
    )

    plan = await cultivation.create_plan(
        session,
        staff,
        PlanIn.model_validate(
            {
                "title": "玉林街道2025—2027年社区社会组织培育计划",
                "document": "玉林街办发〔2025〕8号",
                "issued_on": "2025-03-10",
                "first_year": 2025,
                "last_year": 2027,
                "notes": "每个社区每年培育为民服务类社会组织1至3个、社团不少于5个；玉林北路社区培育品牌组织1个。",
            }
        ),
    )
    for year in (2025, 2026, 2027):
        for target in (
            TargetIn(year=year, metric=Metric.new_service, minimum=1, maximum=3),
            TargetIn(year=year, metric=Metric.new_association, minimum=5),
            TargetIn(year=year, metric=Metric.new_volunteer_team, minimum=1),
        ):
            await cultivation.set_target(session, staff, plan.id, target)
    await cultivation.set_target(
        session,
        staff,
        plan.id,
        TargetIn(
            year=2026, community_id=places["玉林北路社区"].id, metric=Metric.flagship, minimum=1, maximum=1
        ),
    )
    await cultivation.set_target(
        session,
        staff,
        plan.id,
        TargetIn(year=2026, community_id=places["芳草社区"].id, metric=Metric.total, minimum=3),
    )
