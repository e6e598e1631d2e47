"""Pages of the grant cycle: programmes, the applicant's form with its budget table, staff queue,
decision screen, objections, and the public publicity page."""

from __future__ import annotations

import contextlib
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
    Pagination,
    SessionDep,
    SettingsDep,
    check_csrf,
)
from api.pages.forms import domain_errors, form_values, parse, read_form
from api.web import register_nav, render
from core.clock import SHANGHAI, today
from core.errors import DomainError, Forbidden
from core.i18n import N_, _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from evaluations.models import Rubric
from grants import service
from grants.models import (
    APPLICATION_STATE_LABELS,
    BUDGET_CATEGORY_LABELS,
    PROGRAMME_STATE_LABELS,
    TRIGGER_LABELS,
    Application,
    ApplicationState,
    BudgetCategory,
    FundedBy,
    IndicatorKind,
    Programme,
    ProgrammeKind,
    TrancheTrigger,
)
from grants.schemas import (
    ApplicationCreate,
    ApplicationIn,
    CheckDecision,
    ConfirmEligibility,
    DecideIn,
    ObjectionIn,
    ProgrammeCreate,
    ReasonIn,
    ResolveObjection,
)
from incubator import service as incubator

router = APIRouter(include_in_schema=False)

register_nav("/programmes", N_("Programmes"), {Role.staff, Role.applicant, Role.admin, Role.finance})
register_nav("/applications", N_("Applications"), {Role.staff, Role.applicant})
register_nav("/objections", N_("Objections"), {Role.staff, Role.admin})

MESSAGES = {
    "saved": N_("Saved."),
    "submitted": N_("Submitted. The eligibility checks are shown below."),
    "done": N_("Done."),
    "objection": N_("Your objection is recorded; the centre will look into it."),
}


def _labels() -> dict[str, Any]:
    return {
        "app_state_label": {k.value: _(v) for k, v in APPLICATION_STATE_LABELS.items()},
        "prog_state_label": {k.value: _(v) for k, v in PROGRAMME_STATE_LABELS.items()},
        "budget_categories": [(c.value, _(BUDGET_CATEGORY_LABELS[c])) for c in BudgetCategory],
        "budget_label": {k.value: _(v) for k, v in BUDGET_CATEGORY_LABELS.items()},
        "trigger_label": {k.value: _(v) for k, v in TRIGGER_LABELS.items()},
        "triggers": [(t.value, _(TRIGGER_LABELS[t])) for t in TrancheTrigger],
        "funded_by": [(FundedBy.grant.value, _("Grant")), (FundedBy.cofunding.value, _("Co-funding"))],
        "indicator_kinds": [
            (IndicatorKind.output.value, _("Output")),
            (IndicatorKind.outcome.value, _("Outcome")),
        ],
        "kinds": [
            (ProgrammeKind.venture.value, _("Venture philanthropy")),
            (ProgrammeKind.micro.value, _("Micro grants")),
        ],
        "app_states": [(s.value, _(APPLICATION_STATE_LABELS[s])) for s in ApplicationState],
    }


def _flash(request: Request) -> str | None:
    key = request.query_params.get("msg")
    return _(MESSAGES[key]) if key in MESSAGES else None


def _rows(
    form: FormData, prefix: str, fields: tuple[str, ...], limit: int, filled_by: tuple[str, ...] = ()
) -> list[dict[str, str]]:
    """Rows of a repeating table: ``prefix-<n>-<field>``; empty rows are skipped.

    A row counts as filled when one of ``filled_by`` (default: every field) has a value, so
    that a blank row whose selects show their first option is not read as a half-filled one.
    """
    rows: list[dict[str, str]] = []
    for n in range(limit):
        row = {f: str(form.get(f"{prefix}-{n}-{f}") or "").strip() for f in fields}
        if any(row[f] for f in filled_by or fields):
            rows.append(row)
    return rows


# --- public publicity -------------------------------------------------------------------


def _projects(rows: list[tuple[Application, Any, Any]]) -> list[tuple[int, str]]:
    return [(a.id, f"{o.name} · {a.title}") for a, o, _c in rows]


