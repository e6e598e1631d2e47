"""Request-scoped dependencies: the session (committed at the edge), the principal, roles."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.routing import REQUEST_SESSION, RequestSession, is_reading
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


async def new_request_session(request: Request) -> AsyncSession:
    """A request's session (``app.state.request_session``): one transaction, or a
    ``ReadingSession`` for an endpoint marked ``reads_only`` (no BEGIN and no COMMIT on
    PostgreSQL, two round trips saved, and any write refused)."""
    factory: async_sessionmaker[AsyncSession] = (
        request.app.state.reading_sessionmaker
        if is_reading(request.scope)
        else request.app.state.sessionmaker
    )
    return factory()


async def get_session(request: Request) -> AsyncSession:
    """The request owns the transaction: services flush, its route commits once or rolls
    back before the response is sent (``api.routing.RequestSession``)."""
    held: RequestSession | None = request.scope.get(REQUEST_SESSION)
    if held is None:
        raise RuntimeError("a session was asked for outside a Seedbed route (api.routing.Route)")
    return await held.open(request)


SessionDep = Annotated[AsyncSession, Depends(get_session)]
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


async def _principal_of(request: Request, session: AsyncSession) -> Principal | None:
    """The principal of the request's bearer token or session cookie (a cookie's unsafe
    request must carry its CSRF token), resolved once per request; None when it has neither.
    A token that is invalid, expired or revoked is refused (401)."""
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
                await check_csrf(request, request.app.state.settings)
    if principal is None:
        return None
    request.state.principal = principal
    set_locale(
        negotiate(
            request.headers.get("accept-language"), principal.locale or request.cookies.get(LANG_COOKIE)
        )
    )
    return principal


async def optional_principal(request: Request, session: SessionDep) -> Principal | None:
    return await _principal_of(request, session)


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


async def current_principal(request: Request, session: SessionDep) -> Principal:
    """The signed-in principal, else 401. Resolved here directly rather than through
    ``optional_principal``: each layer of dependencies costs FastAPI a solve per request."""
    principal = await _principal_of(request, session)
    if principal is None:
        raise NotAuthenticated(_("Please log in"))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Callable[[Request, AsyncSession], Coroutine[Any, Any, Principal]]:
    """The signed-in principal holding one of ``roles`` (401 when nobody is signed in, 403
    otherwise), in one dependency rather than one on top of ``current_principal``."""

    async def dependency(request: Request, session: SessionDep) -> Principal:
        principal = await current_principal(request, session)
        if not principal.has(*roles):
            raise Forbidden(_("Your role does not allow this"))
        return principal

    dependency.__name__ = "require_" + "_or_".join(roles)
    return dependency


async def money_reader(request: Request, session: SessionDep) -> Principal:
    """Who may read the money: centre staff, finance, admins, and the district's read-only users."""
    principal = await current_principal(request, session)
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
