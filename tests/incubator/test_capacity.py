"""Capacity assessments scored on the capacity rubric: bounds, totals, grades, frozen versions, growth."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from evaluations.rubrics import service as rubric_service
from evaluations.rubrics.models import RoundPurpose, Rubric, RubricVersion
from tests.factories import Actor, make_centre, make_user
from tests.incubator.helpers import make_org, post_ok
from tests.incubator.test_pages import logged_in

KEYS = ["governance", "project_management", "financial", "people", "fundraising", "community"]


async def _capacity_version(session: AsyncSession, centre_id: int) -> int:
    await rubric_service.seed_default_rubrics(session, centre_id)
    version = (
        await session.execute(
            select(RubricVersion.id)
            .join(Rubric, Rubric.id == RubricVersion.rubric_id)
            .where(Rubric.centre_id == centre_id, Rubric.purpose == RoundPurpose.capacity)
        )
    ).scalar_one()
    return int(version)


def _scores(*values: str) -> dict[str, str]:
    return dict(zip(KEYS, values, strict=True))


async def _assess(
    client: httpx.AsyncClient, staff: Actor, org_id: int, version: int, on: str, stage: str, *scores: str
) -> httpx.Response:
    return await client.post(
        "/api/v1/capacity-assessments",
        json={
            "organisation_id": org_id,
            "stage": stage,
            "assessed_on": on,
            "rubric_version_id": version,
            "scores": _scores(*scores),
            "assessor": "王敏老师",
        },
        headers=staff.headers,
    )


async def test_scores_total_grade_and_growth(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    org_id = (await make_org(session, staff)).id
    version = await _capacity_version(session, centre.id)
    intake = await _assess(
        client, staff, org_id, version, "2025-10-01", "intake", "10", "12", "8", "9", "6", "10"
    )
    assert intake.status_code == 201, intake.text
    assert (intake.json()["total"], intake.json()["grade"]) == ("55.00", "fail")
    later = await _assess(
        client, staff, org_id, version, "2026-04-01", "midterm", "18", "16", "12", "12", "11", "13"
    )
    assert (later.json()["total"], later.json()["grade"]) == ("82.00", "good")
    history = await client.get(
        f"/api/v1/capacity-assessments?organisation_id={org_id}", headers=staff.headers
    )
    assert [a["total"] for a in history.json()] == ["55.00", "82.00"]
    check = (
        await client.get(f"/api/v1/organisations/{org_id}/graduation-check", headers=staff.headers)
    ).json()
    capacity = next(c for c in check["criteria"] if c["code"] == "capacity_score")
    assert capacity["passed"] is True
    assert capacity["reason"] == "最近一次能力评估得分为 82.00"
    # the version is frozen now that it has been used
    stored = await session.get(RubricVersion, version)
    assert stored is not None
    await session.refresh(stored)
    assert stored.frozen is True


async def test_bounds_and_missing_criteria(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    org_id = (await make_org(session, staff)).id
    version = await _capacity_version(session, centre.id)
    too_high = await _assess(
        client, staff, org_id, version, "2025-10-01", "intake", "25", "12", "8", "9", "6", "10"
    )
    assert too_high.status_code == 422
    assert too_high.json()["error"]["details"][0] == {
        "field": "scores.governance",
        "message": "内部治理：0 至 20 分",
    }
    partial = await client.post(
        "/api/v1/capacity-assessments",
        json={
            "organisation_id": org_id,
            "stage": "intake",
            "assessed_on": "2025-10-01",
            "rubric_version_id": version,
            "scores": {"governance": "10"},
            "assessor": "王敏老师",
        },
        headers=staff.headers,
    )
    assert partial.status_code == 422
    assert {d["field"] for d in partial.json()["error"]["details"]} == {f"scores.{k}" for k in KEYS[1:]}
    listed = await client.get(f"/api/v1/capacity-assessments?organisation_id={org_id}", headers=staff.headers)
    assert listed.json() == []
    applicant = await make_user(session, centre, Role.applicant)
    denied = await _assess(
        client, applicant, org_id, version, "2025-10-01", "intake", "10", "12", "8", "9", "6", "10"
    )
    assert denied.status_code == 403


async def test_profile_form_and_chart(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    org_id = (await make_org(session, staff)).id
    version = await _capacity_version(session, centre.id)
    await post_ok(
        client,
        "/api/v1/capacity-assessments",
        staff,
        {
            "organisation_id": org_id,
            "stage": "intake",
            "assessed_on": "2025-10-01",
            "rubric_version_id": version,
            "scores": _scores("10", "10", "8", "8", "6", "8"),
            "assessor": "王敏老师",
        },
    )
    token = await logged_in(client, staff)
    profile = await client.get(f"/organisations/{org_id}")
    assert 'id="capacity-form"' in profile.text
    assert "内部治理" in profile.text
    form = {
        "csrf_token": token,
        "rubric_version_id": str(version),
        "stage": "midterm",
        "assessed_on": "2026-04-01",
        "assessor": "王敏老师",
        **{f"score-{k}": "14" for k in KEYS},
    }
    saved = await client.post(f"/organisations/{org_id}/capacity", data=form)
    assert saved.status_code == 303
    profile = await client.get(saved.headers["location"])
    assert "已登记能力评估" in profile.text
    assert 'id="capacity-chart"' in profile.text
    assert "84.00" in profile.text
