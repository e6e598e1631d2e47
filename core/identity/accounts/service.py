"""Account administration: find accounts, enable and disable them, change roles within the
separation of duties, see and lift lockouts, and set passwords through one-time links.

Role and active-flag changes go through ``core.identity.service.update_user``, so the same
rules (nobody changes their own access; an administrator is never finance or staff) answer
here as in the API. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.audit import AuditEvent
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, TooManyRequests, ValidationFailed
from core.i18n import _, use_locale
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.accounts import repository
from core.identity.accounts.repository import UserFilters, UserRepository
from core.identity.models import LinkPurpose, OneTimeLink, Role, User
from core.identity.principal import Principal
from core.identity.schemas import AccountCreate, UserCreate, UserUpdate
from core.repository import Paged, PageParams
from core.security import hash_password, new_token, token_digest
from core.settings import Settings

ADMIN_LINK_HOURS = 72
"""A reset link an administrator hands over (in person, by phone) lives three days."""
EMAIL_LINK_MINUTES = 60
"""A link sent by email to whoever asked on the login page lives an hour."""
EMAILS_PER_ACCOUNT_PER_HOUR = 3
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Lockout:
    user: User
    failures: int
    last_failure: dt.datetime
    until: dt.datetime


@dataclass(frozen=True)
class Mail:
    """A message to send once the transaction that made it has committed."""

    to: str
    subject: str
    body: str


def require_admin(principal: Principal) -> None:
    identity.require_writer(principal)
    if not principal.has(Role.admin):
        raise Forbidden(_("Only an administrator may do this"))


async def search_users(
    session: AsyncSession, principal: Principal, filters: UserFilters, params: PageParams
) -> Paged[User]:
    require_admin(principal)
    return await UserRepository(session, principal).page(filters, params)


async def get_user(session: AsyncSession, principal: Principal, user_id: int) -> User:
    """An account the administrator may manage; one outside their reach is not found."""
    require_admin(principal)
    user = await UserRepository(session, principal).by_id(user_id)
    if user is None:
        raise NotFound(_("User not found"))
    return user


async def set_active(session: AsyncSession, principal: Principal, user_id: int, active: bool) -> User:
    user = await get_user(session, principal, user_id)
    return await identity.update_user(session, user, UserUpdate(is_active=active), actor=principal)


async def change_roles(session: AsyncSession, principal: Principal, user_id: int, roles: list[Role]) -> User:
    """The API's rules: refused for oneself, refused for admin beside finance or staff."""
    user = await get_user(session, principal, user_id)
    if not roles:
        raise ValidationFailed.field("roles", _("Choose at least one role"))
    return await identity.update_user(session, user, UserUpdate(roles=roles), actor=principal)


def role_change_allowed(principal: Principal, user: User, roles: set[Role]) -> tuple[bool, str]:
    """(allowed, reason) for a role change, the reason being what the service would answer."""
    allowed, reason = identity.may_change_access(principal, user, UserUpdate(roles=sorted(roles)))
    if not allowed:
        return allowed, reason
    try:
        identity.check_roles_apart(roles)
    except ValidationFailed as exc:
        return False, exc.details[0].message if exc.details else exc.message
    return True, ""


# --- lockouts -----------------------------------------------------------------------------


async def lockouts(session: AsyncSession, settings: Settings, principal: Principal) -> list[Lockout]:
    """Accounts that the per-account login throttle refuses right now, newest failure first."""
    require_admin(principal)
    window = dt.timedelta(minutes=settings.login_window_minutes)
    failing = await repository.failing_accounts(
        session, utcnow() - window, settings.login_max_failures_per_account
    )
    users = await UserRepository(session, principal).by_emails(sorted(failing))
    found = [
        Lockout(
            user=u,
            failures=failing[u.email][0],
            last_failure=failing[u.email][1],
            until=failing[u.email][1] + window,
        )
        for u in users
    ]
    return sorted(found, key=lambda lock: lock.last_failure, reverse=True)


async def unlock(session: AsyncSession, principal: Principal, user_id: int) -> User:
    user = await get_user(session, principal, user_id)
    cleared = await repository.clear_failures(session, user.email)
    if cleared == 0:
        raise Conflict(_("This account is not locked"))
    await audit.record(
        session,
        actor=principal,
        action="user.unlock",
        subject_type="user",
        subject_id=user.id,
        centre_id=user.centre_id,
        before={"failed_logins": cleared},
        after={"failed_logins": 0},
    )
    return user


# --- one-time password links ----------------------------------------------------------------


async def _issue(
    session: AsyncSession, user: User, *, issued_by: Principal | None, lifetime: dt.timedelta
) -> tuple[OneTimeLink, str]:
    now = utcnow()
    await repository.retire_links(session, user.id, LinkPurpose.password_reset, now)
    raw, digest = new_token()
    link = await repository.add_link(
        session,
        OneTimeLink(
            user_id=user.id,
            purpose=LinkPurpose.password_reset,
            token_hash=digest,
            issued_by=issued_by.user_id if issued_by else None,
            created_at=now,
            expires_at=now + lifetime,
        ),
    )
    return link, raw


