"""Purchased-service contract pages."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from tests.grants.factories import make_cast
from tests.incubator.test_pages import logged_in


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
