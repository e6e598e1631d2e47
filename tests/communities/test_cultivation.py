"""Cultivation progress on a realistic street, the network's rules and the station officer."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ValidationFailed
from core.identity.models import Role
from cultivation import service as cultivation
from cultivation.models import Metric, SiteKind, SiteLevel
from cultivation.progress import Standing
from cultivation.schemas import SiteIn
from incubator import service as incubator
from incubator.models import LegalStatus, OrganisationCategory
from incubator.schemas import OrganisationUpdate
from tests.communities.street import TODAY, Street, build_street
from tests.factories import make_centre, make_user


@pytest.fixture
async def street(session: AsyncSession) -> Street:
    return await build_street(session)


async def _progress(
    session: AsyncSession, street: Street, year: int
) -> dict[tuple[str, Metric], tuple[int, Standing, int]]:
    rows = await cultivation.centre_progress(session, street.centre.id, year, TODAY)
    return {
        (r.community, r.progress.metric): (r.progress.actual, r.progress.standing, r.progress.months_left)
        for r in rows
    }


class TestProgress:
    async def test_targets_read_met_above_range_and_behind(
        self, session: AsyncSession, street: Street
    ) -> None:
        got = await _progress(session, street, 2026)
        assert got[("玉林北路社区", Metric.flagship)] == (1, Standing.met, 2)
        # two new volunteer teams against a range of exactly one: shown above range, not a failure
        assert got[("玉林北路社区", Metric.new_volunteer_team)] == (2, Standing.above, 2)
        assert got[("玉林北路社区", Metric.total)] == (9, Standing.met, 2)
        # "each community" grows at least five associations: nobody has, with November and December left
        assert got[("玉林北路社区", Metric.new_association)] == (2, Standing.behind, 2)
        assert got[("芳草社区", Metric.new_association)] == (1, Standing.behind, 2)
        assert got[("向阳村", Metric.new_association)] == (0, Standing.behind, 2)
        assert got[("向阳村", Metric.new_service)] == (1, Standing.met, 2)
        assert got[("玉林北路社区", Metric.new_service)] == (0, Standing.behind, 2)

    async def test_moved_organisation_counts_where_it_was_at_the_end_of_the_year(
        self, session: AsyncSession, street: Street
    ) -> None:
        got_2025 = await _progress(session, street, 2025)
        # 芳草助残服务社 was founded in 玉林 in 2025 and moved to 芳草 on 1 February 2026
        assert got_2025[("玉林北路社区", Metric.new_service)] == (1, Standing.met, 0)
        assert got_2025[("芳草社区", Metric.new_service)] == (0, Standing.behind, 0)
        got_2026 = await _progress(session, street, 2026)
        assert got_2026[("芳草社区", Metric.new_service)][0] == 0
        picture = await cultivation.centre_picture(session, street.centre, 2026, TODAY)
        fangcao = next(c for c in picture.communities if c.community.id == street.fangcao.id)
        assert fangcao.total == 3

    async def test_an_exited_organisation_counts_for_its_year_but_not_in_later_totals(
        self, session: AsyncSession, street: Street
    ) -> None:
        got_2025 = await _progress(session, street, 2025)
        # 长者服务中心, 书画社, 邻里枢纽, 联盟 and the moved 助残服务社; 老年协会 exited on 30 June
        assert got_2025[("玉林北路社区", Metric.total)] == (5, Standing.met, 0)
        from cultivation import progress
        from incubator.service import counted_organisations

        orgs = await counted_organisations(session, [street.centre.id])
        tally_2024 = progress.count(orgs, 2024)
        assert tally_2024[(street.yulin.id, Metric.new_service)] == 2
        assert tally_2024[(street.yulin.id, Metric.total)] == 4  # 枢纽, 长者, 老年协会 and 2023's 联盟

    async def test_the_year_is_counted_in_shanghai_time(self, session: AsyncSession, street: Street) -> None:
        from cultivation import progress
        from incubator.service import counted_organisations

        orgs = {o.name: o for o in await counted_organisations(session, [street.centre.id])}
        new_year = orgs["玉林跨年志愿队"]
        assert new_year.created_on == dt.date(2026, 1, 1)
        assert progress.metrics_of(new_year, 2026)[0] is Metric.new_volunteer_team
        assert Metric.new_volunteer_team not in progress.metrics_of(new_year, 2025)

    async def test_totals_count_legal_status_at_the_end_of_the_year(
        self, session: AsyncSession, street: Street
    ) -> None:
        from cultivation import progress
        from incubator.service import counted_organisations

        orgs = await counted_organisations(session, [street.centre.id])
        tally = progress.count(orgs, 2026)
        assert tally[(street.yulin.id, Metric.registered_total)] == 2
        assert tally[(street.yulin.id, Metric.filed_total)] == 1
        assert progress.count(orgs, 2025)[(street.yulin.id, Metric.filed_total)] == 0


class TestNetwork:
    async def test_a_point_under_a_station_of_another_community_is_refused(
        self, session: AsyncSession, street: Street
    ) -> None:
        with pytest.raises(ValidationFailed) as refused:
            await cultivation.create_site(
                session,
                street.staff.principal,
                SiteIn(
                    name="芳草一号友邻点",
                    level=SiteLevel.point,
                    kind=SiteKind.neighbour_point,
                    parent_id=street.yulin_station.id,
                    community_id=street.fangcao.id,
                ),
            )
        assert refused.value.details[0].field == "community_id"
        assert "玉林北路友邻站" in refused.value.message
        assert "玉林北路社区" in refused.value.message

    async def test_one_hub_per_centre_and_stations_need_a_community(
        self, session: AsyncSession, street: Street
    ) -> None:
        with pytest.raises(ValidationFailed) as second_hub:
            await cultivation.create_site(
                session,
                street.staff.principal,
                SiteIn(name="另一个中心", level=SiteLevel.hub, kind=SiteKind.neighbour_centre),
            )
        assert second_hub.value.details[0].field == "level"
        with pytest.raises(ValidationFailed) as no_community:
            await cultivation.create_site(
                session,
                street.staff.principal,
                SiteIn(
                    name="无社区站",
                    level=SiteLevel.station,
                    kind=SiteKind.incubation_station,
                    parent_id=street.hub.id,
                ),
            )
        assert no_community.value.details[0].field == "community_id"

    async def test_the_tree_and_the_pictures_per_community(
        self, session: AsyncSession, street: Street
    ) -> None:
        picture = await cultivation.centre_picture(session, street.centre, 2026, TODAY)
        [hub] = picture.tree
        assert hub.site.name == "玉林街道社会组织孵化中心"
        assert [c.site.name for c in hub.children] == ["玉林北路友邻站", "芳草社工站"]
        assert [c.site.name for c in hub.children[0].children] == ["一院落友邻点"]
        yulin = next(c for c in picture.communities if c.community.id == street.yulin.id)
        assert yulin.by_category[OrganisationCategory.association] == 3
        assert yulin.by_status[LegalStatus.registered] == 2

    async def test_a_parent_chain_never_loops(self, session: AsyncSession, street: Street) -> None:
        hub = street.orgs["hub"]
        with pytest.raises(ValidationFailed) as loop:
            await incubator.update_organisation(
                session, street.staff.principal, hub.id, OrganisationUpdate(parent_id=street.orgs["choir"].id)
            )
        assert loop.value.details[0].field == "parent_id"


class TestStationOfficer:
    async def test_sees_and_records_only_in_their_community(
        self, client: httpx.AsyncClient, session: AsyncSession, street: Street
    ) -> None:
        headers = street.station.headers
        listed = (await client.get("/api/v1/organisations?page_size=100", headers=headers)).json()["items"]
        assert {o["community"] for o in listed} == {"玉林北路社区"}
        other = street.orgs["reading"]
        assert (await client.get(f"/api/v1/organisations/{other.id}", headers=headers)).status_code == 404
        refused = await client.post(
            "/api/v1/organisations",
            json={
                "name": "芳草跳绳队",
                "kind": "community_group",
                "legal_status": "unregistered",
                "community_id": street.fangcao.id,
                "category": "association",
            },
            headers=headers,
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["details"][0]["field"] == "community_id"
        team = await client.post(
            "/api/v1/organisations",
            json={
                "name": "玉林象棋队",
                "kind": "community_group",
                "legal_status": "unregistered",
                "category": "association",
                "founded_on": "2026-11-20",
            },
            headers=headers,
        )
        assert team.status_code == 201, team.text
        assert team.json()["community_id"] == street.yulin.id
        activity = await client.post(
            "/api/v1/support-activities",
            json={
                "organisation_id": team.json()["id"],
                "kind": "event",
                "held_on": "2026-11-22",
                "hours": "2.0",
                "topic": "象棋友谊赛",
                "given_by": "站点负责人",
                "participants": 16,
            },
            headers=headers,
        )
        assert activity.status_code == 201, activity.text
        need = await client.post(
            "/api/v1/needs", json={"description": "楼道照明需要维修", "source": "居民议事会"}, headers=headers
        )
        assert need.status_code == 201, need.text
        assert need.json()["community"] == "玉林北路社区"
        sites = (await client.get("/api/v1/sites", headers=headers)).json()["items"]
        assert {s["name"] for s in sites} == {"玉林街道社会组织孵化中心", "玉林北路友邻站", "一院落友邻点"}
        progress = (
            await client.get(
                f"/api/v1/cultivation-plans/{street.plan.id}/progress?year=2026", headers=headers
            )
        ).json()
        assert {r["community"] for r in progress["items"]} == {"玉林北路社区"}
        # the plan and the network are the staff's to change
        assert (
            await client.post(
                f"/api/v1/cultivation-plans/{street.plan.id}/targets",
                json={"year": 2026, "metric": "total", "minimum": 1},
                headers=headers,
            )
        ).status_code == 403

    async def test_a_station_officer_needs_a_community_of_their_centre(
        self, client: httpx.AsyncClient, session: AsyncSession, street: Street
    ) -> None:
        admin = await make_user(session, None, Role.admin, district=True)
        other = await make_centre(session)
        body = {
            "email": "zhan@example.org",
            "password": "correct-horse-battery",
            "roles": ["station"],
            "centre_id": other.id,
        }
        missing = await client.post("/api/v1/users", json=body, headers=admin.headers)
        assert missing.status_code == 422
        assert missing.json()["error"]["details"][0]["field"] == "community_id"
        foreign = await client.post(
            "/api/v1/users", json={**body, "community_id": street.yulin.id}, headers=admin.headers
        )
        assert foreign.status_code == 422
        assert foreign.json()["error"]["details"][0]["field"] == "community_id"


class TestPlansApi:
    async def test_staff_enter_a_plan_and_read_its_progress(
        self, client: httpx.AsyncClient, session: AsyncSession, street: Street
    ) -> None:
        headers = street.staff.headers
        plan = await client.post(
            "/api/v1/cultivation-plans",
            json={
                "title": "2027年培育计划",
                "document": "玉林街办发〔2027〕1号",
                "first_year": 2027,
                "last_year": 2027,
            },
            headers=headers,
        )
        assert plan.status_code == 201, plan.text
        plan_id = plan.json()["id"]
        outside = await client.post(
            f"/api/v1/cultivation-plans/{plan_id}/targets",
            json={"year": 2026, "metric": "new_service", "minimum": 1},
            headers=headers,
        )
        assert outside.status_code == 422
        assert outside.json()["error"]["details"][0]["field"] == "year"
        backwards = await client.post(
            f"/api/v1/cultivation-plans/{plan_id}/targets",
            json={"year": 2027, "metric": "new_service", "minimum": 3, "maximum": 1},
            headers=headers,
        )
        assert backwards.status_code == 422
        assert backwards.json()["error"]["details"][0]["field"] == "maximum"
        ok = await client.post(
            f"/api/v1/cultivation-plans/{plan_id}/targets",
            json={"year": 2027, "community_id": street.xiangyang.id, "metric": "new_service", "minimum": 1},
            headers=headers,
        )
        assert ok.status_code == 201, ok.text
        rows = (
            await client.get(f"/api/v1/cultivation-plans/{plan_id}/progress?year=2027", headers=headers)
        ).json()
        assert [(r["community"], r["actual"], r["standing"]) for r in rows["items"]] == [
            ("向阳村", 0, "behind")
        ]

    async def test_the_district_reads_every_centre_and_staff_do_not(
        self, client: httpx.AsyncClient, session: AsyncSession, street: Street
    ) -> None:
        district = await make_user(session, None, Role.staff, district=True)
        rollup = await client.get("/api/v1/district/cultivation?year=2026", headers=district.headers)
        assert rollup.status_code == 200
        mine = next(c for c in rollup.json() if c["centre_id"] == street.centre.id)
        yulin = next(c for c in mine["communities"] if c["community"] == "玉林北路社区")
        assert yulin["organisations"] == 9
        assert (
            await client.get("/api/v1/district/cultivation", headers=street.staff.headers)
        ).status_code == 403


def test_months_left_count_the_current_month_until_its_last_day() -> None:
    from cultivation.progress import months_left

    assert months_left(2026, dt.date(2026, 10, 1)) == 3
    assert months_left(2026, dt.date(2026, 9, 30)) == 3
    assert months_left(2026, dt.date(2026, 12, 31)) == 0
    assert months_left(2025, dt.date(2026, 1, 1)) == 0
    assert months_left(2027, dt.date(2026, 1, 1)) == 12


async def test_an_application_links_its_target_community_when_the_name_is_one(session: AsyncSession) -> None:
    from grants.applications import service as applications
    from grants.applications.schemas import ApplicationCreate
    from tests.grants.factories import applicant_org, application_payload, open_programme

    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    owner, org = await applicant_org(session, centre, staff)
    programme = await open_programme(session, staff)
    linked = await applications.create_application(
        session, owner.principal, ApplicationCreate.model_validate(application_payload(programme, org))
    )
    assert linked.target_community == "玉林北路社区"
    assert linked.target_community_id == org.community_id
    whole_street = await applications.create_application(
        session,
        owner.principal,
        ApplicationCreate.model_validate(application_payload(programme, org, target_community="全街道")),
    )
    assert whole_street.target_community_id is None
