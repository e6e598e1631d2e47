"""Awards over HTTP: who reads what, the signed copy, the grantee's reports and claims, exports,
hand-entered evaluations."""

from __future__ import annotations

import io
from decimal import Decimal

import httpx
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.identity.models import Role
from grants.awards import service as awards
from grants.awards.schemas import SignIn
from tests.factories import make_centre, make_user
from tests.grants.factories import Cast, contract_payload, make_award, make_cast

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def _due(session: AsyncSession, cast: Cast) -> tuple[int, int]:
    award = await make_award(session, cast, amount=Decimal("33333.33"))
    signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    return signed.id, signed.tranches[0].id


async def test_roles_centres_and_anonymous(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    award_id, tranche_id = await _due(session, cast)
    assert (await client.get(f"/api/v1/awards/{award_id}")).status_code == 401
    stranger = await make_user(session, await make_centre(session), Role.staff)
    assert (await client.get(f"/api/v1/awards/{award_id}", headers=stranger.headers)).status_code == 404
    assert (
        await client.post(
            "/api/v1/disbursements", json={"tranche_id": tranche_id}, headers=cast.finance.headers
        )
    ).status_code == 403
    mine = await client.get("/api/v1/awards", headers=cast.grantee.headers)
    assert [a["id"] for a in mine.json()["items"]] == [award_id]
    assert (await client.get("/api/v1/disbursements", headers=cast.grantee.headers)).json()["total"] == 0


async def test_upload_sign_with_copy_and_download(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast)
    uploaded = await client.post(
        f"/api/v1/awards/{award.id}/documents",
        files={"file": ("协议.pdf", PDF, "application/pdf")},
        data={"kind": "agreement", "label": "资助协议（签字版）"},
        headers=cast.staff.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    doc_id = uploaded.json()["id"]
    fake = await client.post(
        f"/api/v1/awards/{award.id}/documents",
        files={"file": ("x.pdf", b"MZ not a pdf", "application/pdf")},
        headers=cast.staff.headers,
    )
    assert fake.status_code == 422
    signed = await client.post(
        f"/api/v1/awards/{award.id}/sign",
        json={"signed_on": today().isoformat(), "document_id": doc_id},
        headers=cast.staff.headers,
    )
    assert signed.status_code == 200, signed.text
    assert signed.json()["agreement_document_id"] == doc_id
    assert signed.json()["tranches"][0]["state"] == "due"
    download = await client.get(f"/api/v1/awards/{award.id}/documents/{doc_id}", headers=cast.grantee.headers)
    assert download.content == PDF
    stranger = await make_user(session, cast.centre, Role.applicant)
    assert (
        await client.get(f"/api/v1/awards/{award.id}/documents/{doc_id}", headers=stranger.headers)
    ).status_code == 404


async def test_grantee_reports_and_claims_over_http(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    award_id, _tranche = await _due(session, cast)
    report = await client.post(
        f"/api/v1/awards/{award_id}/progress-reports",
        json={"period": "2026年第三季度", "narrative": "完成助餐服务 900 人次。", "actuals": []},
        headers=cast.grantee.headers,
    )
    assert report.status_code == 201, report.text
    blank = await client.post(
        f"/api/v1/awards/{award_id}/progress-reports",
        json={"period": "2026年第四季度", "narrative": "    ", "actuals": []},
        headers=cast.grantee.headers,
    )
    assert blank.status_code == 422, blank.text  # blanks are no narrative, as on the form
    assert blank.json()["error"]["details"][0]["field"] == "narrative"
    assert blank.json()["error"]["details"][0]["message"] == "进展说明: 过短（至少 2 个字符）"
    listed = await client.get(f"/api/v1/awards/{award_id}/progress-reports", headers=cast.grantee.headers)
    assert [r["period"] for r in listed.json()] == ["2026年第三季度"]
    returned = await client.post(
        f"/api/v1/awards/{award_id}/progress-reports/{report.json()['id']}/review",
        json={"approve": False, "comment": ""},
        headers=cast.staff.headers,
    )
    assert returned.status_code == 422
    receipt = await client.post(
        f"/api/v1/awards/{award_id}/documents",
        files={"file": ("发票.pdf", PDF, "application/pdf")},
        data={"kind": "receipt"},
        headers=cast.grantee.headers,
    )
    claim = await client.post(
        f"/api/v1/awards/{award_id}/expense-claims",
        json={
            "category": "activities",
            "item": "食材采购",
            "amount": "1200.00",
            "spent_on": today().isoformat(),
            "receipt_ids": [receipt.json()["id"]],
        },
        headers=cast.grantee.headers,
    )
    assert claim.status_code == 201, claim.text
    assert claim.json()["receipt_ids"] == [receipt.json()["id"]]
    float_amount = await client.post(
        f"/api/v1/awards/{award_id}/expense-claims",
        json={
            "category": "activities",
            "item": "x",
            "amount": 12.5,
            "spent_on": today().isoformat(),
            "receipt_ids": [1],
        },
        headers=cast.grantee.headers,
    )
    assert float_amount.status_code == 422


async def test_exports(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    _award_id, tranche_id = await _due(session, cast)
    d = (
        await client.post(
            "/api/v1/disbursements", json={"tranche_id": tranche_id}, headers=cast.staff.headers
        )
    ).json()
    await client.post(
        f"/api/v1/disbursements/{d['id']}/approve",
        json={},
        headers={**cast.finance.headers, "Idempotency-Key": "ap-7"},
    )
    await client.post(
        f"/api/v1/disbursements/{d['id']}/pay",
        json={"voucher_no": "记-7", "paid_on": today().isoformat(), "amount": d["amount"]},
        headers={**cast.finance.headers, "Idempotency-Key": "pay-7"},
    )
    xlsx = await client.get("/api/v1/disbursements/export.xlsx", headers=cast.finance.headers)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("付款日期", "凭证号", "金额（元）", "收款单位")
    assert rows[1][1] == "记-7"
    assert Decimal(str(rows[1][2])) == Decimal("16666.66")
    assert (
        await client.get("/api/v1/disbursements/export.xlsx", headers=cast.grantee.headers)
    ).status_code == 403
    made = await client.post(
        "/api/v1/contracts", json=contract_payload(cast.org.id), headers=cast.staff.headers
    )
    assert made.status_code == 201, made.text
    signed = await client.post(
        f"/api/v1/contracts/{made.json()['id']}/sign",
        json={"on": today().isoformat()},
        headers=cast.staff.headers,
    )
    assert signed.json()["milestones"][0]["state"] == "due"
    ocds = await client.get("/api/v1/exports/ocds.json", headers=cast.staff.headers)
    assert ocds.status_code == 200
    assert ocds.json()["releases"][0]["tender"]["procurementMethod"] == "limited"
    execution = await client.get("/api/v1/budget-execution", headers=cast.finance.headers)
    assert execution.json()[0]["execution"]["paid"] == "16666.66"


async def test_a_hand_entered_grade_follows_from_the_total(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """``{"grade": "pass", "total": "40"}`` was recorded and made the mid-term tranche due."""
    cast = await make_cast(session)
    award_id, _first = await _due(session, cast)
    url = f"/api/v1/awards/{award_id}/evaluations"
    for grade, total in (("pass", "40"), ("excellent", "1"), ("fail", "95")):
        response = await client.post(
            url, json={"purpose": "midterm", "grade": grade, "total": total}, headers=cast.staff.headers
        )
        assert response.status_code == 422, (grade, total)
        assert response.json()["error"]["details"][0]["field"] == "grade"
    award = (await client.get(f"/api/v1/awards/{award_id}", headers=cast.staff.headers)).json()
    assert award["evaluations"] == []
    assert [t["state"] for t in award["tranches"]] == ["due", "planned", "planned"]
    failed = await client.post(url, json={"purpose": "midterm", "total": "40"}, headers=cast.staff.headers)
    assert failed.status_code == 200, failed.text
    assert failed.json()["state"] == "rectification"
    assert [(e["grade"], e["passed"]) for e in failed.json()["evaluations"]] == [("fail", False)]
    assert [t["state"] for t in failed.json()["tranches"]] == ["due", "planned", "planned"]
    passed = await client.post(
        url, json={"purpose": "midterm", "grade": "good", "total": "85"}, headers=cast.staff.headers
    )
    assert passed.status_code == 200, passed.text
    assert [t["state"] for t in passed.json()["tranches"]] == ["due", "due", "planned"]
