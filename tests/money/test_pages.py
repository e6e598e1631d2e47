"""Money pages: the finance queue with maker-checker shown, award pages, budget, contracts."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from grants.payments import service
from grants.payments.schemas import DisbursementCreate, SignIn
from tests.factories import Actor
from tests.incubator.test_pages import logged_in
from tests.money.factories import make_award, make_cast

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _row(html: str, attr: str, value: int) -> str:
    return html.split(f'{attr}="{value}"')[1].split("</tr>")[0]


async def test_finance_queue_shows_maker_checker(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, amount=Decimal("33333.33"))
    await service.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    d = await service.request_disbursement(
        session, cast.both.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
    )
    await logged_in(client, cast.both)
    own = await client.get("/finance")
    assert own.status_code == 200
    row = _row(own.text, "data-disbursement", d.id)
    assert "disabled" in row
    assert "另一名财务人员" in row
    assert "16,666.66" in row
    await client.post(
        "/logout", data={"csrf_token": re.findall(r'name="csrf_token" value="([^"]+)"', own.text)[0]}
    )
    token = await logged_in(client, cast.finance)
    page = await client.get("/finance")
    assert "disabled" not in _row(page.text, "data-disbursement", d.id)
    assert "/api/v1/disbursements/export.xlsx" in page.text
    approved = await client.post(f"/finance/disbursements/{d.id}/approve", data={"csrf_token": token})
    assert approved.status_code == 303
    bad = await client.post(
        f"/finance/disbursements/{d.id}/pay",
        data={
            "csrf_token": token,
            "voucher_no": "记-1",
            "paid_on": today().isoformat(),
            "amount": "16666.67",
        },
    )
    assert bad.status_code == 422
    assert "16666.66" in bad.text
    paid = await client.post(
        f"/finance/disbursements/{d.id}/pay",
        data={
            "csrf_token": token,
            "voucher_no": "记-1",
            "paid_on": today().isoformat(),
            "amount": "16666.66",
        },
    )
    assert paid.status_code == 303
    budget = await client.get("/budget")
    assert "16,666.66" in budget.text
    assert "为老服务" in budget.text


async def _logout_login(client: httpx.AsyncClient, actor: Actor) -> str:
    await client.post(
        "/logout",
        data={
            "csrf_token": re.findall(
                r'name="csrf_token" value="([^"]+)"', (await client.get("/dashboard")).text
            )[0]
        },
    )
    return await logged_in(client, actor)


async def test_award_page_sign_request_and_grantee_forms(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, amount=Decimal("100000.00"))
    token = await logged_in(client, cast.staff)
    page = await client.get(f"/awards/{award.id}")
    assert page.status_code == 200
    first = _row(page.text, "data-tranche", award.tranches[0].id)
    assert "disabled" in first  # not due before signing
    signed = await client.post(
        f"/awards/{award.id}/sign",
        data={"csrf_token": token, "signed_on": today().isoformat()},
        files={"signed_copy": ("协议.pdf", PDF, "application/pdf")},
    )
    assert signed.status_code == 303, signed.text
    page = await client.get(signed.headers["location"])
    assert f"/api/v1/awards/{award.id}/documents/" in page.text  # the signed copy is linked
    assert "签字盖章版" in page.text
    assert (
        "disabled"
        not in _row(page.text, "data-tranche", award.tranches[0].id).split("</form>")[0].split("<form")[1]
    )
    requested = await client.post(
        f"/awards/{award.id}/disbursements",
        data={"csrf_token": token, "tranche_id": str(award.tranches[0].id)},
    )
    assert requested.status_code == 303
    page = await client.get(f"/awards/{award.id}")
    assert "待审批" in page.text
    failed = await client.post(f"/awards/{award.id}/terminate", data={"csrf_token": token, "reason": "x"})
    assert failed.status_code == 422
    grantee_token = await _logout_login(client, cast.grantee)
    mine = await client.get(f"/awards/{award.id}")
    assert f'action="/awards/{award.id}/progress-reports"' in mine.text
    assert f'action="/awards/{award.id}/disbursements"' not in mine.text
    report = await client.post(
        f"/awards/{award.id}/progress-reports",
        data={
            "csrf_token": grantee_token,
            "period": "2026年第二季度",
            "narrative": "开展助餐服务 600 人次。",
        },
    )
    assert report.status_code == 303, report.text
    claim = await client.post(
        f"/awards/{award.id}/expense-claims",
        data={
            "csrf_token": grantee_token,
            "category": "activities",
            "item": "食材",
            "amount": "800.00",
            "spent_on": today().isoformat(),
        },
        files={"receipt": ("发票.pdf", PDF, "application/pdf")},
    )
    assert claim.status_code == 303, claim.text
    no_receipt = await client.post(
        f"/awards/{award.id}/expense-claims",
        data={
            "csrf_token": grantee_token,
            "category": "activities",
            "item": "食材",
            "amount": "800.00",
            "spent_on": today().isoformat(),
        },
    )
    assert no_receipt.status_code == 422
    assert 'data-field="receipt"' in no_receipt.text


async def test_contract_pages(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    token = await logged_in(client, cast.staff)
    form = await client.get("/contracts/new")
    assert form.status_code == 200
    data = {
        "csrf_token": token,
        "title": "居家养老上门服务",
        "purchaser": "玉林街道办事处",
        "provider_id": str(cast.org.id),
        "service_category": "elderly",
        "procurement_method": "open_tender",
        "amount": "120000.00",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "full_payment_from": "90",
        "pro_rata_from": "60",
        "m_share_1": "50",
        "m_condition_1": "on_signing",
        "m_share_2": "40",
        "m_condition_2": "on_evaluation",
        "i_name_1": "上门服务人次",
        "i_target_1": "1000",
        "i_unit_1": "人次",
    }
    refused = await client.post("/contracts/new", data=data)
    assert refused.status_code == 422
    assert 'data-field="milestones"' in refused.text
    made = await client.post("/contracts/new", data={**data, "m_share_2": "50"})
    assert made.status_code == 303, made.text
    detail = await client.get(made.headers["location"])
    assert "居家养老上门服务" in detail.text
    assert "75 分：45,000.00" in detail.text  # the final payment previewed at 75 points
    contract_id = made.headers["location"].split("/")[2].split("?")[0]
    signed = await client.post(
        f"/contracts/{contract_id}/sign", data={"csrf_token": token, "on": today().isoformat()}
    )
    assert signed.status_code == 303
    listing = await client.get("/contracts")
    assert "居家养老上门服务" in listing.text


async def test_only_staff_start_an_award_evaluation_round(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from sqlalchemy import func, select

    from evaluations.models import ReviewRound

    cast = await make_cast(session)
    award = await make_award(session, cast)
    for reader in (cast.grantee, cast.finance):
        token = await logged_in(client, reader)
        refused = await client.post(
            f"/awards/{award.id}/evaluation-rounds", data={"csrf_token": token, "purpose": "midterm"}
        )
        assert refused.status_code == 403, reader.user.email
        await client.post("/logout", data={"csrf_token": token})
    rounds = await session.execute(
        select(func.count(ReviewRound.id)).where(ReviewRound.centre_id == cast.centre.id)
    )
    assert rounds.scalar_one() == 0
