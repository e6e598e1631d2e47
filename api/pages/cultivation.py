"""Pages of the street's network: communities, sites, cultivation plans and their targets, the
network at a glance, the district roll-up, and the dashboard panel of targets behind."""

from __future__ import annotations

from typing import Any

from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentPrincipal, IdPath, SessionDep, SettingsDep
from api.pages.forms import form_values, parse, read_form, submit_form
from api.pages.grant_pages import back, flash
from api.pages.shell import register_dashboard_panel
from api.routing import Router
from api.web import register_nav, render
from communities import service as communities
from communities.models import COMMUNITY_KIND_LABELS
from communities.schemas import CommunityIn
from core.clock import today
from core.errors import Forbidden
from core.i18n import N_, _, current_locale
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from cultivation import service as cultivation
from cultivation.models import LEVEL_LABELS, METRIC_LABELS, PREMISES_LABELS, SITE_KIND_LABELS, Metric
from cultivation.progress import Standing
from cultivation.schemas import PlanIn, SiteIn, TargetIn
from grants.programmes import service as programmes
from grants.programmes.schemas import NeedIn
from incubator.models import CATEGORY_LABELS, LEGAL_LABELS
from incubator.repository import OrganisationRepository, organisation_choices
from reports import cultivation as cultivation_report
from reports.pdf import render_html
from reports.registry import report_output

router = Router(include_in_schema=False)

register_nav("/network", N_("Network and targets"), {Role.staff, Role.finance, Role.station})
register_nav("/needs", N_("Community needs"), {Role.staff, Role.station})

STANDING_LABELS = {
    Standing.met: N_("Met"),
    Standing.above: N_("Above range"),
    Standing.behind: N_("Behind"),
}


def labels() -> dict[str, Any]:
    return {
        "metric_label": {k.value: _(v) for k, v in METRIC_LABELS.items()},
        "standing_label": {k.value: _(v) for k, v in STANDING_LABELS.items()},
        "category_label": {k.value: _(v) for k, v in CATEGORY_LABELS.items()},
        "legal_label": {k.value: _(v) for k, v in LEGAL_LABELS.items()},
        "site_kind_label": {k.value: _(v) for k, v in SITE_KIND_LABELS.items()},
        "level_label": {k.value: _(v) for k, v in LEVEL_LABELS.items()},
        "premises_label": {k.value: _(v) for k, v in PREMISES_LABELS.items()},
        "community_kind_label": {k.value: _(v) for k, v in COMMUNITY_KIND_LABELS.items()},
    }


def _staff(principal: Principal) -> None:
    if not principal.has(Role.staff) or principal.read_only:
        raise Forbidden(_("Only centre staff may do this"))


def _year(year: int | None) -> int:
    return year if year is not None else today().year


YEAR = Query(default=None, ge=2000, le=2100)


# --- the network at a glance -------------------------------------------------------------------


@router.get("/network")
async def network_page(
    request: Request, session: SessionDep, principal: CurrentPrincipal, year: int | None = YEAR
) -> Response:
    if principal.centre_id is None and principal.sees_all_centres:
        return RedirectResponse("/district/cultivation", status_code=303)
    picture = await cultivation.network(session, principal, _year(year), today())
    plans = await cultivation.list_plans(session, principal)
    return render(
        request,
        "web/cultivation/network.html",
        {
            "picture": picture,
            "community_names": {c.community.id: c.community.name for c in picture.communities},
            "year": _year(year),
            "plans": plans,
            "is_staff": principal.has(Role.staff) and not principal.read_only,
            "flash": flash(request),
            "categories": list(CATEGORY_LABELS),
            "statuses": list(LEGAL_LABELS),
            **labels(),
        },
    )


@router.get("/district/cultivation")
async def district_page(
    request: Request, session: SessionDep, principal: CurrentPrincipal, year: int | None = YEAR
) -> Response:
    pictures = await cultivation.district_rollup(session, principal, _year(year), today())
    return render(
        request,
        "web/cultivation/district.html",
        {"pictures": pictures, "year": _year(year), "categories": list(CATEGORY_LABELS), **labels()},
    )


@router.get("/district/cultivation.pdf")
async def district_pdf(
    session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep, year: int | None = YEAR
) -> Response:
    """The district roll-up as a PDF, rendered on request (the centres' own reports are archived)."""
    if not principal.sees_all_centres:
        raise Forbidden(_("Only district-level accounts see the district roll-up"))
    shown = _year(year)
    context = await cultivation_report.build_district_rollup(session, shown, today())
    html = render_html("reports/district_cultivation.html", context, locale=current_locale())
    pdf = await report_output(settings).renderer.render(html)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="district-cultivation-{shown}.pdf"'},
    )


# --- communities -----------------------------------------------------------------------------


async def _communities_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "web/cultivation/communities.html",
        {
            "communities": await communities.list_communities(session, principal),
            "values": values or {"kind": "community"},
            "errors": errors or {},
            "is_staff": principal.has(Role.staff) and not principal.read_only,
            "kinds": [(k.value, _(v)) for k, v in COMMUNITY_KIND_LABELS.items()],
            "flash": flash(request),
            **labels(),
        },
        status_code=status_code,
    )


