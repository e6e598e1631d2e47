"""Reads of centres and users that other domains' reports and checks need."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Centre, Role, User, UserRole


async def centre_by_id(session: AsyncSession, centre_id: int) -> Centre | None:
    return await session.get(Centre, centre_id)


async def some_centre_ids(session: AsyncSession, limit: int) -> Sequence[int]:
    return (await session.execute(select(Centre.id).order_by(Centre.id).limit(limit))).scalars().all()


async def user_ids_in_centre(session: AsyncSession, centre_id: int, user_ids: Sequence[int]) -> set[int]:
    """Which of ``user_ids`` are users of the centre."""
    statement = select(User.id).where(User.id.in_(list(user_ids)), User.centre_id == centre_id)
    return set((await session.execute(statement)).scalars())


async def active_users_by_role(session: AsyncSession, centre_id: int) -> dict[Role, int]:
    statement = (
        select(UserRole.role, func.count(UserRole.user_id))
        .join(User, User.id == UserRole.user_id)
        .where(User.centre_id == centre_id, User.is_active.is_(True))
        .group_by(UserRole.role)
    )
    return {Role(role): int(count) for role, count in (await session.execute(statement)).all()}


async def active_user_count(session: AsyncSession, centre_id: int) -> int:
    statement = select(func.count(User.id)).where(User.centre_id == centre_id, User.is_active.is_(True))
    return int((await session.execute(statement)).scalar_one())


async def new_user_count(session: AsyncSession, centre_id: int, start: dt.datetime, end: dt.datetime) -> int:
    statement = select(func.count(User.id)).where(
        User.centre_id == centre_id, User.created_at >= start, User.created_at < end
    )
    return int((await session.execute(statement)).scalar_one())