async def issue_reset_link(
    session: AsyncSession, principal: Principal, user_id: int
) -> tuple[OneTimeLink, str]:
    """An administrator makes a one-time link for someone who forgot their password.

    The raw token is answered once and stored only hashed; issuing a new link retires the
    account's earlier ones.
    """
    user = await get_user(session, principal, user_id)
    if user.id == principal.user_id:
        raise Forbidden(_("Reset your own password through another administrator"))
    if not user.is_active:
        raise Conflict(_("This account is disabled; enable it first"))
    link, raw = await _issue(
        session, user, issued_by=principal, lifetime=dt.timedelta(hours=ADMIN_LINK_HOURS)
    )
    await audit.record(
        session,
        actor=principal,
        action="user.reset_link",
        subject_type="user",
        subject_id=user.id,
        centre_id=user.centre_id,
        after={"expires_at": link.expires_at.isoformat()},
    )
    return link, raw


async def request_reset_by_email(
    session: AsyncSession, settings: Settings, email: str, client_address: str
) -> Mail | None:
    """The login page's 忘记密码 with email configured: a link goes to the account's address.

    Whatever happens the caller answers the same words, so nobody learns whether an account
    exists. Requests are limited per client address (an error names no account) and, silently,
    per account, so a stranger cannot flood someone's inbox.
    """
    await identity.rate_limit(session, f"password-reset:{client_address[:64]}", limit=10, window_seconds=3600)
    if not settings.smtp_host:
        return None
    user = await identity_queries.get_user_by_email(session, email)
    if user is None or not user.is_active:
        return None
    try:
        await identity.rate_limit(
            session,
            f"password-reset-account:{user.id}",
            limit=EMAILS_PER_ACCOUNT_PER_HOUR,
            window_seconds=3600,
        )
    except TooManyRequests:  # the account's own limit: say nothing different, send nothing more
        return None
    link, raw = await _issue(session, user, issued_by=None, lifetime=dt.timedelta(minutes=EMAIL_LINK_MINUTES))
    await audit.record(
        session,
        actor=None,
        action="user.reset_requested",
        subject_type="user",
        subject_id=user.id,
        centre_id=user.centre_id,
        after={"expires_at": link.expires_at.isoformat()},
    )
    url = f"{settings.base_url.rstrip('/')}/password-reset/{raw}"
    with use_locale(user.locale or "zh"):
        return Mail(
            to=user.email,
            subject=_("Set a new password for Seedbed"),
            body="\n\n".join(
                (
                    _(
                        "Someone asked to set a new password for your Seedbed account. Open this link "
                        "within {minutes} minutes to choose one; it works once:"
                    ).format(minutes=EMAIL_LINK_MINUTES),
                    url,
                    _("If it was not you, ignore this message: your password stays as it is."),
                )
            ),
        )


async def link_for(session: AsyncSession, raw: str) -> tuple[OneTimeLink, User]:
    link = await repository.link_by_hash(session, token_digest(raw[:128]), LinkPurpose.password_reset)
    if link is None:
        raise NotFound(_("This link does not exist; ask for a new one"))
    if link.used_at is not None:
        raise Conflict(_("This link has already been used; ask for a new one"))
    if link.expires_at <= utcnow():
        raise Conflict(_("This link has expired; ask for a new one"))
    user = await identity_queries.get_user(session, link.user_id)
    if user is None or not user.is_active:
        raise NotFound(_("This link does not exist; ask for a new one"))
    return link, user


async def reset_password(session: AsyncSession, raw: str, password: str, confirm: str) -> User:
    """Set the password through a one-time link: the link is spent by a compare-and-set, the
    account's sessions end and its lockout is lifted."""
    link, user = await link_for(session, raw)
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed.field("password", _("At least {n} characters").format(n=MIN_PASSWORD))
    if len(password) > 128:
        raise ValidationFailed.field("password", _("At most {n} characters").format(n=128))
    if password != confirm:
        raise ValidationFailed.field("confirm", _("The two passwords differ"))
    now = utcnow()
    if not await repository.use_link(session, link.id, now):
        raise Conflict(_("This link has already been used; ask for a new one"))
    await repository.set_password_hash(session, user.id, hash_password(password))
    await repository.retire_links(session, user.id, LinkPurpose.password_reset, now)
    await identity_queries.revoke_all_tokens(session, user.id)
    await repository.clear_failures(session, user.email)
    await audit.record(
        session,
        actor=identity.principal_of(user),
        action="user.password_reset",
        subject_type="user",
        subject_id=user.id,
        centre_id=user.centre_id,
        after={"link_id": link.id, "issued_by": link.issued_by},
    )
    return user


async def history(session: AsyncSession, principal: Principal, user_id: int) -> list[AuditEvent]:
    user = await get_user(session, principal, user_id)
    return await repository.user_events(session, user.id)


async def create_account(
    session: AsyncSession, principal: Principal, data: AccountCreate
) -> tuple[User, OneTimeLink, str]:
    """An administrator opens an account; its owner sets the password through a one-time link,
    so no administrator ever knows it."""
    require_admin(principal)
    centre_id = data.centre_id
    if not principal.sees_all_centres:
        centre_id = principal.centre_id
    user = await identity.create_user(
        session,
        UserCreate(
            email=data.email,
            password=secrets.token_urlsafe(24),
            full_name=data.full_name,
            roles=data.roles,
            centre_id=None if data.is_district else centre_id,
            is_district=data.is_district,
        ),
        actor=principal,
    )
    link, raw = await issue_reset_link(session, principal, user.id)
    return user, link, raw
