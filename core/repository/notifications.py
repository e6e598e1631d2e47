"""Queries of notifications and their external deliveries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import User
from core.notifications import DeliveryState, Notification, NotificationDelivery
from core.repository import Paged, PageParams, count_of


async def active_users(session: AsyncSession, user_ids: Collection[int]) -> Sequence[User]:
    return (
        (await session.execute(select(User).where(User.id.in_(set(user_ids)), User.is_active.is_(True))))
        .scalars()
        .all()
    )


async def page_for(
    session: AsyncSession, user_id: int, params: PageParams, *, unread_only: bool = False
) -> Paged[Notification]:
    statement = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        statement = statement.where(Notification.read_at.is_(None))
    total = (await session.execute(count_of(statement))).scalar_one()
    rows = (
        (
            await session.execute(
                statement.order_by(Notification.id.desc()).limit(params.page_size).offset(params.offset)
            )
        )
        .scalars()
        .all()
    )
    return Paged(items=rows, total=total, page=params.page, page_size=params.page_size)


async def unread_count(session: AsyncSession, user_id: int) -> int:
    statement = select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return int((await session.execute(statement)).scalar_one())


async def notification_of(session: AsyncSession, user_id: int, notification_id: int) -> Notification | None:
    return (
        await session.execute(
            select(Notification).where(Notification.id == notification_id, Notification.user_id == user_id)
        )
    ).scalar_one_or_none()


async def mark_all_read(session: AsyncSession, user_id: int, at: dt.datetime) -> None:
    await session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=at)
    )


async def due_deliveries(
    session: AsyncSession, now: dt.datetime, *, max_attempts: int, limit: int
) -> Sequence[Any]:
    """(delivery, notification) pairs not yet sent, with attempts left, whose time has come."""
    return (
        await session.execute(
            select(NotificationDelivery, Notification)
            .join(Notification, Notification.id == NotificationDelivery.notification_id)
            .where(
                NotificationDelivery.state != DeliveryState.sent,
                NotificationDelivery.attempts < max_attempts,
                or_(
                    NotificationDelivery.next_attempt_at.is_(None),
                    NotificationDelivery.next_attempt_at <= now,
                ),
            )
            .order_by(NotificationDelivery.id)
            .limit(limit)
        )
    ).all()


async def deliveries_of(session: AsyncSession, notification_ids: Sequence[int]) -> list[NotificationDelivery]:
    rows = await session.execute(
        select(NotificationDelivery)
        .where(NotificationDelivery.notification_id.in_(notification_ids))
        .order_by(NotificationDelivery.id)
    )
    return list(rows.scalars())


async def mark_done(
    session: AsyncSession,
    link: str,
    now: dt.datetime,
    *,
    kinds: Collection[str] = (),
    user_ids: Collection[int] | None = None,
) -> None:
    statement = update(Notification).where(Notification.link == link, Notification.done_at.is_(None))
    if kinds:
        statement = statement.where(Notification.kind.in_(list(kinds)))
    if user_ids is not None:
        statement = statement.where(Notification.user_id.in_(list(user_ids)))
    await session.execute(statement.values(done_at=now).execution_options(synchronize_session=False))
