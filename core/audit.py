"""Append-only audit log, chained by SHA-256.

Every state change and money movement writes an event in the same transaction as the
change. Each event stores the SHA-256 of its own content and its place in the chain:
``seq`` (1, 2, 3 …), the previous event's hash and ``hash = sha256(prev_hash + content_hash)``.
Editing or deleting a row breaks the chain and ``seedbed audit verify`` reports where. On
PostgreSQL (and SQLite) a trigger refuses UPDATE and DELETE on the table; the chain catches
what a superuser does around it.

Sealing (giving an event its place in the chain) needs the chain's head, so it is
serialised. On SQLite the writer already holds the database's one write lock and the
event is sealed as it is written. On PostgreSQL a deferred constraint trigger seals the
transaction's events at COMMIT under an advisory lock: the lock is held only for the
commit itself, not for the rest of the request, so concurrent money approvals do not queue
behind each other's Python work. Until its transaction commits an event has no ``seq``;
nobody else can see it then.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.identity.principal import Principal

GENESIS = "0" * 64
CHAIN_LOCK_KEY = 7_270_001  # the advisory lock the PostgreSQL seal trigger takes (migration 0007)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centres.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(254), default="system")
    action: Mapped[str] = mapped_column(String(80))
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    # The chain: set when the event is sealed (at once on SQLite, at COMMIT on PostgreSQL).
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def content_digest(event: AuditEvent) -> str:
    """SHA-256 of the event's own content (everything but its place in the chain)."""
    payload = {
        "at": event.at.astimezone(dt.UTC).isoformat(),
        "centre_id": event.centre_id,
        "actor_id": event.actor_id,
        "actor": event.actor,
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "before": event.before,
        "after": event.after,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_digest(prev_hash: str, content_hash: str) -> str:
    """The link: the same formula as the PostgreSQL seal trigger (both hex strings, UTF-8)."""
    return hashlib.sha256((prev_hash + content_hash).encode()).hexdigest()


async def record(
    session: AsyncSession,
    *,
    actor: Principal | None,
    action: str,
    subject_type: str,
    subject_id: int | str,
    centre_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (flushes what is pending first, never
    commits). The event is written with one INSERT built once, not through the session's
    unit of work: the object answered is not in the session."""
    event = AuditEvent(
        at=utcnow(),
        centre_id=centre_id,
        actor_id=actor.user_id if actor else None,
        actor=actor.email if actor else "system",
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before=_plain(before) if before is not None else None,
        after=_plain(after) if after is not None else None,
    )
    event.content_hash = content_digest(event)
    if session.get_bind().dialect.name != "postgresql":
        # SQLite: this transaction holds the only write lock, so the head cannot move.
        head = await queries.chain_head(session)
        prev_seq, prev_hash = (head[0] or 0, head[1] or GENESIS) if head else (0, GENESIS)
        event.seq = prev_seq + 1
        event.prev_hash = prev_hash
        event.hash = chain_digest(prev_hash, event.content_hash)
    event.id = await queries.append(session, event)
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    problem: str


async def verify(session: AsyncSession, *, batch: int = 2000) -> tuple[int, list[ChainProblem]]:
    """Walk the chain in order; answer (events checked, problems found)."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    while True:
        rows = await queries.sealed_from(session, expected_seq, batch)
        if not rows:
            break
        for event in rows:
            checked += 1
            if event.prev_hash != expected_prev or event.seq != expected_seq:
                problems.append(ChainProblem(event.id, "previous hash does not match: a row was removed"))
            elif content_digest(event) != event.content_hash or (
                chain_digest(event.prev_hash or "", event.content_hash) != event.hash
            ):
                problems.append(ChainProblem(event.id, "content does not match its hash: the row was edited"))
            expected_prev = event.hash or ""
            expected_seq = (event.seq or 0) + 1
        session.expunge_all()
    unsealed = await queries.unsealed_ids(session)
    for event_id in unsealed:
        checked += 1
        problems.append(
            ChainProblem(event_id, "never sealed into the chain: written around the seal trigger")
        )
    return checked, problems


# Last: the repository imports this module's model.
from core.repository import audit as queries  # noqa: E402
