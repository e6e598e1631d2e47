"""Queries of idempotency records: the (user, key) claim, its stored answer, expiry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.idempotency import IdempotencyRecord


async def record_for_key(session: AsyncSession, *, user_id: int, key: str) -> IdempotencyRecord | None:
    return (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        )
    ).scalar_one_or_none()


async def insert_unless_taken(
    session: AsyncSession,
    *,
    user_id: int,
    key: str,
    method_path: str,
    body_hash: str,
    expired_before: dt.datetime,
) -> int | None:
    """One statement on the (user, key) unique index: a new record, or an expired one of the
    key taken over (``ON CONFLICT DO UPDATE … WHERE created_at < expired_before``); the
    record's id, or None when a live record holds the key."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    values = {
        "method_path": method_path[:300],
        "body_hash": body_hash,
        "status_code": 0,
        "response": {},
        "created_at": utcnow(),
    }
    statement = (
        insert(IdempotencyRecord)
        .values(user_id=user_id, key=key, **values)
        .on_conflict_do_update(
            index_elements=["user_id", "key"],
            set_=values,
            where=IdempotencyRecord.created_at < expired_before,
        )
        .returning(IdempotencyRecord.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def store_answer(session: AsyncSession, record_id: int, *, status_code: int, response: Any) -> None:
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.id == record_id)
        .values(status_code=status_code, response=response)
    )


async def delete_older_than(session: AsyncSession, cutoff: dt.datetime) -> int:
    result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
