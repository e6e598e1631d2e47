"""Identity figures for the administrator's dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import repository as queries
from core.identity.models import Role
from core.identity.principal import Principal


@dataclass(frozen=True)
class CentreLine:
    id: int
    name: str
    users: int


@dataclass(frozen=True)
class AdminFigures:
    users_per_role: dict[Role, int]
    active_users: int
    centres: list[CentreLine]


async def admin_figures(session: AsyncSession, principal: Principal) -> AdminFigures:
    """Active users per role and centres with their active users (three grouped queries)."""
    per_role, active, rows = await queries.admin_counts(session, principal)
    return AdminFigures(
        users_per_role={role: int(per_role.get(role, 0)) for role in Role},
        active_users=active,
        centres=[CentreLine(id=i, name=n, users=int(c)) for i, n, c in rows],
    )
