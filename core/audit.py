"""Append-only audit log, chained by SHA-256.

Every state change and money movement writes an event in the same transaction as the
change. Each event stores the hash of the previous one, so editing or deleting a row
breaks the chain and ``seedbed audit verify`` reports where. On PostgreSQL (and SQLite) a
trigger refuses UPDATE and DELETE on the table; the chain catches what a superuser does
around it.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.identity.principal import Principal

GENESIS = "0" * 64
_CHAIN_LOCK_KEY = 7_270_001


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
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


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


def _digest(event: AuditEvent) -> str:
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
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    """Append one event in the caller's transaction (flushes, never commits)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # Serialise chain appends: two transactions must not both extend the same head.
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CHAIN_LOCK_KEY})
    head = (
        await session.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    ).scalar_one_or_none()
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
        prev_hash=head or GENESIS,
    )
    event.hash = _digest(event)
    session.add(event)
    await session.flush()
    return event


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    problem: str


async def verify(session: AsyncSession, *, batch: int = 2000) -> tuple[int, list[ChainProblem]]:
    """Walk the chain in order; answer (events checked, problems found)."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = (
            (
                await session.execute(
                    select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
                )
            )
            .scalars()
            .all()
        )
        if not rows:
            break
        for event in rows:
            checked += 1
            if event.prev_hash != expected_prev:
                problems.append(ChainProblem(event.id, "previous hash does not match: a row was removed"))
            if _digest(event) != event.hash:
                problems.append(ChainProblem(event.id, "content does not match its hash: the row was edited"))
            expected_prev = event.hash
            last_id = event.id
        session.expunge_all()
    return checked, problems
