"""Application pages (the proposal form, the record and its actions), the public publicity
page with its objection form, and staff's objection list."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from api.deps import (
    CurrentPrincipal,
    IdPath,
    OptionalPrincipal,
    SessionDep,
    SettingsDep,
    check_csrf,
)
from api.pages.forms import domain_errors, form_values, parse, read_form
from api.pages.grant_pages import flash, grant_labels, table_rows
from api.web import register_nav, render
from core.clock import today
from core.errors import DomainError, Forbidden
from core.i18n import N_, _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from grants.applications import publicity
from grants.applications import service as application_service
from grants.applications.models import (
    Application,
)
from grants.applications.schemas import (
    ApplicationCreate,
    ApplicationIn,
    CheckDecision,
    ConfirmEligibility,
    ObjectionIn,
    ReasonIn,
    ResolveObjection,
)
from grants.programmes import service as programmes
from grants.programmes.models import (
    Programme,
)
from incubator import service as incubator

router = APIRouter(include_in_schema=False)

register_nav("/applications", N_("Applications"), {Role.staff, Role.applicant})
register_nav("/objections", N_("Objections"), {Role.staff, Role.admin})


def _projects(rows: list[tuple[Application, Any, Any]]) -> list[tuple[int, str]]:
    return [(a.id, f"{o.name} · {a.title}") for a, o, _c in rows]


@router.get("/public/publicity")
async def publicity_page(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    rows = await publicity.publicity_list(session, today())
    return render(
        request,
        "web/applications/publicity.html",
        {"rows": rows, "projects": _projects(rows), "flash": flash(request), "errors": {}, "values": {}},
    )


@router.post("/public/publicity/objections")
async def publicity_objection(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    await check_csrf(request, settings)
    values = form_values(await read_form(request))
    data, errors = parse(ObjectionIn, values)
    if data is not None:
        try:
            address = request.client.host if request.client else "unknown"
            await identity.rate_limit(session, f"objection:{address}", limit=5, window_seconds=3600)
            await publicity.lodge_objection(session, data, on=today())
            return RedirectResponse("/public/publicity?msg=objection", status_code=303)
        except DomainError as exc:
            if exc.status_code not in (404, 422, 429):
                raise
            errors = domain_errors(exc)
    rows = await publicity.publicity_list(session, today())
    return render(
        request,
        "web/applications/publicity.html",
        {"rows": rows, "errors": errors, "values": values},
        status_code=422,
    )


def _form_context(
    programme: Programme,
    values: dict[str, Any],
    lines: list[dict[str, str]],
    indicators: list[dict[str, str]],
    errors: dict[str, str],
) -> dict[str, Any]:
    return {
        "programme": programme,
        "values": values,
        "lines": lines
        or [{"category": "", "item": "", "unit_price": "", "quantity": "1", "funded_by": "grant"}],
        "indicators": indicators or [{"kind": "output", "name": "", "target": "", "unit": ""}],
        "errors": errors,
        "category_options": [(c.id, c.name) for c in programme.categories],
        "topic_options": [(t.id, t.title) for t in programme.topics],
        **grant_labels(),
    }


def _application_payload(form: FormData) -> tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]]]:
    values = {k: v for k, v in form_values(form).items() if not k.startswith(("line-", "ind-", "act-"))}
    lines = table_rows(
        form,
        "line",
        ("category", "item", "unit_price", "quantity", "funded_by"),
        200,
        filled_by=("item", "unit_price"),
    )
    indicators = table_rows(
        form, "ind", ("kind", "name", "target", "unit"), 50, filled_by=("name", "target", "unit")
    )
    activities = table_rows(form, "act", ("name", "starts_on", "ends_on"), 50)
    values["budget_lines"] = lines
    values["indicators"] = indicators
    values["activities"] = activities
    return values, lines, indicators


@router.get("/applications/new")
async def new_application(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    programme_id = request.query_params.get("programme_id", "")
    organisation_id = request.query_params.get("organisation_id", "")
    if not (programme_id.isdigit() and organisation_id.isdigit()):
        return RedirectResponse("/programmes", status_code=303)
    programme = await programmes.get_programme(session, principal, int(programme_id))
    org = await incubator.get_organisation(session, principal, int(organisation_id))
    values = {"organisation_id": org.id, "programme_id": programme.id, "target_community": org.community}
    return render(
        request,
        "web/applications/form.html",
        {**_form_context(programme, values, [], [], {}), "org": org},
    )


@router.post("/applications/new")
async def create_application(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    form = await read_form(request)
    values, lines, indicators = _application_payload(form)
    data, errors = parse(ApplicationCreate, values)
    if data is not None:
        try:
            application = await application_service.create_application(session, principal, data)
            return RedirectResponse(f"/applications/{application.id}?msg=saved", status_code=303)
        except DomainError as exc:
            if exc.status_code not in (409, 422):
                raise
            errors = domain_errors(exc)
    programme = await programmes.get_programme(session, principal, int(values.get("programme_id") or 0) or 1)
    org = await incubator.get_organisation(session, principal, int(values.get("organisation_id") or 0) or 1)
    return render(
        request,
        "web/applications/form.html",
        {**_form_context(programme, values, lines, indicators, errors), "org": org},
        status_code=422,
    )


@router.get("/applications/{application_id:int}/edit")
async def edit_application(
    request: Request, application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    application = await application_service.get_application(session, principal, application_id)
    org = await application_service.require_member(session, principal, application.organisation_id)
    programme = await programmes.get_programme(session, principal, application.programme_id)
    values = {
        name: getattr(application, name) for name in ApplicationIn.model_fields if hasattr(application, name)
    }
    values["activities"] = application.activities
    lines = [
        {
            "category": l.category.value,
            "item": l.item,
            "unit_price": str(l.unit_price),
            "quantity": str(l.quantity),
            "funded_by": l.funded_by.value,
        }
        for l in application.budget_lines  # noqa: E741
    ]
    indicators = [
        {"kind": i.kind.value, "name": i.name, "target": str(i.target), "unit": i.unit}
        for i in application.indicators
    ]
    return render(
        request,
        "web/applications/form.html",
        {**_form_context(programme, values, lines, indicators, {}), "org": org, "application": application},
    )


@router.post("/applications/{application_id:int}/edit")
async def update_application(
    request: Request, application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    values, lines, indicators = _application_payload(form)
    data, errors = parse(ApplicationIn, values)
    if data is not None:
        try:
            await application_service.update_application(session, principal, application_id, data)
            return RedirectResponse(f"/applications/{application_id}?msg=saved", status_code=303)
        except DomainError as exc:
            if exc.status_code not in (409, 422):
                raise
            errors = domain_errors(exc)
    application = await application_service.get_application(session, principal, application_id)
    programme = await programmes.get_programme(session, principal, application.programme_id)
    org = await incubator.get_organisation(session, principal, application.organisation_id)
    return render(
        request,
        "web/applications/form.html",
        {
            **_form_context(programme, values, lines, indicators, errors),
            "org": org,
            "application": application,
        },
        status_code=422,
    )


async def _detail_context(
    session: SessionDep, principal: Principal, application: Application
) -> dict[str, Any]:
    programme = await programmes.get_programme(session, principal, application.programme_id)
    org = await incubator.get_organisation(session, principal, application.organisation_id)
    members = {m.id for m in await incubator.organisations_of(session, principal.user_id)}
    actions = {
        a: application_service.can_application(application, a)
        for a in application_service.APPLICATION_ACTIONS
    }
    open_now, window_reason = application_service.window_state(programme, dt.datetime.now(dt.UTC))
    if actions["submit"][0] and not open_now:
        actions["submit"] = (False, window_reason)
    return {
        "application": application,
        "programme": programme,
        "org": org,
        "is_member": application.organisation_id in members,
        "actions": actions,
        "is_staff": principal.has(Role.staff) and not principal.read_only,
        "grant_total": application.requested_amount,
        "errors": {},
        **grant_labels(),
    }


@router.get("/applications/{application_id:int}")
async def application_detail(
    request: Request, application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    application = await application_service.get_application(session, principal, application_id)
    context = await _detail_context(session, principal, application)
    error = request.query_params.get("error")
    return render(
        request,
        "web/applications/application.html",
        {**context, "flash": flash(request), "action_error": error},
    )


@router.post("/applications/{application_id:int}/{action}")
async def application_action(
    request: Request, application_id: IdPath, action: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    try:
        if action == "submit":
            await application_service.submit_application(session, principal, application_id)
            return RedirectResponse(f"/applications/{application_id}?msg=submitted", status_code=303)
        if action in ("withdraw", "return"):
            data, errors = parse(ReasonIn, {"reason": form.get("reason") or ""})
            if data is None:
                raise DomainError(errors.get("reason", _("This field is required")))
            if action == "withdraw":
                await application_service.withdraw_application(
                    session, principal, application_id, data.reason
                )
            else:
                await application_service.return_application(session, principal, application_id, data.reason)
        elif action == "confirm-eligibility":
            decisions = [
                CheckDecision(
                    code=key.removeprefix("check-"),
                    passed=form.get(key) == "pass",
                    reason=str(form.get(f"reason-{key.removeprefix('check-')}") or "")[:2000],
                )
                for key in form
                if key.startswith("check-")
            ]
            await application_service.confirm_eligibility(
                session, principal, application_id, ConfirmEligibility(decisions=decisions)
            )
        else:
            return Response(status_code=404)
    except DomainError as exc:
        if exc.status_code not in (400, 409, 422):
            raise
        message = exc.message if not exc.details else "；".join(d.message for d in exc.details)
        return RedirectResponse(
            f"/applications/{application_id}?{urlencode({'error': message})}", status_code=303
        )
    return RedirectResponse(f"/applications/{application_id}?msg=done", status_code=303)


@router.get("/objections")
async def objection_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff, Role.admin):
        raise Forbidden(_("Your role does not allow this"))
    page = await publicity.list_objections(session, principal, PageParams(page=1, page_size=200))
    can_resolve = principal.has(Role.staff) and not principal.read_only
    return render(
        request,
        "web/applications/objections.html",
        {"objections": page.items, "flash": flash(request), "can_resolve": can_resolve},
    )


@router.post("/objections/{objection_id:int}/resolve")
async def objection_resolve(
    request: Request, objection_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    data, errors = parse(
        ResolveObjection, {"upheld": form.get("upheld") == "yes", "resolution": form.get("resolution") or ""}
    )
    if data is None:
        return RedirectResponse(
            f"/objections?{urlencode({'error': next(iter(errors.values()))})}", status_code=303
        )
    await publicity.resolve_objection(session, principal, objection_id, data)
    return RedirectResponse("/objections?msg=done", status_code=303)
