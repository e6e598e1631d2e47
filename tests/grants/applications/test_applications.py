"""Applications: server-computed totals, deadline, the state machine, each eligibility rule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from core.settings import Settings
from grants.applications.models import ApplicationAttachment
from grants.programmes.models import Programme
from tests.factories import make_centre, make_user
from tests.grants.factories import (
    applicant_org,
    application_changes,
    application_payload,
    budget,
    open_programme,
)


async def _setup(session: AsyncSession, **org: Any):  # type: ignore[no-untyped-def]
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    owner, organisation = await applicant_org(session, centre, staff, **org)
    return staff, programme, owner, organisation


async def _create(
    client: httpx.AsyncClient, owner: Any, programme: Programme, org: Any, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/applications", json=application_payload(programme, org, **overrides), headers=owner.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


PAMPHLETS = {
    "category": "materials",
    "item": "宣传折页",
    "unit_price": "1.15",
    "quantity": "333",
    "funded_by": "grant",
}


async def test_totals_are_computed_by_the_server(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _staff, programme, owner, org = await _setup(session)
    body = await _create(client, owner, programme, org, budget_lines=[*budget(), PAMPHLETS])
    assert [line["amount"] for line in body["budget_lines"]] == ["6000.00", "14000.00", "3000.00", "382.95"]
    assert body["requested_amount"] == "20382.95"
    assert body["cofunding_amount"] == "3000.00"
    assert body["total_budget"] == "23382.95"
    assert body["state"] == "draft"


async def test_totals_sent_by_the_client_are_refused_not_dropped(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A line's ``amount`` or the ``total_budget`` used to be dropped without a word."""
    _staff, programme, owner, org = await _setup(session)
    for overrides, field in (
        ({"budget_lines": [*budget(), {**PAMPHLETS, "amount": "999999.00"}]}, "budget_lines.3.amount"),
        ({"total_budget": "1.00"}, "total_budget"),
    ):
        response = await client.post(
            "/api/v1/applications",
            json=application_payload(programme, org, **overrides),
            headers=owner.headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == field


async def test_a_stated_request_must_match_the_budget_lines(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The stated request was silently replaced by the lines' sum: now a mismatch is refused."""
    _staff, programme, owner, org = await _setup(session)
    before = len((await client.get("/api/v1/applications", headers=owner.headers)).json()["items"])
    response = await client.post(
        "/api/v1/applications",
        json=application_payload(programme, org, requested_amount="25000"),
        headers={**owner.headers, "Accept-Language": "en"},
    )
    assert response.status_code == 422, response.text
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == "requested_amount"
    assert "25,000.00" in detail["message"]
    assert "20,000.00" in detail["message"]
    after = len((await client.get("/api/v1/applications", headers=owner.headers)).json()["items"])
    assert after == before
    body = await _create(client, owner, programme, org, requested_amount="20000.00")
    assert body["requested_amount"] == "20000.00"


async def test_budget_totals_beyond_numeric_14_2_name_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """999,999,999,999.00 × 2 made ``to_money`` raise inside the service: a 500."""
    _staff, programme, owner, org = await _setup(session)
    largest = {**PAMPHLETS, "unit_price": "999999999999.00", "quantity": "1"}
    for lines, field in (
        ([{**largest, "quantity": "2"}], "budget_lines.0.quantity"),
        ([largest, largest], "budget_lines"),
        ([largest, {**largest, "funded_by": "cofunding"}], "budget_lines"),
    ):
        response = await client.post(
            "/api/v1/applications",
            json=application_payload(programme, org, budget_lines=lines),
            headers=owner.headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"][0]["field"] == field
    body = await _create(client, owner, programme, org, budget_lines=[largest])
    assert body["requested_amount"] == "999999999999.00"


async def test_applicant_of_another_org_cannot_file(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _staff, programme, _owner, org = await _setup(session)
    stranger = await make_user(session, await make_centre(session), Role.applicant)
    response = await client.post(
        "/api/v1/applications", json=application_payload(programme, org), headers=stranger.headers
    )
    assert response.status_code == 404


async def test_submit_runs_the_checks(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _staff, programme, owner, org = await _setup(session)
    app_id = (await _create(client, owner, programme, org))["id"]
    submitted = await client.post(f"/api/v1/applications/{app_id}/submit", headers=owner.headers)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["state"] == "submitted"
    checks = {c["code"]: (c["passed"], c["reason"]) for c in submitted.json()["checks"]}
    assert set(checks) == {
        "organisation_verified",
        "legal_status",
        "not_barred",
        "requested_within_cap",
        "cofunding_ratio",
        "management_fee_cap",
        "personnel_cap",
        "budget_adds_up",
    }
    assert all(passed for passed, _reason in checks.values()), checks
    assert checks["cofunding_ratio"][1] == "配套资金占预算 13.04%，要求不低于 10.00%"
    again = await client.post(f"/api/v1/applications/{app_id}/submit", headers=owner.headers)
    assert again.status_code == 409
    edit = await client.put(
        f"/api/v1/applications/{app_id}", json=application_changes(programme, org), headers=owner.headers
    )
    assert edit.status_code == 409


async def test_submit_without_the_narrative_is_refused_by_the_api_too(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The form will not submit a proposal that does not say whom it serves, what it answers
    and what it aims at; neither does the JSON API, and the draft stays a draft."""
    _staff, programme, owner, org = await _setup(session)
    app_id = (
        await _create(
            client, owner, programme, org, beneficiaries="", needs="  ", objectives="", indicators=[]
        )
    )["id"]
    refused = await client.post(f"/api/v1/applications/{app_id}/submit", headers=owner.headers)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert {d["field"] for d in error["details"]} == {"beneficiaries", "needs", "objectives", "indicators"}
    assert "请填写服务对象" in error["message"]
    assert "请至少填写一项指标及其目标值" in error["message"]
    english = await client.post(
        f"/api/v1/applications/{app_id}/submit", headers={**owner.headers, "Accept-Language": "en"}
    )
    assert "Describe who the project serves" in english.json()["error"]["message"]
    draft = await client.get(f"/api/v1/applications/{app_id}", headers=owner.headers)
    assert draft.json()["state"] == "draft"
    assert draft.json()["checks"] == []


@pytest.mark.parametrize(
    ("code", "org", "overrides"),
    [
        ("organisation_verified", {"verified": False}, {}),
        ("legal_status", {"legal_status": "unregistered"}, {}),
        ("requested_within_cap", {}, {"budget_lines": budget(grant_activities="40000", cofunding="6000")}),
        ("cofunding_ratio", {}, {"budget_lines": budget(cofunding="100")}),
        ("personnel_cap", {}, {"budget_lines": budget(grant_personnel="12000", grant_activities="8000")}),
        (
            "management_fee_cap",
            {},
            {
                "budget_lines": [
                    *budget(),
                    {
                        "category": "management",
                        "item": "管理费",
                        "unit_price": "4000",
                        "quantity": "1",
                        "funded_by": "grant",
                    },
                ]
            },
        ),
        ("budget_adds_up", {}, {"budget_lines": [budget()[2]]}),
    ],
)
async def test_each_eligibility_rule(
    client: httpx.AsyncClient,
    session: AsyncSession,
    code: str,
    org: dict[str, Any],
    overrides: dict[str, Any],
) -> None:
    _staff, programme, owner, organisation = await _setup(session, **org)
    app_id = (await _create(client, owner, programme, organisation, **overrides))["id"]
    submitted = await client.post(f"/api/v1/applications/{app_id}/submit", headers=owner.headers)
    checks = {c["code"]: c["passed"] for c in submitted.json()["checks"]}
    assert [c for c, passed in checks.items() if not passed] == [code]


async def test_barred_organisation_fails_not_barred(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff, programme, owner, org = await _setup(session)
    await client.post(
        f"/api/v1/organisations/{org.id}/bar",
        json={"until": "2099-01-01", "reason": "结项不合格"},
        headers=staff.headers,
    )
    app_id = (await _create(client, owner, programme, org))["id"]
    checks = (await client.post(f"/api/v1/applications/{app_id}/submit", headers=owner.headers)).json()[
        "checks"
    ]
    barred = next(c for c in checks if c["code"] == "not_barred")
    assert barred["passed"] is False
    assert "结项不合格" in barred["reason"]


async def test_deadline_is_enforced(client: httpx.AsyncClient, session: AsyncSession) -> None:
    _staff, programme, owner, org = await _setup(session)
    app_id = (await _create(client, owner, programme, org))["id"]
    await session.execute(
        update(Programme)
        .where(Programme.id == programme.id)
        .values(closes_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    await session.flush()
    response = await client.post(f"/api/v1/applications/{app_id}/submit", headers=owner.headers)
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "申报已截止"


async def test_staff_confirm_and_override_with_reason(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff, programme, owner, org = await _setup(session)
    app_id = (await _create(client, owner, programme, org, budget_lines=budget(cofunding="100")))["id"]
    await client.post(f"/api/v1/applications/{app_id}/submit", headers=owner.headers)
    no_reason = await client.post(
        f"/api/v1/applications/{app_id}/confirm-eligibility",
        json={"decisions": [{"code": "cofunding_ratio", "passed": True}]},
        headers=staff.headers,
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["details"][0]["field"] == "decisions.cofunding_ratio"
    assert (
        await client.post(
            f"/api/v1/applications/{app_id}/confirm-eligibility",
            json={"decisions": []},
            headers=owner.headers,
        )
    ).status_code == 403
    confirmed = await client.post(
        f"/api/v1/applications/{app_id}/confirm-eligibility",
        json={
            "decisions": [
                {"code": "cofunding_ratio", "passed": True, "reason": "社区基金会另行配套，附承诺函"}
            ]
        },
        headers=staff.headers,
    )
    assert confirmed.json()["state"] == "eligible"
    check = next(c for c in confirmed.json()["checks"] if c["code"] == "cofunding_ratio")
    assert (check["passed"], check["final_passed"], check["staff_reason"]) == (
        False,
        True,
        "社区基金会另行配套，附承诺函",
    )
    audit = await client.get(
        f"/api/v1/audit-events?subject_type=application&subject_id={app_id}", headers=staff.headers
    )
    event = next(e for e in audit.json()["items"] if e["action"] == "application.confirm_eligibility")
    assert event["after"]["overrides"]["cofunding_ratio"]["final"] is True


async def test_return_resubmit_and_withdraw(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff, programme, owner, org = await _setup(session)
    app_id = (await _create(client, owner, programme, org))["id"]
    await client.post(f"/api/v1/applications/{app_id}/submit", headers=owner.headers)
    returned = await client.post(
        f"/api/v1/applications/{app_id}/return", json={"reason": "请补充活动时间表"}, headers=staff.headers
    )
    assert returned.json()["state"] == "returned"
    edited = await client.put(
        f"/api/v1/applications/{app_id}",
        json=application_changes(programme, org, title="修改后的项目"),
        headers=owner.headers,
    )
    assert edited.json()["title"] == "修改后的项目"
    resubmitted = await client.post(f"/api/v1/applications/{app_id}/submit", headers=owner.headers)
    assert resubmitted.json()["state"] == "submitted"
    withdrawn = await client.post(
        f"/api/v1/applications/{app_id}/withdraw", json={"reason": "团队调整"}, headers=owner.headers
    )
    assert withdrawn.json()["state"] == "withdrawn"
    assert [e["action"] for e in withdrawn.json()["events"]] == [
        "create",
        "submit",
        "return",
        "submit",
        "withdraw",
    ]
    for action, actor in (("submit", owner), ("withdraw", owner), ("return", staff)):
        body = {"reason": "再试一次"} if action != "submit" else None
        response = await client.post(
            f"/api/v1/applications/{app_id}/{action}", json=body, headers=actor.headers
        )
        assert response.status_code == 409, action
        assert response.json()["error"]["message"] == "申报书当前为“已撤回”，无法执行此操作"


async def test_attachments_are_checked_by_content(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff, programme, owner, org = await _setup(session)
    app_id = (await _create(client, owner, programme, org))["id"]
    fake = await client.post(
        f"/api/v1/applications/{app_id}/attachments",
        files={"file": ("budget.pdf", b"MZ\x90\x00 not a pdf at all", "application/pdf")},
        headers=owner.headers,
    )
    assert fake.status_code == 422
    assert fake.json()["error"]["details"][0]["field"] == "file"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    ok = await client.post(
        f"/api/v1/applications/{app_id}/attachments",
        files={"file": ("预算说明.pdf", pdf, "application/octet-stream")},
        data={"label": "预算说明"},
        headers=owner.headers,
    )
    assert ok.status_code == 201
    import hashlib

    assert ok.json()["sha256"] == hashlib.sha256(pdf).hexdigest()
    assert ok.json()["content_type"] == "application/pdf"
    download = await client.get(
        f"/api/v1/applications/{app_id}/attachments/{ok.json()['id']}", headers=staff.headers
    )
    assert download.content == pdf
    stranger = await make_user(session, await make_centre(session), Role.staff)
    hidden = await client.get(
        f"/api/v1/applications/{app_id}/attachments/{ok.json()['id']}", headers=stranger.headers
    )
    assert hidden.status_code == 404


async def test_storage_faults_answer_404_and_503_not_500(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    _staff, programme, owner, org = await _setup(session)
    url = f"/api/v1/applications/{(await _create(client, owner, programme, org))['id']}/attachments"
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    stored = await client.post(url, files={"file": ("a.pdf", pdf, "application/pdf")}, headers=owner.headers)
    assert stored.status_code == 201
    for path in settings.files_dir.rglob(stored.json()["sha256"]):
        path.unlink()  # deleted on disk, still listed
    missing = await client.get(f"{url}/{stored.json()['id']}", headers=owner.headers)
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "文件已不在存储中，请联系中心管理员",
        "details": [],
    }
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.data_dir = blocker  # nothing can be created under it
    unwritable = await client.post(
        url, files={"file": ("b.pdf", pdf + b" ", "application/pdf")}, headers=owner.headers
    )
    assert unwritable.status_code == 503
    assert unwritable.headers["retry-after"] == "60"
    assert unwritable.json()["error"]["code"] == "storage_unavailable"
    assert unwritable.json()["error"]["message"] == "文件暂时无法存储或读取，请稍后再试"
    links = select(func.count()).select_from(ApplicationAttachment)
    assert (await session.execute(links)).scalar_one() == 1  # the failed upload left no record
