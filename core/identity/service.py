"""Accounts, login with throttling, tokens and sessions."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utcnow
from core.errors import (
    Forbidden,
    LoginRefusedBase,
    NotFound,
    TooManyRequests,
    ValidationFailed,
)
from core.i18n import DEFAULT_LOCALE, _, use_locale
from core.identity import repository as queries
from core.identity.models import AuthToken, Centre, LoginFailure, RateEvent, Role, TokenKind, User, UserRole
from core.identity.principal import Principal
from core.identity.repository import recent_failures, revoke_all_tokens
from core.identity.schemas import CentreCreate, UserCreate, UserUpdate
from core.notifications import remind
from core.reminders import users_with_role
from core.security import hash_password, needs_rehash, new_token, verify_password
from core.settings import Settings


def principal_of(user: User) -> Principal:
    centre_loaded = "centre" not in inspect(user).unloaded
    return Principal(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        centre_id=user.centre_id,
        is_district=user.is_district,
        roles=user.role_set,
        locale=user.locale,
        centre_name=user.centre.name if centre_loaded and user.centre is not None else None,
        community_id=user.community_id,
    )


# --- centres -----------------------------------------------------------------------------


async def get_centre(session: AsyncSession, centre_id: int) -> Centre:
    centre = await session.get(Centre, centre_id)
    if centre is None:
        raise NotFound(_("Centre not found"))
    return centre


async def create_centre(session: AsyncSession, data: CentreCreate, *, actor: Principal | None) -> Centre:
    if await queries.get_centre_by_slug(session, data.slug) is not None:
        raise ValidationFailed.field("slug", _("A centre with this short name already exists"))
    centre = Centre(**data.model_dump())
    session.add(centre)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="centre.create",
        subject_type="centre",
        subject_id=centre.id,
        centre_id=centre.id,
        after=data.model_dump(),
    )
    return centre


# --- users -------------------------------------------------------------------------------


async def create_user(session: AsyncSession, data: UserCreate, *, actor: Principal | None) -> User:
    email = data.email.strip().lower()
    roles = sorted(set(data.roles))
    check_roles_apart(roles)
    if await queries.get_user_by_email(session, email) is not None:
        raise ValidationFailed.field("email", _("An account with this email already exists"))
    if data.centre_id is None and not data.is_district:
        raise ValidationFailed.field("centre_id", _("A user belongs to a centre unless district-level"))
    if data.centre_id is not None:
        await get_centre(session, data.centre_id)
    check_station_community(roles, data.community_id, data.centre_id)
    user = User(
        email=email,
        full_name=data.full_name,
        password_hash=hash_password(data.password),
        centre_id=data.centre_id,
        community_id=data.community_id,
        is_district=data.is_district,
        locale=data.locale,
        roles=[UserRole(role=role) for role in roles],
    )
    session.add(user)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="user.create",
        subject_type="user",
        subject_id=user.id,
        centre_id=user.centre_id,
        after={"email": email, "roles": roles, "is_district": data.is_district},
    )
    await _record_finance_grant(session, user, before=[], after=roles, actor=actor)
    return user


async def update_user(session: AsyncSession, user: User, data: UserUpdate, *, actor: Principal) -> User:
    """Change another person's account; one's own roles and active flag are not one's to change."""
    if data.roles is not None:
        # The roles are read under the account's row lock: two administrators changing the
        # same account at once are checked one after the other, never both against the old roles.
        # (FOR NO KEY UPDATE: rows that merely reference the account are not held up.)
        await queries.lock_with_roles(session, user.id)
    allowed, reason = may_change_access(actor, user, data)
    if not allowed:
        raise Forbidden(reason)
    if data.roles is not None:
        check_roles_apart(data.roles)
    if data.roles is not None or "community_id" in data.model_fields_set:
        community_id = data.community_id if "community_id" in data.model_fields_set else user.community_id
        check_station_community(
            data.roles if data.roles is not None else user.role_set, community_id, user.centre_id
        )
        user.community_id = community_id
    before_roles = sorted(user.role_set)
    before = {"full_name": user.full_name, "roles": before_roles, "is_active": user.is_active}
    if data.full_name is not None:
        user.full_name = data.full_name
    if data.locale is not None:
        user.locale = data.locale
    if data.is_active is not None:
        user.is_active = data.is_active
        if not data.is_active:
            await revoke_all_tokens(session, user.id)
    if data.roles is not None:
        wanted = set(data.roles)
        # Removed roles go first: the database refuses admin beside finance or staff at every
        # statement, so a change from admin to finance must never hold both for a moment.
        user.roles[:] = [r for r in user.roles if r.role in wanted]
        await session.flush()
        user.roles.extend(UserRole(role=role) for role in sorted(wanted - user.role_set))
    await session.flush()
    after_roles = sorted(user.role_set)
    await audit.record(
        session,
        actor=actor,
        action="user.update",
        subject_type="user",
        subject_id=user.id,
        centre_id=user.centre_id,
        before=before,
        after={"full_name": user.full_name, "roles": after_roles, "is_active": user.is_active},
    )
    await _record_finance_grant(session, user, before=before_roles, after=after_roles, actor=actor)
    return user


# --- separation of duties -------------------------------------------------------------------

ADMIN_APART = frozenset({Role.finance, Role.staff})
"""Roles an administrator never holds: an admin sees everything and changes no money."""


