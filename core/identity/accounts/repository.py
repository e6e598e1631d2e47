"""Every query of account administration: user search, lockouts, one-time links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.audit import AuditEvent
from core.identity.models import LinkPurpose, LoginFailure, OneTimeLink, Role, User, UserRole
from core.identity.principal import Principal
from core.repository import Paged, PageParams, Repository

ACCOUNT_KEY = "account:"


@dataclass(frozen=True)
class UserFilters:
    q: str | None = None
    centre_id: int | None = None
    role: Role | None = None
    active: bool | None = None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class UserRepository(Repository[User]):
    """Accounts as an administrator sees them: the whole platform, or one centre."""

    model = User

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        super().__init__(session)
        self.principal = principal

    def scoped(self) -> Select[User]:
        statement = select(User).options(selectinload(User.roles), selectinload(User.centre))
        if not self.principal.sees_all_centres:
            statement = statement.where(User.centre_id == self.principal.centre_id)
        return statement

    def filtered(self, filters: UserFilters) -> Select[User]:
        statement = self.scoped()
        conditions: list[ColumnElement[bool]] = []
        if filters.q:
            pattern = _like(filters.q.strip().lower())
            conditions.append(
                or_(
                    func.lower(User.email).like(pattern, escape="\\"),
                    func.lower(User.full_name).like(pattern, escape="\\"),
                )
            )
        if filters.centre_id is not None:
            conditions.append(User.centre_id == filters.centre_id)
        if filters.role is not None:
            conditions.append(User.id.in_(select(UserRole.user_id).where(UserRole.role == filters.role)))
        if filters.active is not None:
            conditions.append(User.is_active.is_(filters.active))
        return statement.where(*conditions).order_by(User.email)

    async def page(self, filters: UserFilters, params: PageParams) -> Paged[User]:
        return await self.paginate(self.filtered(filters), params)

    async def by_id(self, user_id: int) -> User | None:
        result = await self.session.execute(self.scoped().where(User.id == user_id))
        return result.scalar_one_or_none()

    async def by_emails(self, emails: Sequence[str]) -> list[User]:
        if not emails:
            return []
        result = await self.session.execute(self.scoped().where(User.email.in_(list(emails))))
        return list(result.scalars())


async def failing_accounts(
    session: AsyncSession, since: dt.datetime, at_least: int
) -> dict[str, tuple[int, dt.datetime]]:
    """Email -> (failed logins since ``since``, the latest) for accounts with ``at_least`` of them."""
    rows = await session.execute(
        select(LoginFailure.key, func.count(LoginFailure.id), func.max(LoginFailure.at))
        .where(LoginFailure.key.startswith(ACCOUNT_KEY), LoginFailure.at >= since)
        .group_by(LoginFailure.key)
        .having(func.count(LoginFailure.id) >= at_least)
    )
    return {key.removeprefix(ACCOUNT_KEY): (int(count), last) for key, count, last in rows}


async def clear_failures(session: AsyncSession, email: str) -> int:
    result = await session.execute(delete(LoginFailure).where(LoginFailure.key == ACCOUNT_KEY + email))
    return int(getattr(result, "rowcount", 0) or 0)


async def add_link(session: AsyncSession, link: OneTimeLink) -> OneTimeLink:
    session.add(link)
    await session.flush()
    return link


async def link_by_hash(session: AsyncSession, digest: str, purpose: LinkPurpose) -> OneTimeLink | None:
    result = await session.execute(
        select(OneTimeLink).where(OneTimeLink.token_hash == digest, OneTimeLink.purpose == purpose)
    )
    return result.scalar_one_or_none()


async def use_link(session: AsyncSession, link_id: int, now: dt.datetime) -> bool:
    """Compare-and-set: the link is used now only if nobody used it and it has not expired."""
    result = await session.execute(
        update(OneTimeLink)
        .where(OneTimeLink.id == link_id, OneTimeLink.used_at.is_(None), OneTimeLink.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


async def retire_links(session: AsyncSession, user_id: int, purpose: LinkPurpose, now: dt.datetime) -> None:
    """Earlier unused links of the account stop working when a newer one is issued or one is used."""
    await session.execute(
        update(OneTimeLink)
        .where(OneTimeLink.user_id == user_id, OneTimeLink.purpose == purpose, OneTimeLink.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )


async def set_password_hash(session: AsyncSession, user_id: int, password_hash: str) -> None:
    await session.execute(
        update(User)
        .where(User.id == user_id)
        .values(password_hash=password_hash)
        .execution_options(synchronize_session=False)
    )


async def user_events(session: AsyncSession, user_id: int, limit: int = 20) -> list[AuditEvent]:
    """What was done to an account, newest first (its history on the user's page)."""
    result = await session.execute(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "user", AuditEvent.subject_id == str(user_id))
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return list(result.scalars())
