"""Incubation stays: the lifecycle, refusals with reasons, one active stay, graduation criteria."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from incubator.models import AssessmentStage, CapacityAssessment
from tests.factories import Actor, make_centre, make_user
from tests.incubator.helpers import make_org, make_owner, post_ok

ADMIT = {"start_date": "2026-03-01", "planned_months": 12, "mentor": "王老师", "workspace": "A-203"}


async def _stay(client: httpx.AsyncClient, staff: Actor, org_id: int) -> dict[str, Any]:
    return await post_ok(
        client, "/api/v1/incubation-stays", staff, {"organisation_id": org_id, "applied_on": "2026-01-10"}
    )


async def _to_incubating(client: httpx.AsyncClient, staff: Actor, org_id: int) -> dict[str, Any]:
    stay = await _stay(client, staff, org_id)
    base = f"/api/v1/incubation-stays/{stay['id']}"
    await post_ok(client, f"{base}/assess", staff, {"on": "2026-02-01", "note": "需求明确，团队稳定"})
    await post_ok(client, f"{base}/admit", staff, ADMIT)
    return await post_ok(client, f"{base}/start", staff, {"on": "2026-03-01"})


class TestLifecycle:
    async def test_full_path_with_extension(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        org = await make_org(session, staff)
        stay = await _to_incubating(client, staff, org.id)
        assert stay["state"] == "incubating"
        assert stay["planned_end"] == "2027-03-01"
        extended = await post_ok(
            client,
            f"/api/v1/incubation-stays/{stay['id']}/extend",
            staff,
            {"months": 6, "reason": "项目尚未结项"},
        )
        assert extended["planned_end"] == "2027-09-01"
        assert extended["extensions"] == 1
        assert [e["action"] for e in extended["events"]] == ["apply", "assess", "admit", "start", "extend"]
        profile = await client.get(f"/api/v1/organisations/{org.id}", headers=staff.headers)
        assert profile.json()["incubation_state"] == "incubating"

    @pytest.mark.parametrize(
        ("action", "body"),
        [
            ("admit", ADMIT),
            ("start", {"on": "2026-03-01"}),
            ("extend", {"months": 3, "reason": "延期理由"}),
            ("graduate", {"on": "2026-12-01"}),
        ],
    )
    async def test_illegal_transitions_are_refused_with_the_reason(
        self, client: httpx.AsyncClient, session: AsyncSession, action: str, body: dict[str, Any]
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        org = await make_org(session, staff)
        stay = await _stay(client, staff, org.id)
        response = await client.post(
            f"/api/v1/incubation-stays/{stay['id']}/{action}", json=body, headers=staff.headers
        )
        assert response.status_code == 409
        assert response.json()["error"]["message"].startswith("当前入驻状态为“已申请”")

    async def test_exit_from_any_active_state_then_new_stay(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        org = await make_org(session, staff)
        stay = await _stay(client, staff, org.id)
        second = await client.post(
            "/api/v1/incubation-stays",
            json={"organisation_id": org.id, "applied_on": "2026-01-11"},
            headers=staff.headers,
        )
        assert second.status_code == 409
        assert second.json()["error"]["message"] == "该组织已有进行中的入驻"
        exited = await post_ok(
            client,
            f"/api/v1/incubation-stays/{stay['id']}/exit",
            staff,
            {"on": "2026-01-20", "reason": "主动退出"},
        )
        assert exited["state"] == "exited"
        assert exited["is_active"] is False
        again = await client.post(
            f"/api/v1/incubation-stays/{stay['id']}/exit",
            json={"on": "2026-01-21", "reason": "再次"},
            headers=staff.headers,
        )
        assert again.status_code == 409
        new = await _stay(client, staff, org.id)
        history = await client.get(
            f"/api/v1/incubation-stays?organisation_id={org.id}", headers=staff.headers
        )
        assert [s["id"] for s in history.json()["items"]] == [new["id"], stay["id"]]

    async def test_applicant_applies_but_cannot_admit(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        owner, org = await make_owner(session, centre, staff)
        stay = await _stay(client, owner, org.id)
        response = await client.post(
            f"/api/v1/incubation-stays/{stay['id']}/assess",
            json={"on": "2026-02-01", "note": "自评"},
            headers=owner.headers,
        )
        assert response.status_code == 403


class TestGraduation:
    async def _assess(self, session: AsyncSession, org_id: int, centre_id: int, total: str) -> None:
        session.add(
            CapacityAssessment(
                centre_id=centre_id,
                organisation_id=org_id,
                stage=AssessmentStage.graduation,
                assessed_on=__import__("datetime").date(2026, 11, 1),
                rubric_version_id=1,
                scores={},
                total=Decimal(total),
                grade="pass",
                assessor="王老师",
                comments="",
            )
        )
        await session.flush()

    async def test_check_lists_each_criterion_and_graduation_waits(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        org = await make_org(session, staff, legal_status="unregistered")
        stay = await _to_incubating(client, staff, org.id)
        check = (
            await client.get(f"/api/v1/organisations/{org.id}/graduation-check", headers=staff.headers)
        ).json()
        assert check["eligible"] is False
        results = {c["code"]: (c["passed"], c["reason"]) for c in check["criteria"]}
        assert results["legal_status"] == (False, "法律状态为未登记")
        assert results["capacity_score"] == (False, "尚无能力评估")
        refused = await client.post(
            f"/api/v1/incubation-stays/{stay['id']}/graduate",
            json={"on": "2026-12-01"},
            headers=staff.headers,
        )
        assert refused.status_code == 409
        assert "法律状态为未登记" in refused.json()["error"]["message"]

        await client.patch(
            f"/api/v1/organisations/{org.id}", json={"legal_status": "filed"}, headers=staff.headers
        )
        await self._assess(session, org.id, centre.id, "58.50")
        check = (
            await client.get(f"/api/v1/organisations/{org.id}/graduation-check", headers=staff.headers)
        ).json()
        assert {c["code"]: c["passed"] for c in check["criteria"]} == {
            "legal_status": True,
            "capacity_score": False,
            "completed_project": False,
        }
        completed = next(c for c in check["criteria"] if c["code"] == "completed_project")
        assert completed["reason"] == "已完成 0 个项目"

        await self._assess(session, org.id, centre.id, "72.00")
        # this centre does not require a completed project for graduation
        policy = {"min_legal_status": "filed", "min_capacity_score": "60", "require_completed_project": False}
        response = await client.put("/api/v1/graduation-policy", json=policy, headers=staff.headers)
        assert response.status_code == 200
        graduated = await post_ok(
            client, f"/api/v1/incubation-stays/{stay['id']}/graduate", staff, {"on": "2026-12-01"}
        )
        assert graduated["state"] == "graduated"
        assert graduated["is_active"] is False

    async def test_policy_is_per_centre(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        org = await make_org(session, staff, legal_status="filed")
        await self._assess(session, org.id, centre.id, "72.00")
        policy = {
            "min_legal_status": "registered",
            "min_capacity_score": "80",
            "require_completed_project": False,
        }
        response = await client.put("/api/v1/graduation-policy", json=policy, headers=staff.headers)
        assert response.status_code == 200
        check = (
            await client.get(f"/api/v1/organisations/{org.id}/graduation-check", headers=staff.headers)
        ).json()
        assert {c["code"]: c["passed"] for c in check["criteria"] if c["applicable"]} == {
            "legal_status": False,
            "capacity_score": False,
        }
        other = await make_user(session, await make_centre(session), Role.staff)
        default = (await client.get("/api/v1/graduation-policy", headers=other.headers)).json()
        assert default["min_legal_status"] == "filed"


class TestSupport:
    async def test_activities_and_totals(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        owner, org = await make_owner(session, centre, staff)
        other = await make_org(session, staff, name="另一个组织")
        for org_id, held_on, hours, people in [
            (org.id, "2026-03-05", "2.5", 12),
            (org.id, "2026-03-20", "1.5", 3),
            (org.id, "2026-04-02", "3.0", 20),
            (other.id, "2026-03-07", "4.0", 8),
        ]:
            await post_ok(
                client,
                "/api/v1/support-activities",
                staff,
                {
                    "organisation_id": org_id,
                    "kind": "training",
                    "held_on": held_on,
                    "hours": hours,
                    "topic": "项目财务管理",
                    "given_by": "王老师",
                    "participants": people,
                },
            )
        monthly = await client.get(
            f"/api/v1/support-activities/totals?organisation_id={org.id}&by_month=true", headers=owner.headers
        )
        assert [(t["month"], t["activities"], t["hours"], t["participants"]) for t in monthly.json()] == [
            ("2026-03", 2, "4.0", 15),
            ("2026-04", 1, "3.0", 20),
        ]
        per_org = (await client.get("/api/v1/support-activities/totals", headers=staff.headers)).json()
        assert {t["organisation_id"]: t["hours"] for t in per_org} == {org.id: "7.0", other.id: "4.0"}
        assert (
            await client.get("/api/v1/support-activities/totals", headers=owner.headers)
        ).status_code == 403
        bad = await client.post(
            "/api/v1/support-activities",
            json={
                "organisation_id": org.id,
                "kind": "training",
                "held_on": "2026-03-05",
                "hours": "0",
                "topic": "x主题",
                "given_by": "王老师",
            },
            headers=staff.headers,
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["details"][0]["field"] == "hours"
