"""Queries of idempotency records: the (user, key) claim, its stored answer, expiry."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.idempotency import IdempotencyRecord
from core.repository.direct import DirectWrite


async def record_for_key(session: AsyncSession, *, user_id: int, key: str) -> IdempotencyRecord | None:
    return (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        )
    ).scalar_one_or_none()


def _claim_statement(dialect: str) -> Any:
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    columns = IdempotencyRecord.__table__.c
    values = {
        "method_path": bindparam("method_path", type_=columns.method_path.type),
        "body_hash": bindparam("body_hash", type_=columns.body_hash.type),
        "status_code": 0,
        "response": bindparam("empty", type_=columns.response.type),
        "created_at": bindparam("now", type_=columns.created_at.type),
    }
    return (
        insert(IdempotencyRecord)
        .values(user_id=bindparam("user_id"), key=bindparam("key"), **values)
        .on_conflict_do_update(
            index_elements=["user_id", "key"],
            set_=values,
            where=IdempotencyRecord.created_at < bindparam("expired_before", type_=columns.created_at.type),
        )
        .returning(IdempotencyRecord.id)
    )


_CLAIM: dict[str, DirectWrite[Any]] = {
    dialect: DirectWrite(_claim_statement(dialect)) for dialect in ("postgresql", "sqlite")
}
"""The claim, built once per dialect (sent with the driver's call on PostgreSQL)."""


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
    statement = _CLAIM[session.get_bind().dialect.name]
    params = {
        "user_id": user_id,
        "key": key,
        "method_path": method_path[:300],
        "body_hash": body_hash,
        "empty": {},
        "now": utcnow(),
        "expired_before": expired_before,
    }
    claimed = await statement.first(session, params)
    return None if claimed is None else int(claimed.id)


_ANSWER: DirectWrite[Any] = DirectWrite(
    update(IdempotencyRecord)
    .where(IdempotencyRecord.id == bindparam("record_id"))
    .values(
        status_code=bindparam("status_code"),
        response=bindparam("response", type_=IdempotencyRecord.__table__.c.response.type),
    )
    .returning(IdempotencyRecord.id)
)


async def store_answer(session: AsyncSession, record_id: int, *, status_code: int, response: Any) -> None:
    await _ANSWER.run(session, {"record_id": record_id, "status_code": status_code, "response": response})


async def delete_older_than(session: AsyncSession, cutoff: dt.datetime) -> int:
    result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]
