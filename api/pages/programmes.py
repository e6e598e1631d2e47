"""Programme pages: the list, the call form, a programme with its actions, the decision."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.deps import (
    CurrentPrincipal,
    IdPath,
    SessionDep,
)
from api.pages.forms import EVERY_STATUS, form_values, parse, read_form, submit_form
from api.pages.grant_pages import flash, grant_labels, table_rows
from api.routing import Router
from api.web import register_nav, render
from core.clock import SHANGHAI, today
from core.errors import DomainError, Forbidden
from core.i18n import N_, _
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from evaluations.rubrics import repository as rubric_queries
from grants.applications import publicity, review
from grants.applications import service as application_service
from grants.applications.schemas import (
    DecideIn,
)
from grants.programmes import service as programmes
from grants.programmes.schemas import ProgrammeCreate
from incubator import repository as incubator_queries

router = Router(include_in_schema=False)

register_nav("/programmes", N_("Programmes"), {Role.staff, Role.applicant, Role.admin, Role.finance})


@router.get("/programmes")
async def programme_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    page = await programmes.list_programmes(session, principal, PageParams(page=1, page_size=100))
    return render(
        request,
        "web/programmes/list.html",
        {"programmes": page.items, "flash": flash(request), **grant_labels()},
    )


async def _rubric_versions(session: SessionDep, principal: Principal) -> list[tuple[int, str]]:
    rubrics = await rubric_queries.with_versions(session, principal.centre_id)
    return [(v.id, f"{r.name} v{v.number}") for r in rubrics for v in r.versions]


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
        "web/programmes/form.html",
        {
            "values": values,
            "errors": {},
            "categories": [],
            "tranches": tranches,
            "rubrics": await _rubric_versions(session, principal),
            **grant_labels(),
        },
    )


@router.post("/programmes/new")
async def create_programme(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))
    form = await read_form(request)
    values = form_values(form)
    categories = table_rows(form, "cat", ("code", "name", "budget"), 20)
    tranches = table_rows(form, "tr", ("share_pct", "trigger"), 10, filled_by=("share_pct",))
    payload: dict[str, Any] = {k: v for k, v in values.items() if not k.startswith(("cat-", "tr-"))}
    payload["blind_review"] = "blind_review" in form
    payload["allow_unregistered"] = "allow_unregistered" in form
    for key in ("opens_at", "closes_at"):
        if key in payload:
            with contextlib.suppress(ValueError):
                payload[key] = dt.datetime.fromisoformat(payload[key]).replace(tzinfo=SHANGHAI).isoformat()
    payload["categories"], payload["tranche_plan"] = categories, tranches

    async def created(data: ProgrammeCreate) -> Response:
        programme = await programmes.create_programme(session, principal, data)
        return RedirectResponse(f"/programmes/{programme.id}?msg=saved", status_code=303)

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return render(
            request,
            "web/programmes/form.html",
            {
                "values": values,
                "errors": errors,
                "categories": categories,
                "tranches": tranches,
                "rubrics": await _rubric_versions(session, principal),
                **grant_labels(),
            },
            status_code=status_code,
        )

    return await submit_form(parse(ProgrammeCreate, payload), created, again, shown=EVERY_STATUS)


@router.get("/programmes/{programme_id:int}")
async def programme_detail(
    request: Request, programme_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    await programmes.get_programme(session, principal, programme_id)  # 404/403 before any work
    await publicity.finalise_publicity(session, today(), programme_id=programme_id)
    programme = await programmes.get_programme(session, principal, programme_id)
    applications = await application_service.list_applications(
        session, principal, PageParams(page=1, page_size=200), programme_id=programme.id
    )
    my_orgs = (
        await incubator_queries.organisations_of(session, principal.user_id)
        if principal.has(Role.applicant)
        else []
    )
    actions = {a: programmes.can_programme(programme, a) for a in programmes.PROGRAMME_TRANSITIONS}
    open_now, window_reason = application_service.window_state(programme, dt.datetime.now(dt.UTC))
    return render(
        request,
        "web/programmes/programme.html",
        {
            "programme": programme,
            "applications": applications.items,
            "actions": actions,
            "my_orgs": my_orgs,
            "open_now": open_now,
            "window_reason": window_reason,
            "flash": flash(request),
            "is_staff": principal.has(Role.staff) and not principal.read_only,
            "errors": {},
            **grant_labels(),
        },
    )


@router.post("/programmes/{programme_id:int}/{action}")
async def programme_action(
    request: Request, programme_id: IdPath, action: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    handlers = {
        "open": programmes.open_programme,
        "start-review": review.start_review,
        "collect-results": review.collect_review,
        "publicise": publicity.publicise,
        "close": programmes.close_programme,
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
    programme = await programmes.get_programme(session, principal, programme_id)
    applications = await application_service.list_applications(
        session, principal, PageParams(page=1, page_size=200), programme_id=programme.id
    )
    rows = [a for a in applications.items if a.state in review.DECIDABLE]
    return render(
        request,
        "web/programmes/decide.html",
        {"programme": programme, "rows": rows, "errors": {}, **grant_labels()},
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

    async def decided(data: DecideIn) -> Response:
        await review.decide(session, principal, programme_id, data)
        return RedirectResponse(f"/programmes/{programme_id}?msg=done", status_code=303)

    async def again(errors: dict[str, str], status_code: int) -> Response:
        programme = await programmes.get_programme(session, principal, programme_id)
        applications = await application_service.list_applications(
            session, principal, PageParams(page=1, page_size=200), programme_id=programme.id
        )
        rows = [a for a in applications.items if a.state in review.DECIDABLE]
        return render(
            request,
            "web/programmes/decide.html",
            {"programme": programme, "rows": rows, "errors": errors, "submitted": form, **grant_labels()},
            status_code=status_code,
        )

    return await submit_form(parse(DecideIn, {"decisions": decisions}), decided, again, shown=(409, 422))
