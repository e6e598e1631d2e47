"""Queries of accounts, centres, login failures, rate events and tokens (also the reads of
centres and users that other domains' reports and checks need)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence

from sqlalchemy import ColumnElement, Row, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from core.db import utcnow
from core.identity.models import AuthToken, Centre, LoginFailure, RateEvent, Role, TokenKind, User, UserRole
from core.identity.principal import Principal
from core.repository.direct import DirectRead
from core.repository.listing import CHOICES, chosen_first
from core.security import token_digest


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    result = await session.execute(select(User).options(selectinload(User.roles)).where(User.id == user_id))
    return result.scalar_one_or_none()


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(
        select(User).options(selectinload(User.roles)).where(User.email == email.strip().lower())
    )
    return result.scalar_one_or_none()


async def get_centre_by_slug(session: AsyncSession, slug: str) -> Centre | None:
    return (await session.execute(select(Centre).where(Centre.slug == slug))).scalar_one_or_none()


async def list_centres(session: AsyncSession) -> Sequence[Centre]:
    return (await session.execute(select(Centre).order_by(Centre.id))).scalars().all()


async def list_users(session: AsyncSession, principal: Principal) -> Sequence[User]:
    statement = select(User).options(selectinload(User.roles)).order_by(User.id)
    if not principal.sees_all_centres:
        statement = statement.where(User.centre_id == principal.centre_id)
    return (await session.execute(statement)).scalars().all()


async def user_choices(
    session: AsyncSession,
    principal: Principal,
    q: str = "",
    chosen: Collection[int] = (),
    limit: int = CHOICES,
) -> list[tuple[int, str]]:
    """(id, "name (email)") of the caller's centre's active users matching ``q`` (name, email
    or number), the chosen ones first, at most ``limit`` more: what a chooser offers."""
    statement = select(User.id, User.full_name, User.email).where(User.is_active.is_(True))
    if not principal.sees_all_centres:
        statement = statement.where(User.centre_id == principal.centre_id)
    rows = await session.execute(
        chosen_first(statement, User.id, [User.full_name, User.email], q, chosen, limit)
    )
    return [(user_id, f"{name or email} ({email})") for user_id, name, email in rows]


async def user_names(
    session: AsyncSession, ids: Collection[int], centre_id: int | None = None
) -> dict[int, str]:
    """Names (or emails) of the given users, by id: those a page shows (of one centre when
    ``centre_id`` is given)."""
    if not ids:
        return {}
    statement = select(User.id, User.full_name, User.email).where(User.id.in_(list(ids)))
    if centre_id is not None:
        statement = statement.where(User.centre_id == centre_id)
    return {user_id: name or email for user_id, name, email in await session.execute(statement)}


async def people_with_role(session: AsyncSession, centre_id: int, role: Role) -> Sequence[Row[int, str, str]]:
    """(id, full_name, email) of a centre's active users who hold ``role``: a chooser of
    evaluators, without loading the centre's other users (in the order of their numbers)."""
    statement = (
        select(User.id, User.full_name, User.email)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.centre_id == centre_id, User.is_active.is_(True), UserRole.role == role)
        .order_by(User.id)
    )
    return (await session.execute(statement)).all()


async def set_locale(session: AsyncSession, user_id: int, locale: str) -> None:
    await session.execute(update(User).where(User.id == user_id).values(locale=locale))


async def recent_failures(session: AsyncSession, key: str, since: dt.datetime) -> int:
    statement = (
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key == key, LoginFailure.at >= since)
    )
    return int((await session.execute(statement)).scalar_one())


async def user_for_token(session: AsyncSession, raw: str, kind: TokenKind) -> User | None:
    if not raw or len(raw) > 128:
        return None
    # One round trip per request: the user with roles and centre joined (was three statements).
    statement = (
        select(User)
        .join(AuthToken, AuthToken.user_id == User.id)
        .options(joinedload(User.roles), joinedload(User.centre))
        .where(
            AuthToken.token_hash == token_digest(raw),
            AuthToken.kind == kind,
            AuthToken.revoked_at.is_(None),
            AuthToken.expires_at > utcnow(),
            User.is_active.is_(True),
        )
    )
    return (await session.execute(statement)).unique().scalar_one_or_none()


