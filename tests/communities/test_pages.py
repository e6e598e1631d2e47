"""The network, plan, communities and needs pages, for staff and for a station officer."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from cultivation import service as cultivation
from cultivation.models import Metric
from cultivation.schemas import PlanIn, TargetIn
from tests.communities.street import Street, build_street
from tests.incubator.test_pages import logged_in


@pytest.fixture
async def street(session: AsyncSession) -> Street:
    return await build_street(session)


async def test_staff_see_the_network_with_targets_beside_the_communities(
    client: httpx.AsyncClient, street: Street
) -> None:
    await logged_in(client, street.staff)
    page = await client.get("/network?year=2026")
    assert page.status_code == 200
    text = page.text
    for name in ("玉林街道社会组织孵化中心", "玉林北路友邻站", "一院落友邻点", "芳草社工站", "向阳村"):
        assert name in text
    assert 'data-metric="new_volunteer_team" data-standing="above"' in text
    assert "高于区间" in text
    assert "落后" in text


async def test_staff_enter_a_target_through_the_plan_page(client: httpx.AsyncClient, street: Street) -> None:
    csrf = await logged_in(client, street.staff)
    url = f"/cultivation/plans/{street.plan.id}"
    bad = await client.post(
        f"{url}/targets",
        data={"csrf_token": csrf, "year": "2026", "metric": "new_service", "minimum": "3", "maximum": "1"},
    )
    assert bad.status_code == 422
    assert "最大值不能小于最小值" in bad.text
    saved = await client.post(
        f"{url}/targets",
        data={
            "csrf_token": csrf,
            "year": "2026",
            "community_id": str(street.fangcao.id),
            "metric": "new_volunteer_team",
            "minimum": "1",
        },
    )
    assert saved.status_code == 303
    page = await client.get(f"{url}?year=2026")
    assert 'data-community="芳草社区" data-metric="new_volunteer_team" data-standing="met"' in page.text


async def test_a_station_officer_sees_their_community_and_their_targets_behind(
    client: httpx.AsyncClient, session: AsyncSession, street: Street
) -> None:
    year = today().year
    plan = await cultivation.create_plan(
        session, street.staff.principal, PlanIn(title="本年度培育目标", first_year=year, last_year=year)
    )
    await cultivation.set_target(
        session,
        street.staff.principal,
        plan.id,
        TargetIn(year=year, metric=Metric.new_association, minimum=50),
    )
    csrf = await logged_in(client, street.station)
    dashboard = await client.get("/dashboard")
    assert 'data-behind="玉林北路社区"' in dashboard.text
    assert 'data-behind="芳草社区"' not in dashboard.text
    network = await client.get("/network")
    assert "玉林北路友邻站" in network.text
    assert "芳草社工站" not in network.text
    orgs = await client.get("/organisations")
    assert "玉林合唱团" in orgs.text
    assert "芳草读书会" not in orgs.text
    need = await client.post(
        "/needs",
        data={
            "csrf_token": csrf,
            "community_id": str(street.yulin.id),
            "description": "院坝照明维修",
            "source": "院落议事会",
        },
    )
    assert need.status_code == 303
    assert "院坝照明维修" in (await client.get("/needs")).text
    assert (await client.get("/sites/new")).status_code == 403
