"""Idempotency keys answer for the retention period (48 h), then they are new again and purged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core import idempotency
from core.clock import today
from core.db import utcnow
from core.idempotency import IdempotencyRecord
from core.identity.models import Role
from grants.awards import service as awards
from grants.awards.schemas import SignIn
from tests.factories import make_centre, make_user
from tests.grants.factories import Cast, make_award, make_cast

RETENTION = dt.timedelta(hours=48)


async def test_purge_removes_expired_records_and_keeps_recent_ones(session: AsyncSession) -> None:
    user = await make_user(session, await make_centre(session), Role.staff)
    now = utcnow()
    for key, age in (("old", 49), ("edge", 47), ("new", 1)):
        session.add(
            IdempotencyRecord(
                user_id=user.user.id,
                key=key,
                method_path="POST /api/v1/disbursements",
                body_hash="0" * 64,
                status_code=201,
                response={},
                created_at=now - dt.timedelta(hours=age),
            )
        )
    await session.flush()
    assert await idempotency.purge_expired(session, now, RETENTION) == 1
    left = (
        await session.execute(select(IdempotencyRecord.key).where(IdempotencyRecord.user_id == user.user.id))
    ).scalars()
    assert sorted(left) == ["edge", "new"]


async def _due_tranche(session: AsyncSession, cast: Cast) -> int:
    award = await make_award(session, cast, amount=Decimal("30000.00"))
    signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    return signed.tranches[0].id


async def test_a_key_reused_after_expiry_is_a_new_request(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    cast = await make_cast(session)
    first_tranche, second_tranche = await _due_tranche(session, cast), await _due_tranche(session, cast)
    headers = {**cast.staff.headers, "Idempotency-Key": "req-2026-11"}
    first = await client.post("/api/v1/disbursements", json={"tranche_id": first_tranche}, headers=headers)
    assert first.status_code == 201, first.text
    # within the retention the key belongs to that request: another body is refused
    refused = await client.post("/api/v1/disbursements", json={"tranche_id": second_tranche}, headers=headers)
    assert refused.status_code == 422
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == "req-2026-11")
        .values(created_at=utcnow() - RETENTION - dt.timedelta(minutes=1))
    )
    await session.flush()
    reused = await client.post("/api/v1/disbursements", json={"tranche_id": second_tranche}, headers=headers)
    assert reused.status_code == 201, reused.text
    assert "Idempotent-Replayed" not in reused.headers
    assert reused.json()["id"] != first.json()["id"]
    assert reused.json()["tranche_id"] == second_tranche
    # and the key now answers for the new request
    replayed = await client.post(
        "/api/v1/disbursements", json={"tranche_id": second_tranche}, headers=headers
    )
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json() == reused.json()