@router.get("/public/publicity")
async def publicity_page(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    rows = await service.publicity_list(session, today())
    return render(
        request,
        "web/grants/publicity.html",
        {"rows": rows, "projects": _projects(rows), "flash": _flash(request), "errors": {}, "values": {}},
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
            await service.lodge_objection(session, data, on=today())
            return RedirectResponse("/public/publicity?msg=objection", status_code=303)
        except DomainError as exc:
            if exc.status_code not in (404, 422, 429):
                raise
            errors = domain_errors(exc)
    rows = await service.publicity_list(session, today())
    return render(
        request,
        "web/grants/publicity.html",
        {"rows": rows, "errors": errors, "values": values},
        status_code=422,
    )


# --- programmes -------------------------------------------------------------------------


@router.get("/programmes")
async def programme_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    page = await service.list_programmes(session, principal, PageParams(page=1, page_size=100))
    return render(
        request,
        "web/grants/programmes.html",
        {"programmes": page.items, "flash": _flash(request), **_labels()},
    )


async def _rubric_versions(session: SessionDep, principal: Principal) -> list[tuple[int, str]]:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    rows = await session.execute(
        select(Rubric).options(selectinload(Rubric.versions)).where(Rubric.centre_id == principal.centre_id)
    )
    return [(v.id, f"{r.name} v{v.number}") for r in rows.scalars() for v in r.versions]


@router.get("/programmes/new")
async def new_programme(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))
    year = today().year
    values = {
        "year": year,
        "kind": "venture",
        "min_reviewers": 3,
        "publicity_working_days": 5,
        "min_cofunding_pct": "10",
        "management_fee_cap_pct": "10",
        "personnel_cap_pct": "30",
        "opens_at": f"{year}-03-01T09:00",
        "closes_at": f"{year}-04-01T17:00",
    }
    tranches = [
        {"share_pct": "50", "trigger": "on_signing"},
        {"share_pct": "30", "trigger": "midterm_passed"},
        {"share_pct": "20", "trigger": "final_passed"},
    ]
    return render(
        request,
        "web/grants/programme_form.html",
        {
            "values": values,
            "errors": {},
            "categories": [],
            "tranches": tranches,
            "rubrics": await _rubric_versions(session, principal),
            **_labels(),
        },
    )


@router.post("/programmes/new")
async def create_programme(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))
    form = await read_form(request)
    values = form_values(form)
    categories = _rows(form, "cat", ("code", "name", "budget"), 20)
    tranches = _rows(form, "tr", ("share_pct", "trigger"), 10, filled_by=("share_pct",))
    payload: dict[str, Any] = {k: v for k, v in values.items() if not k.startswith(("cat-", "tr-"))}
    payload["blind_review"] = "blind_review" in form
    payload["allow_unregistered"] = "allow_unregistered" in form
    for key in ("opens_at", "closes_at"):
        if key in payload:
            with contextlib.suppress(ValueError):
                payload[key] = dt.datetime.fromisoformat(payload[key]).replace(tzinfo=SHANGHAI).isoformat()
    payload["categories"], payload["tranche_plan"] = categories, tranches
    data, errors = parse(ProgrammeCreate, payload)
    if data is not None:
        try:
            programme = await service.create_programme(session, principal, data)
            return RedirectResponse(f"/programmes/{programme.id}?msg=saved", status_code=303)
        except DomainError as exc:
            errors = domain_errors(exc)
    return render(
        request,
        "web/grants/programme_form.html",
        {
            "values": values,
            "errors": errors,
            "categories": categories,
            "tranches": tranches,
            "rubrics": await _rubric_versions(session, principal),
            **_labels(),
        },
        status_code=422,
    )


