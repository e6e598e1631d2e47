"""Finance's pages: the queue with maker-checker shown."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from grants.awards import service as awards
from grants.awards.schemas import SignIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate
from tests.grants.factories import Cast, make_award, make_cast
from tests.incubator.test_pages import logged_in


def _row(html: str, attr: str, value: int) -> str:
    return html.split(f'{attr}="{value}"')[1].split("</tr>")[0]


def _key(html: str, disbursement_id: int) -> str:
    """The hidden submission key the page minted for this disbursement's form."""
    found = re.search(
        r'name="idempotency_key" value="([^"]+)"', _row(html, "data-disbursement", disbursement_id)
    )
    assert found, "the form carries a submission key"
    return found.group(1)


async def test_finance_queue_shows_maker_checker(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, amount=Decimal("33333.33"))
    await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    d = await disbursements.request_disbursement(
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
    approved = await client.post(
        f"/finance/disbursements/{d.id}/approve",
        data={"csrf_token": token, "idempotency_key": _key(page.text, d.id)},
    )
    assert approved.status_code == 303
    page = await client.get("/finance")
    pay_key = _key(page.text, d.id)
    bad = await client.post(
        f"/finance/disbursements/{d.id}/pay",
        data={
            "csrf_token": token,
            "idempotency_key": pay_key,
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
            "idempotency_key": pay_key,
            "voucher_no": "记-1",
            "paid_on": today().isoformat(),
            "amount": "16666.66",
        },
    )
    assert paid.status_code == 303
    budget = await client.get("/budget")
    assert "16,666.66" in budget.text
    assert "为老服务" in budget.text


async def _requested(session: AsyncSession) -> tuple[Cast, int, int]:
    cast = await make_cast(session)
    cast.org.bank_name = "成都银行玉林支行"
    cast.org.bank_account_name = cast.org.name
    cast.org.bank_account_no = "1001 3000 0028 0001"
    award = await make_award(session, cast, amount=Decimal("30000.00"))
    await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
    )
    await session.commit()
    return cast, d.id, award.id


async def test_page_approve_and_pay_need_the_finance_role(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast, d_id, _award_id = await _requested(session)
    token = await logged_in(client, cast.staff)
    assert (await client.get("/finance")).status_code == 200  # staff may read the queue
    refused = await client.post(
        f"/finance/disbursements/{d_id}/approve", data={"csrf_token": token, "idempotency_key": "k-1"}
    )
    assert refused.status_code == 403
    paid = await client.post(
        f"/finance/disbursements/{d_id}/pay",
        data={
            "csrf_token": token,
            "idempotency_key": "k-2",
            "voucher_no": "记-9",
            "paid_on": today().isoformat(),
            "amount": "15000.00",
        },
    )
    assert paid.status_code == 403
    after = await disbursements.get_disbursement(session, cast.finance.principal, d_id)
    assert after.state == "requested"


async def test_page_approve_without_a_submission_key_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast, d_id, _award_id = await _requested(session)
    token = await logged_in(client, cast.finance)
    response = await client.post(f"/finance/disbursements/{d_id}/approve", data={"csrf_token": token})
    assert response.status_code == 422
    after = await disbursements.get_disbursement(session, cast.finance.principal, d_id)
    assert after.state == "requested"


async def test_payment_screen_names_payee_account_and_instalment(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast, d_id, award_id = await _requested(session)
    await logged_in(client, cast.finance)
    row = _row((await client.get("/finance")).text, "data-disbursement", d_id)
    assert "玉林社区邻里互助会" in row
    assert "成都银行玉林支行" in row
    assert "1001 3000 0028 0001" in row
    assert "第 1/2 期" in row or "第 1/3 期" in row
    assert f'href="/awards/{award_id}"' in row
    assert "项目 #" not in row


async def test_double_submit_approves_and_pays_once(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast, d_id, award_id = await _requested(session)
    token = await logged_in(client, cast.finance)
    key = _key((await client.get("/finance")).text, d_id)
    first = await client.post(
        f"/finance/disbursements/{d_id}/approve", data={"csrf_token": token, "idempotency_key": key}
    )
    again = await client.post(
        f"/finance/disbursements/{d_id}/approve", data={"csrf_token": token, "idempotency_key": key}
    )
    assert first.status_code == again.status_code == 303
    assert "msg=already" in again.headers["location"]
    form = {
        "csrf_token": token,
        "idempotency_key": _key((await client.get("/finance")).text, d_id),
        "voucher_no": "记-2026-0001",
        "paid_on": today().isoformat(),
    }
    amount = (await disbursements.get_disbursement(session, cast.finance.principal, d_id)).amount
    form["amount"] = str(amount)
    paid = await client.post(f"/finance/disbursements/{d_id}/pay", data=form)
    twice = await client.post(f"/finance/disbursements/{d_id}/pay", data=form)
    assert paid.status_code == twice.status_code == 303
    assert "msg=paid" in paid.headers["location"]
    assert "msg=already" in twice.headers["location"]
    followed = await client.get(twice.headers["location"])
    assert "已提交过并已记录" in followed.text
    award = await awards.get_award(session, cast.finance.principal, award_id)
    await session.refresh(award)
    assert award.paid == amount  # paid once, not twice
