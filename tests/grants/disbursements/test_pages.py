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
from tests.grants.factories import make_award, make_cast
from tests.incubator.test_pages import logged_in


def _row(html: str, attr: str, value: int) -> str:
    return html.split(f'{attr}="{value}"')[1].split("</tr>")[0]


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
