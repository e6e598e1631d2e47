"""The incubator's figures for the role dashboards."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.principal import Principal
from incubator.models import Organisation


async def awaiting_verification(session: AsyncSession, principal: Principal) -> int:
    """Organisations registered (by themselves or by staff) that staff have not verified yet."""
    statement = select(func.count(Organisation.id)).where(Organisation.verified_at.is_(None))
    if not principal.sees_all_centres:
        statement = statement.where(Organisation.centre_id == principal.centre_id)
    return int((await session.execute(statement)).scalar_one())