@router.get("/programmes/{programme_id:int}")
async def programme_detail(
    request: Request, programme_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    await service.get_programme(session, principal, programme_id)  # 404/403 before any work
    await service.finalise_publicity(session, today(), programme_id=programme_id)
    programme = await service.get_programme(session, principal, programme_id)
    applications = await service.list_applications(
        session, principal, PageParams(page=1, page_size=200), programme_id=programme.id
    )
    my_orgs = (
        await incubator.organisations_of(session, principal.user_id) if principal.has(Role.applicant) else []
    )
    actions = {a: service.can_programme(programme, a) for a in service.PROGRAMME_TRANSITIONS}
    open_now, window_reason = service.window_state(programme, dt.datetime.now(dt.UTC))
    return render(
        request,
        "web/grants/programme.html",
        {
            "programme": programme,
            "applications": applications.items,
            "actions": actions,
            "my_orgs": my_orgs,
            "open_now": open_now,
            "window_reason": window_reason,
            "flash": _flash(request),
            "is_staff": principal.has(Role.staff) and not principal.read_only,
            "errors": {},
            **_labels(),
        },
    )


@router.post("/programmes/{programme_id:int}/{action}")
async def programme_action(
    request: Request, programme_id: IdPath, action: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    handlers = {
        "open": service.open_programme,
        "start-review": service.start_review,
        "collect-results": service.collect_review,
        "publicise": service.publicise,
        "close": service.close_programme,
    }
    if action not in handlers:
        return (
            await decide_submit(request, programme_id, session, principal)
            if action == "decide"
            else Response(status_code=404)
        )
    try:
        await handlers[action](session, principal, programme_id)
    except DomainError as exc:
        if exc.status_code != 409:
            raise
        return RedirectResponse(
            f"/programmes/{programme_id}?{urlencode({'error': exc.message})}", status_code=303
        )
    return RedirectResponse(f"/programmes/{programme_id}?msg=done", status_code=303)


@router.get("/programmes/{programme_id:int}/decide")
async def decide_page(
    request: Request, programme_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))
    programme = await service.get_programme(session, principal, programme_id)
    applications = await service.list_applications(
        session, principal, PageParams(page=1, page_size=200), programme_id=programme.id
    )
    rows = [a for a in applications.items if a.state in service.DECIDABLE]
    return render(
        request, "web/grants/decide.html", {"programme": programme, "rows": rows, "errors": {}, **_labels()}
    )


async def decide_submit(
    request: Request, programme_id: int, session: SessionDep, principal: Principal
) -> Response:
    form = await read_form(request)
    decisions = []
    for key in form:
        if key.startswith("reason-"):
            application_id = key.removeprefix("reason-")
            decisions.append(
                {
                    "application_id": application_id,
                    "approve": form.get(f"approve-{application_id}") == "yes",
                    "amount": form.get(f"amount-{application_id}") or None,
                    "reason": form.get(key) or "",
                }
            )
    data, errors = parse(DecideIn, {"decisions": decisions})
    if data is not None:
        try:
            await service.decide(session, principal, programme_id, data)
            return RedirectResponse(f"/programmes/{programme_id}?msg=done", status_code=303)
        except DomainError as exc:
            if exc.status_code not in (409, 422):
                raise
            errors = domain_errors(exc)
    programme = await service.get_programme(session, principal, programme_id)
    applications = await service.list_applications(
        session, principal, PageParams(page=1, page_size=200), programme_id=programme.id
    )
    rows = [a for a in applications.items if a.state in service.DECIDABLE]
    return render(
        request,
        "web/grants/decide.html",
        {"programme": programme, "rows": rows, "errors": errors, "submitted": form, **_labels()},
        status_code=422,
    )


# --- applications -----------------------------------------------------------------------


@router.get("/applications")
async def application_list(
    request: Request, session: SessionDep, principal: CurrentPrincipal, pagination: Pagination
) -> Response:
    params = request.query_params
    programme_id = int(params["programme_id"]) if params.get("programme_id", "").isdigit() else None
    state = params.get("state") if params.get("state") in {s.value for s in ApplicationState} else None
    page = await service.list_applications(
        session,
        principal,
        pagination,
        programme_id=programme_id,
        state=ApplicationState(state) if state else None,
    )
    orgs = {o.id: o for o in await incubator.all_organisations(session, principal, _no_filters())}
    return render(
        request,
        "web/grants/applications.html",
        {
            "page": page,
            "orgs": orgs,
            "values": {"programme_id": programme_id or "", "state": state or ""},
            "query": urlencode({k: v for k, v in (("programme_id", programme_id), ("state", state)) if v}),
            "is_staff": principal.has(Role.staff),
            **_labels(),
        },
    )


def _no_filters() -> Any:
    from incubator.repository import OrganisationFilters

    return OrganisationFilters()


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
        **_labels(),
    }


