"""Idempotency keys: a retried request answers the first result and creates nothing new.

The edge (``api/idempotency.py``) looks a key up before running a request and stores the
answer in the same transaction as the work it did, so either both are committed or
neither is. The unique constraint on (user, key) settles two concurrent first attempts:
the second one fails to commit and its work is rolled back with it.

A key answers for a retention period (``SEEDBED_IDEMPOTENCY_RETENTION_HOURS``, 48 h): after
it, the key is new again, and the hourly ``idempotency.purge_expired`` job deletes the
expired records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.errors import ValidationFailed
from core.i18n import _

MAX_KEY_LENGTH = 100


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    method_path: Mapped[str] = mapped_column(String(300))
    body_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def body_digest(body: Any) -> str:
    """SHA-256 of the request body in canonical JSON (key order and spacing do not matter)."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed.field(
            "Idempotency-Key",
            _("The Idempotency-Key must be 1 to {n} printable characters").format(n=MAX_KEY_LENGTH),
        )
    return key


async def replay(
    session: AsyncSession,
    *,
    user_id: int,
    key: str,
    method_path: str,
    body_hash: str,
    retention: dt.timedelta,
    now: dt.datetime | None = None,
) -> IdempotencyRecord | None:
    """The stored answer for this key, or None when the key is new or its record expired.

    An expired record is deleted here (in the caller's transaction), so the request's own
    answer can be stored under the same key.

    The same key with another request (other body or other action) is refused: a client
    that reuses a key for something else has a bug that must not move money.
    """
    record = (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
            )
        )
    ).scalar_one_or_none()
    if record is None:
        return None
    if record.created_at < (now or utcnow()) - retention:
        await session.delete(record)
        await session.flush()
        return None
    if record.method_path != method_path or record.body_hash != body_hash:
        raise ValidationFailed.field(
            "Idempotency-Key", _("This Idempotency-Key was already used for a different request")
        )
    return record


async def remember(
    session: AsyncSession,
    *,
    user_id: int,
    key: str,
    method_path: str,
    body_hash: str,
    status_code: int,
    response: Any,
) -> IdempotencyRecord:
    record = IdempotencyRecord(
        user_id=user_id,
        key=key,
        method_path=method_path[:300],
        body_hash=body_hash,
        status_code=status_code,
        response=response,
    )
    session.add(record)
    await session.flush()
    return record


async def purge_expired(session: AsyncSession, now: dt.datetime, retention: dt.timedelta) -> int:
    """Scheduled housekeeping: delete the records older than the retention; answers how many."""
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - retention)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
