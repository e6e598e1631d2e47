"""Queries of the audit chain: its head, sealed events in order, events never sealed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.identity.principal import Principal
from core.repository import CentreScopedRepository
from core.repository.direct import DirectWrite

_EVENT_COLUMNS = (
    "at", "centre_id", "actor_id", "actor", "action", "subject_type", "subject_id",
    "before", "after", "content_hash", "seq", "prev_hash", "hash",
)  # fmt: skip
_APPEND: DirectWrite[Any] = DirectWrite(
    insert(AuditEvent)
    .values({name: bindparam(name, type_=AuditEvent.__table__.c[name].type) for name in _EVENT_COLUMNS})
    .returning(AuditEvent.id)
)


async def append(session: AsyncSession, event: AuditEvent) -> int:
    """Write one event as it is (sealed or not), in one statement built once; its id."""
    written = await _APPEND.run(session, {name: getattr(event, name) for name in _EVENT_COLUMNS})
    return int(written[0].id)


class AuditRepository(CentreScopedRepository[AuditEvent]):
    """The audit log as staff (their centre) and admins (every centre) read it."""

    model = AuditEvent

    def newest_first(
        self, subject_type: str | None = None, subject_id: str | None = None
    ) -> Select[AuditEvent]:
        statement = self.select().order_by(AuditEvent.id.desc())
        if subject_type:
            statement = statement.where(AuditEvent.subject_type == subject_type)
        if subject_id:
            statement = statement.where(AuditEvent.subject_id == subject_id)
        return statement

    async def by_id(self, event_id: int) -> AuditEvent | None:
        return await self.get_one_or_none(self.select().where(AuditEvent.id == event_id))


async def chain_head(session: AsyncSession) -> tuple[int | None, str | None] | None:
    """(seq, hash) of the newest sealed event, or None on an empty chain."""
    head = (
        await session.execute(
            select(AuditEvent.seq, AuditEvent.hash)
            .where(AuditEvent.seq.is_not(None))
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
    ).first()
    return (head[0], head[1]) if head else None


async def sealed_from(session: AsyncSession, seq: int, batch: int) -> Sequence[AuditEvent]:
    return (
        (
            await session.execute(
                select(AuditEvent).where(AuditEvent.seq >= seq).order_by(AuditEvent.seq).limit(batch)
            )
        )
        .scalars()
        .all()
    )


async def unsealed_ids(session: AsyncSession) -> Sequence[int]:
    return (
        (await session.execute(select(AuditEvent.id).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id)))
        .scalars()
        .all()
    )


async def recent_events(session: AsyncSession, principal: Principal, *, limit: int) -> Sequence[AuditEvent]:
    """The newest events of the principal's centre (all centres for those who see them)."""
    statement = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if not principal.sees_all_centres:
        statement = statement.where(AuditEvent.centre_id == principal.centre_id)
    return (await session.execute(statement)).scalars().all()


async def events_between(
    session: AsyncSession, centre_id: int, start: dt.datetime, end: dt.datetime, limit: int
) -> list[AuditEvent]:
    """A centre's events in ``[start, end)``, in order, at most ``limit``."""
    statement = (
        select(AuditEvent)
        .where(AuditEvent.centre_id == centre_id, AuditEvent.at >= start, AuditEvent.at < end)
        .order_by(AuditEvent.at, AuditEvent.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).scalars())


async def count_between(session: AsyncSession, centre_id: int, start: dt.datetime, end: dt.datetime) -> int:
    statement = select(func.count(AuditEvent.id)).where(
        AuditEvent.centre_id == centre_id, AuditEvent.at >= start, AuditEvent.at < end
    )
    return int((await session.execute(statement)).scalar_one())


async def latest_of(
    session: AsyncSession, subject_type: str, subject_ids: Collection[int], action: str
) -> dict[int, AuditEvent]:
    """The newest event of one action per subject (for example the last change of each
    payee's bank account), by subject id."""
    if not subject_ids:
        return {}
    newest = (
        select(func.max(AuditEvent.id))
        .where(
            AuditEvent.subject_type == subject_type,
            AuditEvent.action == action,
            AuditEvent.subject_id.in_([str(i) for i in subject_ids]),
        )
        .group_by(AuditEvent.subject_id)
    )
    events = (await session.execute(select(AuditEvent).where(AuditEvent.id.in_(newest)))).scalars()
    return {int(event.subject_id): event for event in events}
