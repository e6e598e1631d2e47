"""Request-scoped dependencies: the session (committed at the edge), the principal, roles."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.routing import is_reading
from core.errors import DomainError, Forbidden, NotAuthenticated
from core.i18n import _, negotiate, set_locale
from core.identity import repository as identity_queries
from core.identity.models import Role, TokenKind
from core.identity.principal import Principal
from core.repository import MAX_PAGE_SIZE, PageParams
from core.security import csrf_token_valid, token_digest
from core.settings import Settings

SESSION_COOKIE = "seedbed_session"
CSRF_COOKIE = "seedbed_csrf"
PRESESSION_COOKIE = "seedbed_presession"
LANG_COOKIE = "seedbed_lang"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# Dependencies are ``async def`` even when they do not await: FastAPI runs a plain ``def``
# dependency in its thread pool, a thread hop on every request.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: services flush, this commits once or rolls back.

    Declared with ``scope="function"`` (``SessionDep``): FastAPI then leaves this block as
    soon as the endpoint has produced its response and *before* the response is sent, so a
    client is answered only after the commit, and a commit that fails (a deferred
    constraint, the audit seal, a lost connection, a compare-and-set that lost its race)
    raises into the error handlers and is answered as an error, never as a 2xx. With the
    default request scope the commit would run after the answer had left.

    An endpoint marked ``reads_only`` gets a ``ReadingSession`` instead: no BEGIN and no
    COMMIT on PostgreSQL (two round trips), and any write refused.
    """
    factory: async_sessionmaker[AsyncSession] = (
        request.app.state.reading_sessionmaker
        if is_reading(request.scope)
        else request.app.state.sessionmaker
    )
    async with factory() as session, transaction_of(session):
        yield session


@asynccontextmanager
async def transaction_of(session: AsyncSession) -> AsyncIterator[None]:
    """Commit when the block succeeds; roll back when it raises, except that a domain error
    marked ``keep_changes`` (a counted login failure) commits what was flushed first."""
    try:
        yield
    except DomainError as exc:
        if exc.keep_changes:
            await session.commit()
        else:
            await session.rollback()
        raise
    except BaseException:
        await session.rollback()
        raise
    else:
        await session.commit()


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _csrf_from_request(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def session_binding(session_token: str) -> str:
    return "session:" + token_digest(session_token)


def csrf_binding(request: Request) -> str | None:
    """What a CSRF token is bound to: the session cookie the browser holds, else its
    pre-session cookie (anonymous forms: login, sign-up, public forms). None when neither.

    A token minted for one session is refused with another session's cookie.
    """
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return session_binding(session_token)
    presession = request.cookies.get(PRESESSION_COOKIE) or getattr(request.state, "new_presession", None)
    return "anonymous:" + token_digest(presession) if presession else None


async def check_csrf(request: Request, settings: Settings) -> None:
    """The form field (or header) equals the CSRF cookie and is signed for this session."""
    cookie = request.cookies.get(CSRF_COOKIE)
    submitted = await _csrf_from_request(request)
    binding = csrf_binding(request)
    if not (
        binding
        and cookie
        and submitted
        and hmac.compare_digest(submitted.encode(), cookie.encode())
        and csrf_token_valid(settings.secret_key, cookie, binding)
    ):
        raise Forbidden(
            _("The form has expired or did not come from this site; reload the page and try again")
        )


async def optional_principal(
    request: Request, session: SessionDep, settings: SettingsDep
) -> Principal | None:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    authorization = request.headers.get("authorization", "")
    principal = None
    if authorization.lower().startswith("bearer "):
        principal = await identity_queries.principal_for_token(
            session, authorization[7:].strip(), TokenKind.api
        )
        if principal is None:
            raise NotAuthenticated(_("The access token is invalid, expired or revoked"))
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            principal = await identity_queries.principal_for_token(session, cookie, TokenKind.session)
            if principal is not None and request.method in UNSAFE_METHODS:
                await check_csrf(request, settings)
    if principal is None:
        return None
    request.state.principal = principal
    set_locale(
        negotiate(
            request.headers.get("accept-language"), principal.locale or request.cookies.get(LANG_COOKIE)
        )
    )
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


async def current_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        raise NotAuthenticated(_("Please log in"))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has(*roles):
            raise Forbidden(_("Your role does not allow this"))
        return principal

    dependency.__name__ = "require_" + "_or_".join(roles)
    return dependency


async def money_reader(principal: CurrentPrincipal) -> Principal:
    """Who may read the money: centre staff, finance, admins, and the district's read-only users."""
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        raise Forbidden(_("Your role does not allow this"))
    return principal


StaffUser = Annotated[Principal, Depends(require_roles(Role.staff))]
CentreStaff = StaffUser
"""The centre's staff: they run programmes, request disbursements, decide."""
MoneyReader = Annotated[Principal, Depends(money_reader)]
StaffOrAdmin = Annotated[Principal, Depends(require_roles(Role.staff, Role.admin))]
StaffOrStation = Annotated[Principal, Depends(require_roles(Role.staff, Role.station))]
StaffAdminOrStation = Annotated[Principal, Depends(require_roles(Role.staff, Role.admin, Role.station))]
FinanceOfficer = Annotated[Principal, Depends(require_roles(Role.finance))]
EvaluatorUser = Annotated[Principal, Depends(require_roles(Role.evaluator))]
ApplicantUser = Annotated[Principal, Depends(require_roles(Role.applicant))]
AdminUser = Annotated[Principal, Depends(require_roles(Role.admin))]


async def page_params(
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> PageParams:
    return PageParams(page=page, page_size=page_size)


Pagination = Annotated[PageParams, Depends(page_params)]

MAX_ID = 2_147_483_647
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]


@asynccontextmanager
async def counted_attempt(session: AsyncSession) -> AsyncIterator[None]:
    """Keep what was written before this block (a rate-limit count) even if the block fails.

    The block's own writes are rolled back to a savepoint; the error still reaches the
    user, and the edge commits the count.
    """
    savepoint = await session.begin_nested()
    try:
        yield
    except DomainError as exc:
        await savepoint.rollback()
        exc.keep_changes = True
        raise
    else:
        await savepoint.commit()
