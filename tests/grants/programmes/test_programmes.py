"""Programmes: validation, what may change in each state, the state machine."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from tests.factories import make_centre, make_user
from tests.grants.factories import programme_payload, review_rubric_version


async def _staff(session: AsyncSession):  # type: ignore[no-untyped-def]
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    version = await review_rubric_version(session, centre.id)
    return staff, version


class TestCreate:
    async def test_wrong_role(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        applicant = await make_user(session, await make_centre(session), Role.applicant)
        response = await client.post(
            "/api/v1/programmes", json=programme_payload(None), headers=applicant.headers
        )
        assert response.status_code == 403

    async def test_valid(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff, version = await _staff(session)
        response = await client.post(
            "/api/v1/programmes", json=programme_payload(version), headers=staff.headers
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["state"] == "draft"
        assert body["total_budget"] == "500000.00"
        assert body["committed"] == "0.00"
        assert [c["budget"] for c in body["categories"]] == ["300000.00", "200000.00"]
        assert [(r["share_pct"], r["trigger"]) for r in body["tranche_plan"]] == [
            ("50.00", "on_signing"),
            ("30.00", "midterm_passed"),
            ("20.00", "final_passed"),
        ]

    @pytest.mark.parametrize(
        ("override", "field"),
        [
            ({"tranche_plan": [{"share_pct": "50", "trigger": "on_signing"}]}, "tranche_plan"),
            ({"categories": [{"code": "a", "name": "甲", "budget": "600000"}]}, "categories"),
            ({"max_award_registered": "0"}, "max_award_registered"),
            ({"max_award_registered": "500000.01"}, "max_award_registered"),
            ({"max_award_community": "600000"}, "max_award_community"),
            ({"total_budget": 12.5}, "total_budget"),
        ],
    )
    async def test_invalid_names_the_field(
        self, client: httpx.AsyncClient, session: AsyncSession, override: dict[str, object], field: str
    ) -> None:
        staff, version = await _staff(session)
        response = await client.post(
            "/api/v1/programmes", json=programme_payload(version, **override), headers=staff.headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"].startswith(field)


class TestStates:
    async def test_illegal_transitions_are_refused(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff, version = await _staff(session)
        pid = (
            await client.post("/api/v1/programmes", json=programme_payload(version), headers=staff.headers)
        ).json()["id"]
        for action in ("start-review", "publicise", "close"):
            response = await client.post(f"/api/v1/programmes/{pid}/{action}", json={}, headers=staff.headers)
            assert response.status_code == 409, action
            assert response.json()["error"]["message"] == "项目计划当前为“草稿”，无法执行此操作"
        decide = await client.post(
            f"/api/v1/programmes/{pid}/decide",
            json={"decisions": [{"application_id": 1, "approve": True, "reason": "理由充分"}]},
            headers=staff.headers,
        )
        assert decide.status_code == 409
        assert (await client.post(f"/api/v1/programmes/{pid}/open", headers=staff.headers)).json()[
            "state"
        ] == "open"
        assert (await client.post(f"/api/v1/programmes/{pid}/open", headers=staff.headers)).status_code == 409

    async def test_open_needs_a_rubric(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff, _version = await _staff(session)
        pid = (
            await client.post("/api/v1/programmes", json=programme_payload(None), headers=staff.headers)
        ).json()["id"]
        response = await client.post(f"/api/v1/programmes/{pid}/open", headers=staff.headers)
        assert response.status_code == 409
        assert "评审标准" in response.json()["error"]["message"]

    async def test_rules_frozen_once_open(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff, version = await _staff(session)
        payload = programme_payload(version)
        pid = (await client.post("/api/v1/programmes", json=payload, headers=staff.headers)).json()["id"]
        await client.post(f"/api/v1/programmes/{pid}/open", headers=staff.headers)
        payload["max_award_community"] = "50000.00"
        refused = await client.put(f"/api/v1/programmes/{pid}", json=payload, headers=staff.headers)
        assert refused.status_code == 409
        assert "max_award_community" in refused.json()["error"]["message"]
        payload["max_award_community"] = "30000.00"
        payload["total_budget"] = "600000.00"
        allowed = await client.put(f"/api/v1/programmes/{pid}", json=payload, headers=staff.headers)
        assert allowed.status_code == 200
        assert allowed.json()["total_budget"] == "600000.00"


async def test_needs_and_topics(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff, version = await _staff(session)
    need = await client.post(
        "/api/v1/needs",
        json={"community": "玉林北路社区", "description": "独居长者缺少陪伴", "source": "社区走访"},
        headers=staff.headers,
    )
    assert need.status_code == 201
    pid = (
        await client.post("/api/v1/programmes", json=programme_payload(version), headers=staff.headers)
    ).json()["id"]
    topic = await client.post(
        f"/api/v1/programmes/{pid}/topics",
        json={"title": "独居长者关爱", "need_id": need.json()["id"]},
        headers=staff.headers,
    )
    assert topic.status_code == 201
    listed = await client.get(f"/api/v1/programmes/{pid}/topics", headers=staff.headers)
    assert [(t["title"], t["need_id"]) for t in listed.json()] == [("独居长者关爱", need.json()["id"])]


class TestReaders:
    """Calls are read by the centre's people and its applicants; evaluators see nothing of grants."""

    async def test_evaluator_sees_no_programme(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff, version = await _staff(session)
        assert staff.user.centre_id is not None
        created = await client.post(
            "/api/v1/programmes", json=programme_payload(version), headers=staff.headers
        )
        programme_id = created.json()["id"]
        evaluator = await make_user(session, await _centre(session, staff), Role.evaluator)
        assert (await client.get("/api/v1/programmes", headers=evaluator.headers)).status_code == 403
        one = await client.get(f"/api/v1/programmes/{programme_id}", headers=evaluator.headers)
        assert one.status_code == 403
        assert one.json()["error"]["message"] == "您的角色无权执行此操作"

    async def test_applicant_does_not_find_a_draft(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff, version = await _staff(session)
        created = await client.post(
            "/api/v1/programmes", json=programme_payload(version), headers=staff.headers
        )
        programme_id = created.json()["id"]
        applicant = await make_user(session, await _centre(session, staff), Role.applicant)
        assert (
            await client.get(f"/api/v1/programmes/{programme_id}", headers=applicant.headers)
        ).status_code == 404
        listed = await client.get("/api/v1/programmes", headers=applicant.headers)
        assert listed.json()["total"] == 0
        opened = await client.post(f"/api/v1/programmes/{programme_id}/open", headers=staff.headers)
        assert opened.status_code == 200, opened.text
        found = await client.get(f"/api/v1/programmes/{programme_id}", headers=applicant.headers)
        assert found.status_code == 200
        assert found.json()["state"] == "open"

    async def test_admin_reads_needs_and_objections_finance_the_export(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff, _version = await _staff(session)
        centre = await _centre(session, staff)
        admin = await make_user(session, centre, Role.admin)
        finance = await make_user(session, centre, Role.finance)
        need = {"community": "玉林北路社区", "description": "独居长者缺少陪伴", "source": "入户走访"}
        assert (await client.post("/api/v1/needs", json=need, headers=admin.headers)).status_code == 403
        assert (await client.post("/api/v1/needs", json=need, headers=staff.headers)).status_code == 201
        needs = await client.get("/api/v1/needs", headers=admin.headers)
        assert needs.status_code == 200
        assert [n["community"] for n in needs.json()["items"]] == ["玉林北路社区"]
        assert (await client.get("/api/v1/objections", headers=admin.headers)).status_code == 200
        assert (await client.get("/api/v1/needs", headers=finance.headers)).status_code == 403
        export = await client.get("/api/v1/exports/360giving.json", headers=finance.headers)
        assert export.status_code == 200
        assert export.json()["grants"] == []


async def _centre(session: AsyncSession, staff):  # type: ignore[no-untyped-def]
    from core.identity.models import Centre

    centre = await session.get(Centre, staff.user.centre_id)
    assert centre is not None
    return centre
