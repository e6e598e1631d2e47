"""Disbursements over HTTP: idempotent request and payment, maker-checker."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from grants.awards import service as awards
from grants.awards.schemas import SignIn
from grants.disbursements.models import Disbursement
from tests.grants.factories import Cast, make_award, make_cast


async def _due(session: AsyncSession, cast: Cast) -> tuple[int, int]:
    award = await make_award(session, cast, amount=Decimal("33333.33"))
    signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    return signed.id, signed.tranches[0].id


async def _count(session: AsyncSession, tranche_id: int) -> int:
    return int(
        (
            await session.execute(
                select(func.count(Disbursement.id)).where(Disbursement.tranche_id == tranche_id)
            )
        ).scalar_one()
    )


async def test_idempotent_request_and_payment(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    _award_id, tranche_id = await _due(session, cast)
    headers = {**cast.staff.headers, "Idempotency-Key": "req-7f3a"}
    first = await client.post("/api/v1/disbursements", json={"tranche_id": tranche_id}, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["amount"] == "16666.66"
    retry = await client.post("/api/v1/disbursements", json={"tranche_id": tranche_id}, headers=headers)
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert await _count(session, tranche_id) == 1
    other_body = await client.post(
        "/api/v1/disbursements", json={"tranche_id": tranche_id, "note": "改了"}, headers=headers
    )
    assert other_body.status_code == 422
    assert other_body.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    # without a key a second request is a conflict, not a second disbursement
    again = await client.post(
        "/api/v1/disbursements", json={"tranche_id": tranche_id}, headers=cast.staff.headers
    )
    assert again.status_code == 409
    d_id = first.json()["id"]
    approve = {**cast.finance.headers, "Idempotency-Key": "ok-1"}
    assert (
        await client.post(f"/api/v1/disbursements/{d_id}/approve", json={}, headers=approve)
    ).status_code == 200
    assert (
        await client.post(f"/api/v1/disbursements/{d_id}/approve", json={}, headers=approve)
    ).status_code == 200
    pay_headers = {**cast.finance2.headers, "Idempotency-Key": "pay-1"}
    body = {"voucher_no": "记-2026-118", "paid_on": today().isoformat(), "amount": "16666.66"}
    paid = await client.post(f"/api/v1/disbursements/{d_id}/pay", json=body, headers=pay_headers)
    assert paid.status_code == 200, paid.text
    repaid = await client.post(f"/api/v1/disbursements/{d_id}/pay", json=body, headers=pay_headers)
    assert repaid.json() == paid.json()
    award = (await client.get(f"/api/v1/awards/{_award_id}", headers=cast.staff.headers)).json()
    assert award["paid"] == "16666.66"
    assert award["execution"]["paid"] == "16666.66"
    assert [t["state"] for t in award["tranches"]] == ["paid", "planned", "planned"]


async def test_maker_checker_over_http(client: httpx.AsyncClient, session: AsyncSession) -> None:
    cast = await make_cast(session)
    _award_id, tranche_id = await _due(session, cast)
    made = await client.post(
        "/api/v1/disbursements", json={"tranche_id": tranche_id}, headers=cast.both.headers
    )
    assert made.status_code == 201
    refused = await client.post(
        f"/api/v1/disbursements/{made.json()['id']}/approve",
        json={},
        headers={**cast.both.headers, "Idempotency-Key": "mc-1"},
    )
    assert refused.status_code == 403
    assert "另一名财务人员" in refused.json()["error"]["message"]


async def test_approve_and_pay_need_an_idempotency_key(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Money is approved and paid only under a key, so that a retry after a lost answer gets
    the first answer; a request without one is refused, naming the header, and changes nothing."""
    cast = await make_cast(session)
    _award_id, tranche_id = await _due(session, cast)
    made = await client.post(
        "/api/v1/disbursements", json={"tranche_id": tranche_id}, headers=cast.staff.headers
    )
    d_id = made.json()["id"]
    bare = await client.post(f"/api/v1/disbursements/{d_id}/approve", json={}, headers=cast.finance.headers)
    assert bare.status_code == 400, bare.text
    error = bare.json()["error"]
    assert error["code"] == "idempotency_key_required"
    assert error["details"][0]["field"] == "Idempotency-Key"
    assert "Idempotency-Key" in error["message"]
    assert "请求头" in error["message"]  # in the reader's language
    english = await client.post(
        f"/api/v1/disbursements/{d_id}/approve",
        json={},
        headers={**cast.finance.headers, "Accept-Language": "en", "Idempotency-Key": " "},
    )
    assert english.status_code == 400
    assert english.json()["error"]["message"].startswith("Send an Idempotency-Key header")
    still = await client.get(f"/api/v1/disbursements/{d_id}", headers=cast.finance.headers)
    assert still.json()["state"] == "requested"
    approved = await client.post(
        f"/api/v1/disbursements/{d_id}/approve",
        json={},
        headers={**cast.finance.headers, "Idempotency-Key": "a-1"},
    )
    assert approved.status_code == 200, approved.text
    body = {"voucher_no": "记-2026-120", "paid_on": today().isoformat(), "amount": "16666.66"}
    unpaid = await client.post(f"/api/v1/disbursements/{d_id}/pay", json=body, headers=cast.finance2.headers)
    assert unpaid.status_code == 400
    assert unpaid.json()["error"]["details"][0]["field"] == "Idempotency-Key"
    after = await client.get(f"/api/v1/disbursements/{d_id}", headers=cast.finance.headers)
    assert after.json()["state"] == "approved"
    assert after.json()["voucher_no"] is None