_PRINCIPAL_BY_TOKEN = DirectRead(
    select(
        User.id,
        User.email,
        User.full_name,
        User.centre_id,
        User.is_district,
        User.locale,
        User.community_id,
        Centre.name,
        UserRole.role,
    )
    .join(AuthToken, AuthToken.user_id == User.id)
    .outerjoin(Centre, Centre.id == User.centre_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(
        AuthToken.token_hash == bindparam("token_hash"),
        AuthToken.kind == bindparam("kind"),
        AuthToken.revoked_at.is_(None),
        AuthToken.expires_at > bindparam("now"),
        User.is_active.is_(True),
    ),
    make=tuple,
    outside_transaction=True,
)
"""Built once: the statement every authenticated request runs, sent with the driver's own
call on a reading request (``core.repository.direct``)."""


async def principal_for_token(session: AsyncSession, raw: str, kind: TokenKind) -> Principal | None:
    """Who a live token acts as, in one statement of columns (one row per role) and no ORM
    object. Nothing is cached between requests: a revoked token, a deactivated user or a
    removed role stops working at the next request, in every worker."""
    if not raw or len(raw) > 128:
        return None
    rows = await _PRINCIPAL_BY_TOKEN.all(
        session, {"token_hash": token_digest(raw), "kind": kind, "now": utcnow()}
    )
    if not rows:
        return None
    user_id, email, full_name, centre_id, is_district, locale, community_id, centre_name, _role = rows[0]
    return Principal(
        user_id=user_id,
        email=email,
        full_name=full_name,
        centre_id=centre_id,
        is_district=is_district,
        roles=frozenset(Role(row[-1]) for row in rows if row[-1] is not None),
        locale=locale,
        centre_name=centre_name,
        community_id=community_id,
    )


async def revoke_token(session: AsyncSession, raw: str) -> bool:
    result = await session.execute(
        update(AuthToken)
        .where(AuthToken.token_hash == token_digest(raw), AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


async def revoke_all_tokens(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def purge_expired(session: AsyncSession, now: dt.datetime) -> None:
    """Scheduled housekeeping: drop long-expired tokens and old throttling rows."""
    await session.execute(delete(AuthToken).where(AuthToken.expires_at < now - dt.timedelta(days=30)))
    await session.execute(delete(LoginFailure).where(LoginFailure.at < now - dt.timedelta(days=1)))
    await session.execute(delete(RateEvent).where(RateEvent.at < now - dt.timedelta(days=1)))


async def lock_with_roles(session: AsyncSession, user_id: int) -> None:
    """Re-read the account and its roles under its row lock (FOR NO KEY UPDATE)."""
    await session.execute(
        select(User)
        .options(selectinload(User.roles))
        .where(User.id == user_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


async def locales_of(session: AsyncSession, user_ids: Iterable[int]) -> list[tuple[int, str | None]]:
    rows = await session.execute(select(User.id, User.locale).where(User.id.in_(user_ids)))
    return [(user_id, locale) for user_id, locale in rows]


async def forget_failures(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginFailure).where(LoginFailure.key == key))


async def rate_events_since(session: AsyncSession, key: str, since: dt.datetime) -> int:
    return (
        await session.execute(
            select(func.count()).select_from(RateEvent).where(RateEvent.key == key, RateEvent.at >= since)
        )
    ).scalar_one()


async def admin_counts(
    session: AsyncSession, principal: Principal
) -> tuple[dict[Role, int], int, list[tuple[int, str, int]]]:
    """Active users per role, active users, and (centre id, name, active users) per centre."""
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
    return per_role, active, [(i, n, int(c)) for i, n, c in rows.all()]


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


async def display_names(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Users by id as people read them (their name; the caller falls back to the email)."""
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.full_name).where(User.id.in_(ids)))
    return {row_id: str(value) for row_id, value in rows}


async def centre_names(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Centres by id, by their names."""
    if not ids:
        return {}
    rows = await session.execute(select(Centre.id, Centre.name).where(Centre.id.in_(ids)))
    return {row_id: str(value) for row_id, value in rows}
