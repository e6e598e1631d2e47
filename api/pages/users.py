"""Pages for administrators: accounts (find, open, enable/disable, roles, lockouts, password links).

The rules are the service's (``core.identity.accounts``): the same separation of duties as
the API answers, every change audited. A one-time link is shown once, in the answer to the
action that made it, and never again.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.deps import AdminUser, IdPath, Pagination, SessionDep, SettingsDep, check_csrf
from api.pages.forms import domain_errors, form_values, parse, read_form, submit_form
from api.routing import Router
from api.web import register_nav, render
from composition.names import audit_names
from core.errors import DomainError, NotFound
from core.fields import RequestModel
from core.i18n import N_, _
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.accounts import service as accounts
from core.identity.accounts.repository import UserFilters
from core.identity.models import ROLE_LABELS, OneTimeLink, Role, User
from core.identity.principal import Principal
from core.identity.schemas import AccountCreate
from core.settings import Settings

router = Router(include_in_schema=False)

register_nav("/users", N_("User management"), {Role.admin})

MESSAGES = {
    "enabled": N_("The account is enabled."),
    "disabled": N_("The account is disabled; its sessions have ended."),
    "roles": N_("The roles are changed."),
    "unlocked": N_("The account is unlocked; its owner may log in again."),
}


class UserFilterForm(RequestModel):
    q: str | None = None
    centre_id: int | None = None
    role: Role | None = None
    status: str | None = None

    def to_filters(self) -> UserFilters:
        active = {"active": True, "disabled": False}.get(self.status or "")
        return UserFilters(q=self.q, centre_id=self.centre_id, role=self.role, active=active)


def _role_options() -> list[tuple[str, str]]:
    return [(r.value, _(ROLE_LABELS[r])) for r in Role]


async def _centre_options(session: SessionDep, principal: Principal) -> list[tuple[str, str]]:
    centres = await identity_queries.list_centres(session)
    return [(str(c.id), c.name) for c in centres if principal.sees_all_centres or c.id == principal.centre_id]


def _link_url(settings: Settings, raw: str) -> str:
    return f"{settings.base_url.rstrip('/')}/password-reset/{raw}"


@router.get("/users")
async def user_list(
    request: Request, session: SessionDep, settings: SettingsDep, admin: AdminUser, pagination: Pagination
) -> Response:
    values = form_values(request.query_params)  # type: ignore[arg-type]
    values.pop("page", None)
    form, errors = parse(UserFilterForm, values)
    filters = form.to_filters() if form else UserFilters()
    page = await accounts.search_users(session, admin, filters, pagination)
    locked = await accounts.lockouts(session, settings, admin)
    query = "&".join(f"{k}={v}" for k, v in values.items())
    return render(
        request,
        "web/users/list.html",
        {
            "page": page,
            "values": values,
            "errors": errors,
            "query": query,
            "locked": locked,
            "locked_ids": {lock.user.id for lock in locked},
            "roles": _role_options(),
            "centres": await _centre_options(session, admin),
            "statuses": [("active", _("Active")), ("disabled", _("Disabled"))],
            "flash": _(MESSAGES[m]) if (m := request.query_params.get("msg")) in MESSAGES else None,
        },
    )


def _new_context(
    values: dict[str, Any], errors: dict[str, str], centres: list[tuple[str, str]]
) -> dict[str, Any]:
    return {"values": values, "errors": errors, "roles": _role_options(), "centres": centres}


@router.get("/users/new")
async def new_user(request: Request, session: SessionDep, admin: AdminUser) -> Response:
    centres = await _centre_options(session, admin)
    values: dict[str, Any] = {"roles": [], "centre_id": centres[0][0] if len(centres) == 1 else ""}
    return render(request, "web/users/new.html", _new_context(values, {}, centres))


@router.post("/users/new")
async def create_user(
    request: Request, session: SessionDep, settings: SettingsDep, admin: AdminUser
) -> Response:
    await check_csrf(request, settings)
    values = form_values(await read_form(request), lists=("roles",))

    async def created(data: AccountCreate) -> Response:
        user, link, raw = await accounts.create_account(session, admin, data)
        return await _user_page(request, session, settings, admin, user.id, created=True, link=link, raw=raw)

    async def again(errors: dict[str, str], status_code: int) -> Response:
        centres = await _centre_options(session, admin)
        return render(
            request, "web/users/new.html", _new_context(values, errors, centres), status_code=status_code
        )

    return await submit_form(parse(AccountCreate, values), created, again)


async def _user_page(
    request: Request,
    session: SessionDep,
    settings: Settings,
    admin: Principal,
    user_id: int,
    *,
    errors: dict[str, str] | None = None,
    wanted_roles: list[str] | None = None,
    created: bool = False,
    link: OneTimeLink | None = None,
    raw: str | None = None,
    status_code: int = 200,
) -> Response:
    user: User = await accounts.get_user(session, admin, user_id)
    locked = {lock.user.id: lock for lock in await accounts.lockouts(session, settings, admin)}
    self_reason = _("You cannot change your own roles; ask another administrator")
    is_self = user.id == admin.user_id
    centre = await identity.get_centre(session, user.centre_id) if user.centre_id else None
    events = await accounts.history(session, admin, user.id)
    return render(
        request,
        "web/users/user.html",
        {
            "user": user,
            "centre": centre,
            "is_self": is_self,
            "self_reason": self_reason,
            "active_reason": _("You cannot deactivate or reactivate your own account"),
            "reset_reason": _("Reset your own password through another administrator"),
            "lock": locked.get(user.id),
            "roles": _role_options(),
            "held": wanted_roles if wanted_roles is not None else [r.value for r in sorted(user.role_set)],
            "errors": errors or {},
            "created": created,
            "link": link,
            "link_url": _link_url(settings, raw) if raw else None,
            "events": events,
            "names": await audit_names(session, events),
            "flash": _(MESSAGES[m]) if (m := request.query_params.get("msg")) in MESSAGES else None,
        },
        status_code=status_code,
    )


@router.get("/users/{user_id:int}")
async def user_page(
    request: Request, user_id: IdPath, session: SessionDep, settings: SettingsDep, admin: AdminUser
) -> Response:
    return await _user_page(request, session, settings, admin, user_id)


@router.post("/users/{user_id:int}/roles")
async def change_roles(
    request: Request, user_id: IdPath, session: SessionDep, settings: SettingsDep, admin: AdminUser
) -> Response:
    await check_csrf(request, settings)
    values = form_values(await read_form(request), lists=("roles",))
    wanted = values.get("roles", [])
    try:
        roles = [Role(r) for r in wanted]
        await accounts.change_roles(session, admin, user_id, roles)
    except ValueError:
        errors = {"roles": _("Choose roles from the list")}
    except DomainError as exc:
        if exc.status_code not in (403, 422):
            raise
        errors = domain_errors(exc)
        errors = {"roles": errors.get("roles") or errors.get("__all__") or exc.message}
    else:
        return RedirectResponse(f"/users/{user_id}?msg=roles", status_code=303)
    return await _user_page(
        request, session, settings, admin, user_id, errors=errors, wanted_roles=wanted, status_code=422
    )


@router.post("/users/{user_id:int}/{action}")
async def user_action(
    request: Request,
    user_id: IdPath,
    action: str,
    session: SessionDep,
    settings: SettingsDep,
    admin: AdminUser,
) -> Response:
    await check_csrf(request, settings)
    try:
        if action == "enable":
            await accounts.set_active(session, admin, user_id, True)
            return RedirectResponse(f"/users/{user_id}?msg=enabled", status_code=303)
        if action == "disable":
            await accounts.set_active(session, admin, user_id, False)
            return RedirectResponse(f"/users/{user_id}?msg=disabled", status_code=303)
        if action == "unlock":
            await accounts.unlock(session, admin, user_id)
            return RedirectResponse(f"/users/{user_id}?msg=unlocked", status_code=303)
        if action == "reset-link":
            link, raw = await accounts.issue_reset_link(session, admin, user_id)
            return await _user_page(request, session, settings, admin, user_id, link=link, raw=raw)
    except DomainError as exc:
        if exc.status_code not in (403, 409):
            raise
        return await _user_page(
            request,
            session,
            settings,
            admin,
            user_id,
            errors={"__all__": exc.message},
            status_code=exc.status_code,
        )
    raise NotFound(_("Page not found"))
