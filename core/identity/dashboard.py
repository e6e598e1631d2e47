"""Identity figures for the administrator's dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Centre, Role, User, UserRole
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
    scope: list[ColumnElement[bool]] = [User.is_active.is_(True)]
    if not principal.sees_all_centres:
        scope.append(User.centre_id == principal.centre_id)
    per_role = dict(
        (
            await session.execute(
                select(UserRole.role, func.count(User.id))
                .join(User, User.id == UserRole.user_id)
                .where(*scope)
                .group_by(UserRole.role)
            )
        ).all()
    )
    active = int((await session.execute(select(func.count(User.id)).where(*scope))).scalar_one())
    centres = select(Centre.id, Centre.name, func.count(User.id)).outerjoin(
        User, (User.centre_id == Centre.id) & User.is_active.is_(True)
    )
    if not principal.sees_all_centres:
        centres = centres.where(Centre.id == principal.centre_id)
    rows = await session.execute(centres.group_by(Centre.id, Centre.name).order_by(Centre.id))
    return AdminFigures(
        users_per_role={role: int(per_role.get(role, 0)) for role in Role},
        active_users=active,
        centres=[CentreLine(id=i, name=n, users=int(c)) for i, n, c in rows.all()],
    )