def _application_payload(form: FormData) -> tuple[dict[str, Any], list[dict[str, str]], list[dict[str, str]]]:
    values = {k: v for k, v in form_values(form).items() if not k.startswith(("line-", "ind-", "act-"))}
    lines = _rows(
        form,
        "line",
        ("category", "item", "unit_price", "quantity", "funded_by"),
        200,
        filled_by=("item", "unit_price"),
    )
    indicators = _rows(
        form, "ind", ("kind", "name", "target", "unit"), 50, filled_by=("name", "target", "unit")
    )
    activities = _rows(form, "act", ("name", "starts_on", "ends_on"), 50)
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
    programme = await service.get_programme(session, principal, int(programme_id))
    org = await incubator.get_organisation(session, principal, int(organisation_id))
    values = {"organisation_id": org.id, "programme_id": programme.id, "target_community": org.community}
    return render(
        request,
        "web/grants/application_form.html",
        {**_form_context(programme, values, [], [], {}), "org": org},
    )


@router.post("/applications/new")
async def create_application(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    form = await read_form(request)
    values, lines, indicators = _application_payload(form)
    data, errors = parse(ApplicationCreate, values)
    if data is not None:
        try:
            application = await service.create_application(session, principal, data)
            return RedirectResponse(f"/applications/{application.id}?msg=saved", status_code=303)
        except DomainError as exc:
            if exc.status_code not in (409, 422):
                raise
            errors = domain_errors(exc)
    programme = await service.get_programme(session, principal, int(values.get("programme_id") or 0) or 1)
    org = await incubator.get_organisation(session, principal, int(values.get("organisation_id") or 0) or 1)
    return render(
        request,
        "web/grants/application_form.html",
        {**_form_context(programme, values, lines, indicators, errors), "org": org},
        status_code=422,
    )


@router.get("/applications/{application_id:int}/edit")
async def edit_application(
    request: Request, application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    application = await service.get_application(session, principal, application_id)
    org = await service.require_member(session, principal, application.organisation_id)
    programme = await service.get_programme(session, principal, application.programme_id)
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
        "web/grants/application_form.html",
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
            await service.update_application(session, principal, application_id, data)
            return RedirectResponse(f"/applications/{application_id}?msg=saved", status_code=303)
        except DomainError as exc:
            if exc.status_code not in (409, 422):
                raise
            errors = domain_errors(exc)
    application = await service.get_application(session, principal, application_id)
    programme = await service.get_programme(session, principal, application.programme_id)
    org = await incubator.get_organisation(session, principal, application.organisation_id)
    return render(
        request,
        "web/grants/application_form.html",
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
    programme = await service.get_programme(session, principal, application.programme_id)
    org = await incubator.get_organisation(session, principal, application.organisation_id)
    members = {m.id for m in await incubator.organisations_of(session, principal.user_id)}
    actions = {a: service.can_application(application, a) for a in service.APPLICATION_ACTIONS}
    open_now, window_reason = service.window_state(programme, dt.datetime.now(dt.UTC))
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
        **_labels(),
    }


@router.get("/applications/{application_id:int}")
async def application_detail(
    request: Request, application_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    application = await service.get_application(session, principal, application_id)
    context = await _detail_context(session, principal, application)
    error = request.query_params.get("error")
    return render(
        request, "web/grants/application.html", {**context, "flash": _flash(request), "action_error": error}
    )


@router.post("/applications/{application_id:int}/{action}")
async def application_action(
    request: Request, application_id: IdPath, action: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    try:
        if action == "submit":
            await service.submit_application(session, principal, application_id)
            return RedirectResponse(f"/applications/{application_id}?msg=submitted", status_code=303)
        if action in ("withdraw", "return"):
            data, errors = parse(ReasonIn, {"reason": form.get("reason") or ""})
            if data is None:
                raise DomainError(errors.get("reason", _("This field is required")))
            if action == "withdraw":
                await service.withdraw_application(session, principal, application_id, data.reason)
            else:
                await service.return_application(session, principal, application_id, data.reason)
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
            await service.confirm_eligibility(
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


# --- objections -------------------------------------------------------------------------


@router.get("/objections")
async def objection_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff, Role.admin):
        raise Forbidden(_("Your role does not allow this"))
    page = await service.list_objections(session, principal, PageParams(page=1, page_size=200))
    can_resolve = principal.has(Role.staff) and not principal.read_only
    return render(
        request,
        "web/grants/objections.html",
        {"objections": page.items, "flash": _flash(request), "can_resolve": can_resolve},
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
    await service.resolve_objection(session, principal, objection_id, data)
    return RedirectResponse("/objections?msg=done", status_code=303)
