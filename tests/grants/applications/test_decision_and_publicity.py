"""From review to award: ranking, decision with budget, publicity, objections, award once, 360Giving."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import clock
from core.clock import today
from core.identity.models import Role
from grants.applications import publicity
from grants.applications import service as application_service
from grants.applications.models import Application
from grants.applications.schemas import ConfirmEligibility
from grants.awards.models import Award
from grants.programmes.models import Programme
from tests.factories import Actor, make_centre, make_user
from tests.grants.factories import (
    applicant_org,
    open_programme,
    run_review,
    submitted_application,
)

STANDARDS = Path(__file__).resolve().parents[4] / "shared" / "standards" / "360giving"


async def _reviewed_programme(session: AsyncSession) -> tuple[Actor, Programme, list[Application], Any]:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    evaluators = [await make_user(session, centre, Role.evaluator) for _ in range(3)]
    programme = await open_programme(session, staff)
    applications = []
    for name, uscc in (("甲社区互助会", None), ("乙青少年中心", "52440106MJL0K3T50W"), ("丙环保队", None)):
        status = "registered" if uscc else "filed"
        owner, org = await applicant_org(session, centre, staff, name=name, legal_status=status, uscc=uscc)
        application = await submitted_application(session, programme, owner, org, title=f"{name}的项目")
        await application_service.confirm_eligibility(
            session, staff.principal, application.id, ConfirmEligibility()
        )
        applications.append(application)
    await run_review(
        session,
        staff,
        evaluators,
        programme.id,
        {
            applications[0].id: [88, 90, 86],
            applications[1].id: [92, 95, 90],
            applications[2].id: [55, 50, 58],
        },
    )
    return staff, programme, applications, centre


async def test_review_ranks_and_recommends(session: AsyncSession) -> None:
    staff, programme, applications, _centre = await _reviewed_programme(session)
    states = {
        a.id: (a.state.value, a.rank)
        for a in (
            await application_service.list_applications(
                session,
                staff.principal,
                __import__("core.repository", fromlist=["PageParams"]).PageParams(),
                programme_id=programme.id,
            )
        ).items
    }
    assert states[applications[1].id] == ("recommended", 1)
    assert states[applications[0].id] == ("recommended", 2)
    assert states[applications[2].id][0] == "not_recommended"


async def test_decide_publicise_and_award_once(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Decided the day before National Day, so the publicity counts working days over the holiday.
    monkeypatch.setattr(publicity, "today", lambda: dt.date(2026, 9, 29))
    staff, programme, applications, _centre = await _reviewed_programme(session)
    a, b, c = (x.id for x in applications)
    missing = await client.post(
        f"/api/v1/programmes/{programme.id}/decide",
        json={"decisions": [{"application_id": a, "approve": True, "reason": "排名第二，预算合理"}]},
        headers=staff.headers,
    )
    assert missing.status_code == 422
    assert "尚缺" in missing.json()["error"]["details"][0]["message"]
    decided = await client.post(
        f"/api/v1/programmes/{programme.id}/decide",
        json={
            "decisions": [
                {
                    "application_id": a,
                    "approve": True,
                    "amount": "18000.00",
                    "reason": "排名第二，核减部分活动经费",
                },
                {"application_id": b, "approve": True, "reason": "排名第一"},
                {"application_id": c, "approve": False, "reason": "评审未达合格线"},
            ]
        },
        headers=staff.headers,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "decided"
    assert decided.json()["committed"] == "38000.00"
    assert [cat["committed"] for cat in decided.json()["categories"]] == ["38000.00", "0.00"]

    publicised = await client.post(
        f"/api/v1/programmes/{programme.id}/publicise",
        json={"starts_on": "2026-09-30"},
        headers=staff.headers,
    )
    assert publicised.status_code == 200
    app_a = (await client.get(f"/api/v1/applications/{a}", headers=staff.headers)).json()
    assert (app_a["publicity_starts_on"], app_a["publicity_ends_on"]) == ("2026-09-30", "2026-10-12")

    # the award is created once the period ends, exactly once, by the job or on access
    assert await publicity.finalise_publicity(session, dt.date(2026, 10, 12)) == []
    first = await publicity.finalise_publicity(session, dt.date(2026, 10, 13))
    second = await publicity.finalise_publicity(session, dt.date(2026, 10, 14))
    assert sorted(award.amount for award in first) == [Decimal("18000.00"), Decimal("20000.00")]
    assert second == []
    count = (
        await session.execute(
            select(func.count()).select_from(Award).where(Award.programme_id == programme.id)
        )
    ).scalar_one()
    assert count == 2
    award_a = next(x for x in first if x.application_id == a)
    assert [t.amount for t in award_a.tranches] == [
        Decimal("9000.00"),
        Decimal("5400.00"),
        Decimal("3600.00"),
    ]
    assert (await client.get(f"/api/v1/applications/{a}", headers=staff.headers)).json()["state"] == "awarded"
    assert (await client.get(f"/api/v1/programmes/{programme.id}", headers=staff.headers)).json()[
        "state"
    ] == "running"


async def _decided_two_of_three(
    client: httpx.AsyncClient, session: AsyncSession
) -> tuple[Actor, Programme, tuple[int, int, int]]:
    """A reviewed programme whose first two applications are approved and the third rejected."""
    staff, programme, applications, _centre = await _reviewed_programme(session)
    a, b, c = (x.id for x in applications)
    decisions = [
        {"application_id": a, "approve": True, "reason": "排名第二"},
        {"application_id": b, "approve": True, "reason": "排名第一"},
        {"application_id": c, "approve": False, "reason": "未达合格线"},
    ]
    decided = await client.post(
        f"/api/v1/programmes/{programme.id}/decide", json={"decisions": decisions}, headers=staff.headers
    )
    assert decided.status_code == 200, decided.text
    return staff, programme, (a, b, c)


async def test_publicity_never_starts_in_the_past(client: httpx.AsyncClient, session: AsyncSession) -> None:
    """A start before today was accepted: the publicity could end before anyone saw it."""
    staff, programme, (a, _b, _c) = await _decided_two_of_three(client, session)
    url = f"/api/v1/programmes/{programme.id}/publicise"
    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    refused = await client.post(url, json={"starts_on": yesterday}, headers=staff.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["details"][0]["field"] == "starts_on"
    app_a = (await client.get(f"/api/v1/applications/{a}", headers=staff.headers)).json()
    assert (app_a["state"], app_a["publicity_starts_on"]) == ("approved", None)
    assert (await client.get(f"/api/v1/programmes/{programme.id}", headers=staff.headers)).json()[
        "state"
    ] == "decided"
    started = await client.post(url, json={"starts_on": today().isoformat()}, headers=staff.headers)
    assert started.status_code == 200, started.text
    app_a = (await client.get(f"/api/v1/applications/{a}", headers=staff.headers)).json()
    assert app_a["publicity_starts_on"] >= today().isoformat()


async def test_publicity_put_up_on_a_saturday_is_read_that_day_and_counts_from_monday(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    saturday = dt.datetime(2026, 11, 28, 10, 0, tzinfo=clock.SHANGHAI)
    monkeypatch.setattr(clock, "now_local", lambda: saturday)
    staff, programme, (a, b, _c) = await _decided_two_of_three(client, session)
    put_up = await client.post(f"/api/v1/programmes/{programme.id}/publicise", json={}, headers=staff.headers)
    assert put_up.status_code == 200, put_up.text
    app_a = (await client.get(f"/api/v1/applications/{a}", headers=staff.headers)).json()
    # five working days: Monday 30 November to Friday 4 December
    assert (app_a["publicity_starts_on"], app_a["publicity_ends_on"]) == ("2026-11-28", "2026-12-04")
    listed = (await client.get("/api/v1/public/publicity")).json()
    assert {item["application_id"] for item in listed} == {a, b}
    objection = await client.post(
        "/api/v1/objections", json={"application_id": a, "content": "周末看到公示，请核实活动是否重复"}
    )
    assert objection.status_code == 201, objection.text


async def test_objection_upheld_and_dismissed(
    client: httpx.AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    staff, programme, applications, _centre = await _reviewed_programme(session)
    a, b, c = (x.id for x in applications)
    await client.post(
        f"/api/v1/programmes/{programme.id}/decide",
        json={
            "decisions": [
                {"application_id": a, "approve": True, "reason": "排名第二"},
                {"application_id": b, "approve": True, "reason": "排名第一"},
                {"application_id": c, "approve": False, "reason": "未达合格线"},
            ]
        },
        headers=staff.headers,
    )
    await client.post(f"/api/v1/programmes/{programme.id}/publicise", json={}, headers=staff.headers)

    public = await client.get("/api/v1/public/publicity")
    assert public.status_code == 200
    listed = {item["application_id"]: item for item in public.json()}
    assert set(listed) == {a, b}
    assert listed[b]["organisation"] == "乙青少年中心"
    assert listed[b]["amount"] == "20000.00"

    objection_a = await client.post(
        "/api/v1/objections", json={"application_id": a, "content": "该组织负责人同时是评审专家的亲属"}
    )
    objection_b = await client.post(
        "/api/v1/objections", json={"application_id": b, "content": "活动与去年重复，请核实"}
    )
    assert objection_a.status_code == 201
    not_public = await client.post(
        "/api/v1/objections", json={"application_id": c, "content": "未立项项目的异议内容"}
    )
    assert not_public.status_code == 404

    # an open objection holds the award back
    later = dt.date.today() + dt.timedelta(days=40)
    assert await publicity.finalise_publicity(session, later) == []

    upheld = await client.post(
        f"/api/v1/objections/{objection_a.json()['id']}/resolve",
        json={"upheld": True, "resolution": "经核实存在利益关联，取消立项"},
        headers=staff.headers,
    )
    assert upheld.json()["state"] == "upheld"
    dismissed = await client.post(
        f"/api/v1/objections/{objection_b.json()['id']}/resolve",
        json={"upheld": False, "resolution": "经核实活动内容不同"},
        headers=staff.headers,
    )
    assert dismissed.json()["state"] == "dismissed"
    again = await client.post(
        f"/api/v1/objections/{objection_b.json()['id']}/resolve",
        json={"upheld": True, "resolution": "再次处理"},
        headers=staff.headers,
    )
    assert again.status_code == 409

    rejected = (await client.get(f"/api/v1/applications/{a}", headers=staff.headers)).json()
    assert rejected["state"] == "rejected"
    assert rejected["decision_reason"] == "异议成立：经核实存在利益关联，取消立项"
    assert (await client.get(f"/api/v1/programmes/{programme.id}", headers=staff.headers)).json()[
        "committed"
    ] == "20000.00"
    awards = await publicity.finalise_publicity(session, later)
    assert [award.application_id for award in awards] == [b]


async def test_objections_are_rate_limited(client: httpx.AsyncClient, session: AsyncSession) -> None:
    for _ in range(5):
        await client.post("/api/v1/objections", json={"application_id": 999, "content": "测试异议内容"})
    response = await client.post(
        "/api/v1/objections", json={"application_id": 999, "content": "测试异议内容"}
    )
    assert response.status_code == 429


async def test_budget_is_never_overspent(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff, programme, applications, _centre = await _reviewed_programme(session)
    shrink = await client.put(
        f"/api/v1/programmes/{programme.id}",
        json={
            **_payload(programme),
            "total_budget": "30000.00",
            "categories": [{"code": "elderly", "name": "为老服务", "budget": "30000.00"}],
        },
        headers=staff.headers,
    )
    assert shrink.status_code == 200, shrink.text
    a, b, c = (x.id for x in applications)
    response = await client.post(
        f"/api/v1/programmes/{programme.id}/decide",
        json={
            "decisions": [
                {"application_id": a, "approve": True, "reason": "排名第二"},
                {"application_id": b, "approve": True, "reason": "排名第一"},
                {"application_id": c, "approve": False, "reason": "未达合格线"},
            ]
        },
        headers=staff.headers,
    )
    assert response.status_code == 409
    assert response.json()["error"]["message"] in (
        "项目计划预算不足以支持此项立项",
        "该类别预算不足以支持此项立项",
    )
    after = (await client.get(f"/api/v1/programmes/{programme.id}", headers=staff.headers)).json()
    assert (after["state"], after["committed"]) == ("reviewing", "0.00")


def _payload(programme: Programme) -> dict[str, Any]:
    from tests.grants.factories import programme_payload

    return programme_payload(
        programme.rubric_version_id,
        opens_at=programme.opens_at.isoformat(),
        closes_at=programme.closes_at.isoformat(),
    )


async def test_360giving_export_validates(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff, programme, applications, _centre = await _reviewed_programme(session)
    a, b, c = (x.id for x in applications)
    await client.post(
        f"/api/v1/programmes/{programme.id}/decide",
        json={
            "decisions": [
                {"application_id": a, "approve": True, "reason": "排名第二"},
                {"application_id": b, "approve": True, "reason": "排名第一"},
                {"application_id": c, "approve": False, "reason": "未达合格线"},
            ]
        },
        headers=staff.headers,
    )
    await client.post(f"/api/v1/programmes/{programme.id}/publicise", json={}, headers=staff.headers)
    await publicity.finalise_publicity(session, dt.date.today() + dt.timedelta(days=40))
    response = await client.get("/api/v1/exports/360giving.json", headers=staff.headers)
    assert response.status_code == 200
    assert '"amountAwarded": 20000.00' in response.text  # an exact JSON number, never via float
    package = json.loads(response.text)
    grant_schema = json.loads((STANDARDS / "360-giving-schema-1.4.3.json").read_text())
    package_schema = json.loads((STANDARDS / "360-giving-package-schema-1.4.3.json").read_text())
    grant_resource = DRAFT202012.create_resource(grant_schema)
    registry = Registry().with_resources(
        [
            (grant_schema["$id"], grant_resource),
            (
                "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json",
                grant_resource,
            ),
        ]
    )
    validator = jsonschema.Draft202012Validator(
        package_schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(package), key=str)
    assert errors == []
    ids = {g["recipientOrganization"][0]["id"] for g in package["grants"]}
    assert "CN-USCI-52440106MJL0K3T50W" in ids
    assert all(g["id"].startswith("360G-") for g in package["grants"])


async def test_reason_needed_only_when_the_decision_differs_from_the_request(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff, programme, applications, _centre = await _reviewed_programme(session)
    a, b, c = (x.id for x in applications)

    async def decide(rows: list[dict[str, Any]]) -> httpx.Response:
        return await client.post(
            f"/api/v1/programmes/{programme.id}/decide", json={"decisions": rows}, headers=staff.headers
        )

    cut_without_reason = await decide(
        [
            {"application_id": a, "approve": True, "amount": "18000.00"},
            {"application_id": b, "approve": True},
            {"application_id": c, "approve": False, "reason": "评审未达合格线"},
        ]
    )
    assert cut_without_reason.status_code == 422
    assert cut_without_reason.json()["error"]["details"][0]["field"] == f"decisions.{a}.reason"
    reject_without_reason = await decide(
        [
            {"application_id": a, "approve": True},
            {"application_id": b, "approve": True},
            {"application_id": c, "approve": False},
        ]
    )
    assert reject_without_reason.status_code == 422
    assert reject_without_reason.json()["error"]["details"][0]["field"] == f"decisions.{c}.reason"
    # The full request approved needs no reason; the same amount written out is no difference.
    decided = await decide(
        [
            {"application_id": a, "approve": True},
            {"application_id": b, "approve": True, "amount": "20000.00"},
            {"application_id": c, "approve": False, "reason": "评审未达合格线"},
        ]
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "decided"
