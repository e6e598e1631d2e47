"""Login, logout, language switch and the per-role dashboard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    CurrentPrincipal,
    OptionalPrincipal,
    SessionDep,
    SettingsDep,
    check_csrf,
    client_address,
)
from api.pages.forms import domain_errors
from api.pages.todo import district_panel, todo_panel
from api.routing import Router
from api.web import render, rotate_csrf_for_session, safe_next
from composition.names import audit_names
from core.errors import LoginRefusedBase, TooManyRequests, ValidationFailed
from core.i18n import N_, SUPPORTED, _, set_locale
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.accounts import service as accounts
from core.identity.models import Role, TokenKind, User
from core.identity.principal import Principal
from core.notifications import send_quietly
from core.repository import audit as audit_queries
from core.settings import Settings

router = Router(include_in_schema=False)

LOGIN_MESSAGES = {
    "signup": N_("Your organisation is registered; centre staff will verify it. You can log in now."),
    "joined": N_("You have joined the organisation; log in to continue."),
    "password": N_("Your new password is set. Log in with it."),
}

DashboardPanel = Callable[[AsyncSession, Principal], Awaitable[dict[str, Any] | None]]
DASHBOARD_PANELS: list[DashboardPanel] = []


def register_dashboard_panel(panel: DashboardPanel) -> None:
    DASHBOARD_PANELS.append(panel)


def _safe_next(target: str | None) -> str:
    return safe_next(target)


@router.get("/")
async def home(principal: OptionalPrincipal) -> Response:
    return RedirectResponse("/dashboard" if principal else "/login", status_code=303)


@router.get("/login")
async def login_page(request: Request, principal: OptionalPrincipal, next: str | None = None) -> Response:
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    flash = LOGIN_MESSAGES.get(request.query_params.get("msg", ""))
    return render(
        request,
        "web/login.html",
        {"next": _safe_next(next), "email": "", "flash": _(flash) if flash else None},
    )


@router.post("/login")
async def login_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=500)] = "/dashboard",
) -> Response:
    await check_csrf(request, settings)
    try:
        user = await identity.authenticate(session, settings, email, password, client_address(request))
    except LoginRefusedBase as exc:
        # The failure row is committed by the session dependency (no exception escapes).
        return render(
            request,
            "web/login.html",
            {"next": _safe_next(next), "email": email, "error": exc.message},
            status_code=exc.status_code,
        )
    return await start_session(request, session, settings, user, _safe_next(next))


async def start_session(
    request: Request, session: AsyncSession, settings: Settings, user: User, target: str
) -> Response:
    """Log the user in on this browser and send them to ``target`` (a path of this site)."""
    token = await identity.issue_token(session, user, TokenKind.session, settings.session_minutes)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    rotate_csrf_for_session(request, response, token)
    if user.locale:
        response.set_cookie(
            LANG_COOKIE, user.locale, samesite="lax", secure=settings.secure_cookies, path="/"
        )
    return response


# --- 忘记密码: a one-time link, from an administrator or (with email configured) by email ---------


@router.get("/password-reset")
async def forgot_password(request: Request, settings: SettingsDep) -> Response:
    return render(
        request,
        "web/password/forgot.html",
        {"email_configured": bool(settings.smtp_host), "sent": False, "email": ""},
    )


@router.post("/password-reset")
async def forgot_password_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    """The same answer whether or not the account exists; the email leaves after the commit."""
    await check_csrf(request, settings)
    try:
        mail = await accounts.request_reset_by_email(session, settings, email, client_address(request))
    except TooManyRequests as exc:
        return render(
            request,
            "web/password/forgot.html",
            {
                "email_configured": bool(settings.smtp_host),
                "sent": False,
                "email": email,
                "error": exc.message,
            },
            status_code=429,
        )
    if mail is not None:
        background.add_task(send_quietly, settings, mail.to, mail.subject, mail.body)
    return render(
        request,
        "web/password/forgot.html",
        {"email_configured": bool(settings.smtp_host), "sent": True, "email": ""},
    )


@router.get("/password-reset/{token}")
async def reset_page(request: Request, token: str, session: SessionDep) -> Response:
    _link, user = await accounts.link_for(session, token[:128])
    return render(request, "web/password/reset.html", {"user": user, "errors": {}})


@router.post("/password-reset/{token}")
async def reset_submit(
    request: Request,
    token: str,
    session: SessionDep,
    settings: SettingsDep,
    password: Annotated[str, Form(max_length=200)] = "",
    confirm: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    await check_csrf(request, settings)
    _link, user = await accounts.link_for(session, token[:128])
    try:
        await accounts.reset_password(session, token[:128], password, confirm)
    except ValidationFailed as exc:
        return render(
            request, "web/password/reset.html", {"user": user, "errors": domain_errors(exc)}, status_code=422
        )
    return RedirectResponse("/login?msg=password", status_code=303)


@router.post("/logout")
async def logout(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    raw = request.cookies.get(SESSION_COOKIE, "")
    await identity_queries.revoke_token(session, raw)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/lang")
async def switch_language(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: OptionalPrincipal,
    lang: Annotated[str, Form(max_length=8)] = "zh",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    if principal is None:
        await check_csrf(request, settings)
    chosen = lang if lang in SUPPORTED else "zh"
    if principal is not None:
        await identity_queries.set_locale(session, principal.user_id, chosen)
    set_locale(chosen)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        LANG_COOKIE, chosen, max_age=365 * 86400, samesite="lax", secure=settings.secure_cookies, path="/"
    )
    return response


async def _recent_activity(session: AsyncSession, principal: Principal) -> dict[str, Any] | None:
    if not principal.has(Role.staff, Role.admin):
        return None
    events = await audit_queries.recent_events(session, principal, limit=10)
    return {
        "template": "web/panels/activity.html",
        "events": events,
        "names": await audit_names(session, events),
    }


@router.get("/dashboard")
async def dashboard(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """The to-do list first (or, for a district reader, the centres side by side), then each
    role's panel, then the audit feed."""
    centre = await identity.get_centre(session, principal.centre_id) if principal.centre_id else None
    panels = []
    for panel in (todo_panel, district_panel, *DASHBOARD_PANELS, _recent_activity):
        result = await panel(session, principal)
        if result is not None:
            panels.append(result)
    return render(request, "web/dashboard.html", {"centre": centre, "panels": panels})
