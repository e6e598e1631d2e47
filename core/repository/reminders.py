"""Queries of reminders: who was reminded already, whom to remind and in which language."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role, User, UserRole
from core.notifications import Notification


async def reminded_users(
    session: AsyncSession,
    user_ids: Collection[int],
    kind: str,
    link: str,
    since: dt.datetime | None = None,
) -> set[int]:
    statement = select(Notification.user_id).where(
        Notification.user_id.in_(set(user_ids)), Notification.kind == kind, Notification.link == link
    )
    if since is not None:
        statement = statement.where(Notification.created_at >= since)
    return set((await session.execute(statement)).scalars())


async def active_locales(session: AsyncSession, user_ids: Collection[int]) -> list[tuple[int, str | None]]:
    """(id, locale) of the active users among ``user_ids``."""
    rows = await session.execute(
        select(User.id, User.locale).where(User.id.in_(user_ids), User.is_active.is_(True))
    )
    return [(user_id, locale) for user_id, locale in rows]


async def active_users_with_role(session: AsyncSession, centre_id: int, role: Role) -> list[int]:
    rows = await session.execute(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.centre_id == centre_id, UserRole.role == role, User.is_active.is_(True))
    )
    return sorted(set(rows.scalars()))
