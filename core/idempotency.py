"""Idempotency keys: a retried request answers the first result and creates nothing new.

The edge (``api/idempotency.py``) claims a key before running a request and stores the
answer in the same transaction as the work it did, so either both are committed or
neither is. Concurrent requests with one key queue on the claim: the first does the work,
the others get its answer once it has committed (or are told it is still in progress).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
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
    session: AsyncSession, *, user_id: int, key: str, method_path: str, body_hash: str
) -> IdempotencyRecord | None:
    """The stored answer for this key, or None when the key is new.

    The same key with another request (other body or other action) is refused: a client
    that reuses a key for something else has a bug that must not move money.
    """
    record = await queries.record_for_key(session, user_id=user_id, key=key)
    if record is None:
        return None
    if record.method_path != method_path or record.body_hash != body_hash:
        raise ValidationFailed.field(
            "Idempotency-Key", _("This Idempotency-Key was already used for a different request")
        )
    return record


async def claim(
    session: AsyncSession,
    *,
    user_id: int,
    key: str,
    method_path: str,
    body_hash: str,
    retention: dt.timedelta,
    now: dt.datetime | None = None,
) -> int | None:
    """Take the key for this transaction: the record's id, or None when it is taken.

    One ``INSERT … ON CONFLICT`` on the (user, key) unique index: a record older than the
    retention is taken over (the key is new again), a live one is left alone. On PostgreSQL
    a second request with the same key waits here for the first one's transaction: when
    that commits, this answers None and the caller replays the stored answer; when it rolls
    back, this claims the key itself. The record holds no answer until ``answer`` fills it,
    in the same transaction, so nobody ever reads a half-done record.
    """
    return await queries.insert_unless_taken(
        session,
        user_id=user_id,
        key=key,
        method_path=method_path,
        body_hash=body_hash,
        expired_before=(now or utcnow()) - retention,
    )


async def answer(session: AsyncSession, record_id: int, *, status_code: int, response: Any) -> None:
    """Store the answer of the request that claimed the key (same transaction as its work)."""
    await queries.store_answer(session, record_id, status_code=status_code, response=response)


async def purge_expired(session: AsyncSession, now: dt.datetime, retention: dt.timedelta) -> int:
    """Scheduled housekeeping: delete the records older than the retention; answers how many."""
    return await queries.delete_older_than(session, now - retention)


# Last: the repository imports this module's model.
from core.repository import idempotency as queries  # noqa: E402