@router.get("/communities")
async def communities_page(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    cultivation.require_reader(principal)
    return await _communities_page(request, session, principal)


@router.post("/communities")
async def add_community(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    _staff(principal)
    values = form_values(await read_form(request))

    async def saved(data: CommunityIn) -> Response:
        await communities.create_community(session, principal, data)
        return back("/communities", "saved")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return await _communities_page(request, session, principal, values, errors, status_code=status_code)

    return await submit_form(parse(CommunityIn, values), saved, again, shown=(409, 422))


@router.post("/communities/{community_id:int}/edit")
async def edit_community(
    community_id: IdPath, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    _staff(principal)
    values = form_values(await read_form(request))

    async def saved(data: CommunityIn) -> Response:
        await communities.update_community(session, principal, community_id, data)
        return back("/communities", "saved")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return await _communities_page(request, session, principal, values, errors, status_code=status_code)

    return await submit_form(parse(CommunityIn, values), saved, again, shown=(409, 422))


# --- sites -----------------------------------------------------------------------------------


async def _site_form(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    values: dict[str, Any],
    errors: dict[str, str],
    action: str,
    status_code: int = 200,
) -> Response:
    sites = await cultivation.list_sites(session, principal)
    # The operator and supervisor choosers search on the server ("Find", or seedbed.js as one
    # types): the chosen organisation and the first matches, never the whole district.
    organisations = OrganisationRepository(session, principal)
    choices: dict[str, list[tuple[str, str]]] = {}
    for name in ("operator_id", "supervisor_id"):
        search = request.query_params.get(f"{name}_q", "")[:100]
        if search:
            values = {**values, f"{name}_q": search}
        chosen = str(values.get(name) or "")
        rows = await organisation_choices(
            organisations, search, [int(chosen)] if chosen.isdigit() and len(chosen) <= 10 else []
        )
        choices[name] = [(str(i), label) for i, label in rows]
    return render(
        request,
        "web/cultivation/site_form.html",
        {
            "values": values,
            "errors": errors,
            "action": action,
            "levels": [(k.value, _(v)) for k, v in LEVEL_LABELS.items()],
            "kinds": [(k.value, _(v)) for k, v in SITE_KIND_LABELS.items()],
            "premises": [(k.value, _(v)) for k, v in PREMISES_LABELS.items()],
            "parents": [(str(s.id), s.name) for s in sites if s.level.value != "point"],
            "communities": [
                (str(c.id), c.name) for c in await communities.list_communities(session, principal)
            ],
            "operators": choices["operator_id"],
            "supervisors": choices["supervisor_id"],
        },
        status_code=status_code,
    )


@router.get("/sites/new")
async def new_site(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    _staff(principal)
    return await _site_form(request, session, principal, {"level": "station"}, {}, "/sites/new")


async def _save_site(
    request: Request, session: AsyncSession, principal: Principal, site_id: int | None
) -> Response:
    action = "/sites/new" if site_id is None else f"/sites/{site_id}/edit"
    values = form_values(await read_form(request))

    async def saved(data: SiteIn) -> Response:
        if site_id is None:
            await cultivation.create_site(session, principal, data)
        else:
            await cultivation.update_site(session, principal, site_id, data)
        return back("/network", "saved")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return await _site_form(request, session, principal, values, errors, action, status_code=status_code)

    return await submit_form(parse(SiteIn, values), saved, again, shown=(409, 422))


@router.post("/sites/new")
async def create_site(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    _staff(principal)
    return await _save_site(request, session, principal, None)


@router.get("/sites/{site_id:int}/edit")
async def edit_site_form(
    site_id: IdPath, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    _staff(principal)
    site = await cultivation.get_site(session, principal, site_id)
    values = {
        k: ("" if v is None else str(v.value if hasattr(v, "value") else v))
        for k, v in SiteIn.model_validate(site, from_attributes=True).model_dump().items()
    }
    return await _site_form(request, session, principal, values, {}, f"/sites/{site_id}/edit")


@router.post("/sites/{site_id:int}/edit")
async def edit_site(
    site_id: IdPath, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    _staff(principal)
    return await _save_site(request, session, principal, site_id)


# --- plans and targets -----------------------------------------------------------------------


@router.get("/cultivation/plans")
async def plans_page(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    plans = await cultivation.list_plans(session, principal)
    return render(
        request,
        "web/cultivation/plans.html",
        {
            "plans": plans,
            "values": {},
            "errors": {},
            "is_staff": principal.has(Role.staff) and not principal.read_only,
            "flash": flash(request),
        },
    )


@router.post("/cultivation/plans")
async def create_plan(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    _staff(principal)
    values = form_values(await read_form(request))

    async def created(data: PlanIn) -> Response:
        plan = await cultivation.create_plan(session, principal, data)
        return back(f"/cultivation/plans/{plan.id}", "saved")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        plans = await cultivation.list_plans(session, principal)
        return render(
            request,
            "web/cultivation/plans.html",
            {"plans": plans, "values": values, "errors": errors, "is_staff": True},
            status_code=status_code,
        )

    return await submit_form(parse(PlanIn, values), created, again)


async def _plan_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    plan_id: int,
    year: int | None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    plan = await cultivation.get_plan(session, principal, plan_id)
    shown = year if year is not None and plan.first_year <= year <= plan.last_year else None
    if shown is None:
        shown = min(max(today().year, plan.first_year), plan.last_year)
    rows = await cultivation.plan_progress(session, principal, plan.id, shown, today())
    places = await communities.list_communities(session, principal)
    names = {c.id: c.name for c in places}
    return render(
        request,
        "web/cultivation/plan.html",
        {
            "plan": plan,
            "year": shown,
            "years": list(range(plan.first_year, plan.last_year + 1)),
            "rows": rows,
            "community_names": names,
            "targets": sorted(
                plan.targets, key=lambda t: (t.year, names.get(t.community_id or 0, ""), t.metric)
            ),
            "values": values or {"year": str(shown)},
            "errors": errors or {},
            "is_staff": principal.has(Role.staff) and not principal.read_only,
            "metrics": [(m.value, _(METRIC_LABELS[m])) for m in Metric],
            "communities": [(str(c.id), c.name) for c in places],
            "flash": flash(request),
            **labels(),
        },
        status_code=status_code,
    )


@router.get("/cultivation/plans/{plan_id:int}")
async def plan_page(
    plan_id: IdPath,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    year: int | None = YEAR,
) -> Response:
    return await _plan_page(request, session, principal, plan_id, year)


@router.post("/cultivation/plans/{plan_id:int}/targets")
async def add_target(
    plan_id: IdPath, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    _staff(principal)
    values = form_values(await read_form(request))

    async def saved(data: TargetIn) -> Response:
        await cultivation.set_target(session, principal, plan_id, data)
        return back(f"/cultivation/plans/{plan_id}", "saved")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        year = values.get("year")
        return await _plan_page(
            request,
            session,
            principal,
            plan_id,
            int(year) if isinstance(year, str) and year.isdigit() else None,
            values,
            errors,
            status_code=status_code,
        )

    return await submit_form(parse(TargetIn, values), saved, again)


@router.post("/cultivation/plans/{plan_id:int}/targets/{target_id:int}/delete")
async def delete_target(
    plan_id: IdPath, target_id: IdPath, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    _staff(principal)
    await cultivation.remove_target(session, principal, plan_id, target_id)
    return back(f"/cultivation/plans/{plan_id}", "saved")


# --- needs -----------------------------------------------------------------------------------


async def _needs_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    page = await programmes.list_needs(session, principal, PageParams(page=1, page_size=200))
    places = await communities.list_communities(session, principal)
    if principal.station_only:
        places = [c for c in places if c.id == principal.community_id]
    return render(
        request,
        "web/cultivation/needs.html",
        {
            "needs": page.items,
            "values": values
            or ({"community_id": str(principal.community_id)} if principal.station_only else {}),
            "errors": errors or {},
            "communities": [(str(c.id), c.name) for c in places],
            "may_record": principal.has(Role.staff, Role.station) and not principal.read_only,
            "flash": flash(request),
        },
        status_code=status_code,
    )


@router.get("/needs")
async def needs_page(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff, Role.admin, Role.station):
        raise Forbidden(_("Your role does not allow this"))
    return await _needs_page(request, session, principal)


@router.post("/needs")
async def record_need(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff, Role.station):
        raise Forbidden(_("Your role does not allow this"))
    values = form_values(await read_form(request))

    async def recorded(data: NeedIn) -> Response:
        await programmes.record_need(session, principal, data)
        return back("/needs", "saved")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return await _needs_page(request, session, principal, values, errors, status_code=status_code)

    return await submit_form(parse(NeedIn, values), recorded, again)


# --- dashboard -------------------------------------------------------------------------------


async def targets_behind_panel(session: AsyncSession, principal: Principal) -> dict[str, Any] | None:
    """Staff (and a station officer, for their community) see this year's targets behind; the
    district sees how many each centre has behind."""
    day = today()
    if principal.centre_id is None and principal.sees_all_centres:
        pictures = await cultivation.district_rollup(session, principal, day.year, day)
        return {"template": "web/panels/cultivation_district.html", "pictures": pictures, "year": day.year}
    if principal.centre_id is None or not principal.has(Role.staff, Role.station):
        return None
    rows = await cultivation.centre_progress(
        session,
        principal.centre_id,
        day.year,
        day,
        community_id=principal.community_id if principal.station_only else None,
    )
    return {
        "template": "web/panels/cultivation.html",
        "behind": cultivation.behind(rows),
        "year": day.year,
        **labels(),
    }


register_dashboard_panel(targets_behind_panel)
