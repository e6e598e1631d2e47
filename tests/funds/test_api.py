"""The fund API and pages as people use them: staff record receipts and allocate, finance
decides and pays, the public reads the accounts without logging in, finance exports to Excel."""

from __future__ import annotations

import io
from decimal import Decimal

import httpx
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from tests.funds.factories import make_fund, receive
from tests.grants.factories import make_cast, make_programme
from tests.incubator.test_pages import logged_in
from tests.proof.world import PDF


async def test_receipts_allocation_and_public_accounts_over_http(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    programme = await make_programme(session, cast.centre)
    created = await client.post(
        "/api/v1/funds",
        headers=cast.staff.headers,
        json={
            "name": "玉林街道友邻基金",
            "scope": "street",
            "custodian": "成都市武侯区慈善会",
            "committee": "居民代表3名",
            "approval_threshold": "5000.00",
            "approval_steps": ["居民议事会", "社区两委"],
        },
    )
    assert created.status_code == 201, created.text
    fund = created.json()
    assert fund["available"] == "0.00"
    for body in (
        {"source": "fiscal", "donor_name": "玉林街道办事处", "publish_donor": True, "amount": "20000.00"},
        {"source": "individual", "donor_name": "王五", "publish_donor": False, "amount": "888.88"},
        {"source": "enterprise", "donor_name": "蜀汉物业公司", "publish_donor": True, "amount": "5000.00"},
        {
            "source": "in_kind",
            "donor_name": "红旗连锁",
            "publish_donor": True,
            "amount": "3000.00",
            "in_kind_items": "米面油100份",
            "valuation_basis": "发票价",
        },
    ):
        answer = await client.post(
            f"/api/v1/funds/{fund['id']}/receipts",
            headers=cast.staff.headers,
            json={"received_on": "2026-07-01", **body},
        )
        assert answer.status_code == 201, answer.text
    bad = await client.post(
        f"/api/v1/funds/{fund['id']}/receipts",
        headers=cast.staff.headers,
        json={"received_on": "2026-07-01", "source": "in_kind", "donor_name": "某", "amount": "10.00"},
    )
    assert bad.status_code == 422
    detail = (await client.get(f"/api/v1/funds/{fund['id']}", headers=cast.finance.headers)).json()
    assert (detail["received"], detail["in_kind_value"], detail["available"]) == (
        "25888.88",
        "3000.00",
        "25888.88",
    )
    pool_id = detail["pools"][0]["id"]

    too_much = await client.post(
        f"/api/v1/funds/{fund['id']}/allocations",
        headers=cast.staff.headers,
        json={
            "pool_id": pool_id,
            "target": "programme",
            "programme_id": programme.id,
            "purpose": "cultivation",
            "title": "社区社会组织培育",
            "amount": "25888.89",
        },
    )
    assert too_much.status_code == 409
    assert "25,888.88" in too_much.json()["error"]["message"]

    allocation = await client.post(
        f"/api/v1/funds/{fund['id']}/allocations",
        headers={**cast.staff.headers, "Idempotency-Key": "alloc-1"},
        json={
            "pool_id": pool_id,
            "target": "programme",
            "programme_id": programme.id,
            "purpose": "cultivation",
            "title": "社区社会组织培育",
            "amount": "6000.00",
        },
    )
    assert allocation.status_code == 201, allocation.text
    allocation_id = allocation.json()["id"]
    assert allocation.json()["step_count"] == 3
    own = await client.post(
        f"/api/v1/fund-allocations/{allocation_id}/decide",
        headers=cast.staff.headers,
        json={"decision": "approved"},
    )
    assert own.status_code == 403
    for actor in (cast.both, cast.both, cast.finance):
        step = await client.post(
            f"/api/v1/fund-allocations/{allocation_id}/decide",
            headers=actor.headers,
            json={"decision": "approved", "note": "同意"},
        )
        assert step.status_code == 200, step.text
    assert step.json()["state"] == "approved"
    assert [d["step_name"] for d in step.json()["decisions"]] == ["居民议事会", "社区两委", "财务审核"]

    fundings = await client.get(f"/api/v1/programmes/{programme.id}/fundings", headers=cast.finance.headers)
    assert fundings.status_code == 200, fundings.text
    assert fundings.json()["total_budget"] == fundings.json()["fundings_total"] == "6000.00"
    assert [f["fund_name"] for f in fundings.json()["fundings"]] == ["玉林街道友邻基金"]

    public = await client.get(f"/api/v1/public/funds/{fund['id']}")
    assert public.status_code == 200
    body = public.json()
    donors = [r["donor"] for r in body["receipts"]]
    assert "王五" not in donors
    assert "爱心人士" in donors
    assert body["available"] == "19888.88"
    assert body["leverage"] == "0.29"  # 5,888.88 ÷ 20,000
    assert [a["title"] for a in body["allocations"]] == ["社区社会组织培育"]

    page = await client.get(f"/public/funds/{fund['id']}")
    assert page.status_code == 200
    assert "爱心人士" in page.text
    assert "王五" not in page.text
    assert "社区社会组织培育" in page.text
    assert "19,888.88" in page.text

    export = await client.get("/api/v1/funds/export/receipts.xlsx", headers=cast.finance.headers)
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    names = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "王五" in names  # finance sees the real donor
    totals = [row[5] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert Decimal(str(totals[-1])) == Decimal("28888.88")
    allocations = await client.get("/api/v1/funds/export/allocations.xlsx", headers=cast.finance.headers)
    rows = list(load_workbook(io.BytesIO(allocations.content)).active.iter_rows(min_row=2, values_only=True))  # type: ignore[union-attr]
    assert rows[0][2] == "社区社会组织培育"

    assert (await client.get(f"/api/v1/funds/{fund['id']}", headers=cast.grantee.headers)).status_code == 403
    assert (await client.get(f"/api/v1/funds/{fund['id']}")).status_code == 401


async def test_staff_pages_record_a_receipt_and_allocate(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    programme = await make_programme(session, cast.centre)
    fund = await make_fund(session, cast)
    await receive(session, cast, fund, amount="10000.00")
    token = await logged_in(client, cast.staff)
    page = await client.get(f"/funds/{fund.id}")
    assert page.status_code == 200
    assert "登记收入" in page.text
    answer = await client.post(
        f"/funds/{fund.id}/receipts",
        data={
            "csrf_token": token,
            "received_on": "2026-08-01",
            "source": "residents",
            "donor_name": "玉林北路居民",
            "amount": "1200.00",
            "restriction": "none",
        },
    )
    assert answer.status_code == 303, answer.text
    page = await client.get(answer.headers["location"])
    assert "11,200.00" in page.text
    pool_id = page.text.split('data-pool="')[1].split('"')[0]
    refused = await client.post(
        f"/funds/{fund.id}/allocations",
        data={
            "csrf_token": token,
            "pool_id": pool_id,
            "title": "邻里节",
            "target": "programme",
            "programme_id": str(programme.id),
            "purpose": "community_governance",
            "amount": "11200.01",
        },
    )
    assert refused.status_code == 422
    assert "可用 11,200.00 元" in refused.text
    done = await client.post(
        f"/funds/{fund.id}/allocations",
        data={
            "csrf_token": token,
            "pool_id": pool_id,
            "title": "邻里节",
            "target": "programme",
            "programme_id": str(programme.id),
            "purpose": "community_governance",
            "amount": "3000.00",
        },
    )
    assert done.status_code == 303, done.text
    page = await client.get(done.headers["location"])
    assert "邻里节" in page.text
    assert "待审批" in page.text
    assert "这笔拨款由您申请，须由他人审批" in page.text  # the requester's button is disabled with the reason


async def test_a_receipt_carries_its_scanned_donation_receipt(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    fund = await make_fund(session, cast)
    receipt = await receive(
        session, cast, fund, source="enterprise", donor_name="蜀汉物业公司", amount="800.00"
    )
    url = f"/api/v1/funds/{fund.id}/receipts/{receipt.id}/attachment"
    assert (await client.get(url, headers=cast.staff.headers)).status_code == 404
    refused = await client.post(
        url, files={"file": ("note.txt", b"plain text", "text/plain")}, headers=cast.staff.headers
    )
    assert refused.status_code == 422
    uploaded = await client.post(
        url, files={"file": ("donation.pdf", PDF, "application/pdf")}, headers=cast.finance.headers
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["attachment_id"] is not None
    download = await client.get(url, headers=cast.staff.headers)
    assert download.status_code == 200
    assert download.content == PDF
    stranger = await make_cast(session)
    assert (await client.get(url, headers=stranger.staff.headers)).status_code == 404
    assert (await client.get(url, headers=cast.grantee.headers)).status_code == 403


async def test_every_movement_is_audited(session: AsyncSession) -> None:
    from sqlalchemy import select

    from core.audit import AuditEvent
    from funds import service as funds
    from funds.schemas import AllocationCreate, DecisionIn

    cast = await make_cast(session)
    programme = await make_programme(session, cast.centre)
    fund = await make_fund(session, cast, approval_threshold=None, approval_steps=[])
    receipt = await receive(session, cast, fund, amount="5000.00")
    assert receipt.pool_id is not None
    allocation = await funds.request_allocation(
        session,
        cast.staff.principal,
        fund.id,
        AllocationCreate.model_validate(
            {
                "pool_id": receipt.pool_id,
                "target": "programme",
                "programme_id": programme.id,
                "purpose": "elderly",
                "title": "长者助餐",
                "amount": "1200.00",
            }
        ),
    )
    await funds.decide(session, cast.finance.principal, allocation.id, DecisionIn(decision="approved"))
    events = (
        (
            await session.execute(
                select(AuditEvent).where(AuditEvent.action.like("fund.%")).order_by(AuditEvent.id)
            )
        )
        .scalars()
        .all()
    )
    assert [e.action for e in events] == [
        "fund.create",
        "fund.receipt",
        "fund.allocation_request",
        "fund.allocation_approved",
    ]
    assert events[1].after["amount"] == "5000.00"
    assert events[2].after["committed"] == "1200.00"
    assert events[3].actor_id == cast.finance.user.id


async def test_the_fund_page_records_a_clawback_returned(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    from funds import service as funds
    from funds.schemas import AllocationCreate, AllocationPayIn, DecisionIn
    from grants.awards import service as awards
    from grants.awards.schemas import SignIn, TerminateIn
    from grants.disbursements import service as disbursements
    from grants.disbursements.schemas import DisbursementCreate, PayIn
    from tests.grants.factories import make_award

    cast = await make_cast(session)
    award = await make_award(session, cast, amount=Decimal("20000.00"))
    fund = await make_fund(session, cast, approval_threshold=None, approval_steps=[])
    receipt = await receive(session, cast, fund, amount="20000.00")
    assert receipt.pool_id is not None
    allocation = await funds.request_allocation(
        session,
        cast.staff.principal,
        fund.id,
        AllocationCreate.model_validate(
            {
                "pool_id": receipt.pool_id,
                "target": "award",
                "award_id": award.id,
                "purpose": "elderly",
                "title": "长者助餐配套",
                "amount": "20000.00",
            }
        ),
    )
    await funds.decide(session, cast.finance.principal, allocation.id, DecisionIn(decision="approved"))
    await funds.pay_allocation(
        session, cast.finance.principal, allocation.id, AllocationPayIn(voucher_no="付-7", paid_on=today())
    )
    signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=signed.tranches[0].id)
    )
    await disbursements.approve(session, cast.finance.principal, d.id)
    await disbursements.pay(
        session, cast.finance2.principal, d.id, PayIn(voucher_no="记-9", paid_on=today(), amount=d.amount)
    )
    await awards.terminate(session, cast.staff.principal, award.id, TerminateIn(reason="违规使用资金"))

    token = await logged_in(client, cast.finance)
    answer = await client.post(
        f"/funds/{fund.id}/returns",
        data={
            "csrf_token": token,
            "award_id": str(award.id),
            "returned_on": today().isoformat(),
            "note": "追回到账",
        },
    )
    assert answer.status_code == 303, answer.text
    page = await client.get(answer.headers["location"])
    assert "追回资金已退回原出资基金" in page.text
    assert f"{d.amount:,.2f}" in page.text  # the amount returned, listed under 退回资金
    again = await client.post(
        f"/funds/{fund.id}/returns",
        data={"csrf_token": token, "award_id": str(award.id), "returned_on": today().isoformat()},
    )
    assert again.status_code == 422
    assert "这笔追回资金已退回基金" in again.text