def check_roles_apart(roles: Iterable[Role]) -> None:
    held = set(roles)
    if Role.admin in held and held & ADMIN_APART:
        raise ValidationFailed.field(
            "roles",
            _("An administrator cannot also be a finance officer or centre staff; use separate accounts"),
        )


def check_station_community(roles: Iterable[Role], community_id: int | None, centre_id: int | None) -> None:
    """A station officer works in exactly one community of their centre; nobody else has one."""
    held = set(roles)
    if Role.station in held and (community_id is None or centre_id is None):
        raise ValidationFailed.field("community_id", _("A station officer needs the community they work in"))
    if Role.station not in held and community_id is not None:
        raise ValidationFailed.field("community_id", _("Only a station officer is limited to one community"))


def may_change_access(actor: Principal, user: User, data: UserUpdate) -> tuple[bool, str]:
    """Nobody changes their own roles or active flag: what one may do is decided by another."""
    if user.id != actor.user_id:
        return True, ""
    if data.roles is not None and set(data.roles) != user.role_set:
        return False, _("You cannot change your own roles; ask another administrator")
    if data.is_active is not None and data.is_active != user.is_active:
        return False, _("You cannot deactivate or reactivate your own account")
    return True, ""


async def _record_finance_grant(
    session: AsyncSession, user: User, *, before: list[Role], after: list[Role], actor: Principal | None
) -> None:
    """Granting ``finance`` is an admin power worth watching: it is audited on its own and the
    centre's other finance officers and its administrators are told who gave it to whom."""
    if Role.finance in before or Role.finance not in after:
        return
    await audit.record(
        session,
        actor=actor,
        action="user.grant_finance",
        subject_type="user",
        subject_id=user.id,
        centre_id=user.centre_id,
        before={"roles": before},
        after={"roles": after, "email": user.email},
    )
    if user.centre_id is None:
        return
    watchers = set(await users_with_role(session, user.centre_id, Role.finance))
    watchers |= set(await users_with_role(session, user.centre_id, Role.admin))
    watchers -= {user.id, actor.user_id if actor else None}
    if not watchers:
        return
    rows = await queries.locales_of(session, watchers)
    by_locale: dict[str, list[int]] = defaultdict(list)
    for user_id, locale in rows:
        by_locale[locale or DEFAULT_LOCALE].append(user_id)
    grantee = user.full_name or user.email
    for locale, ids in sorted(by_locale.items()):
        with use_locale(locale):
            granter = (actor.full_name or actor.email) if actor else _("the command line on the server")
            await remind(
                session,
                ids,
                "user.grant_finance",
                _("{grantee} is now a finance officer").format(grantee=grantee),
                _("{granter} gave {grantee} ({email}) the finance officer role.").format(
                    granter=granter, grantee=grantee, email=user.email
                ),
            )


# --- login, throttling, tokens ------------------------------------------------------------


class LoginRefused(LoginRefusedBase):
    """Wrong credentials. The failure row it flushed is kept: the edge commits it."""

    status_code = 401
    code = "not_authenticated"


class LoginThrottled(LoginRefusedBase, TooManyRequests):
    status_code = 429
    code = "too_many_requests"


async def authenticate(
    session: AsyncSession, settings: Settings, email: str, password: str, client_address: str
) -> User:
    """Check a password login, throttled per account and per client address.

    Failures are written and kept even though the answer is an error, so that repeated
    guesses are counted across requests and replicas.
    """
    email_key = f"account:{email.strip().lower()[:254]}"
    address_key = f"address:{client_address[:64]}"
    since = utcnow() - dt.timedelta(minutes=settings.login_window_minutes)
    retry = settings.login_window_minutes * 60
    if await recent_failures(session, email_key, since) >= settings.login_max_failures_per_account:
        raise LoginThrottled(_("Too many failed logins for this account; try again later"), retry_after=retry)
    if await recent_failures(session, address_key, since) >= settings.login_max_failures_per_address:
        raise LoginThrottled(
            _("Too many failed logins from this address; try again later"), retry_after=retry
        )
    user = await queries.get_user_by_email(session, email)
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        session.add_all([LoginFailure(key=email_key), LoginFailure(key=address_key)])
        await session.flush()
        raise LoginRefused(_("Wrong email or password"))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    await queries.forget_failures(session, email_key)
    return user


async def issue_token(session: AsyncSession, user: User, kind: TokenKind, minutes: int) -> str:
    raw, digest = new_token()
    session.add(
        AuthToken(
            user_id=user.id,
            kind=kind,
            token_hash=digest,
            expires_at=utcnow() + dt.timedelta(minutes=minutes),
        )
    )
    await session.flush()
    return raw


async def rate_limit(session: AsyncSession, key: str, *, limit: int, window_seconds: int) -> None:
    """Count an anonymous action; refuse once ``limit`` were made within the window."""
    since = utcnow() - dt.timedelta(seconds=window_seconds)
    count = await queries.rate_events_since(session, key, since)
    if count >= limit:
        raise TooManyRequests(_("Too many requests; try again later"), retry_after=window_seconds)
    session.add(RateEvent(key=key))
    await session.flush()


def require_writer(principal: Principal) -> None:
    if principal.read_only:
        raise Forbidden(_("District-level accounts are read-only"))


def role_names(principal: Principal) -> list[str]:
    return sorted(principal.roles)


__all__ = [
    "LoginRefused",
    "LoginThrottled",
    "Role",
    "authenticate",
    "create_centre",
    "create_user",
    "issue_token",
    "principal_of",
]
