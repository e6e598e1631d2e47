"""The incubator's figures for the role dashboards."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.principal import Principal
from incubator import repository as queries


async def awaiting_verification(session: AsyncSession, principal: Principal) -> int:
    """Organisations registered (by themselves or by staff) that staff have not verified yet."""
    return await queries.unverified_count(session, principal)
