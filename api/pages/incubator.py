"""Pages for organisations and incubation: staff list and profile, applicant portal, signup."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import BackgroundTasks, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import (
    CurrentPrincipal,
    IdPath,
    OptionalPrincipal,
    SessionDep,
    SettingsDep,
    check_csrf,
    client_address,
)
from api.pages.forms import domain_errors, form_values, parse, read_form, submit_form
from api.pages.listing import (
    XLSX,
    FilterField,
    Listing,
    centre_filter,
    centre_names,
    enum_or_none,
    read_listing,
    xlsx_response_headers,
)
from api.pages.shell import start_session
from api.routing import Router
from api.web import register_nav, render
from communities import service as communities
from composition import facts
from core.clock import today
from core.errors import DomainError, Forbidden, NotFound
from core.i18n import N_, _
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from core.notifications import send_quietly
from core.repository import PageParams
from evaluations.rubrics import service as rubric_service
from evaluations.rubrics.models import RoundPurpose, RubricVersion
from evaluations.rubrics.repository import latest_version
from incubator import repository as incubator_queries
from incubator import service
from incubator.exports import organisations_xlsx
from incubator.models import (
    ACTIVITY_LABELS,
    CATEGORY_LABELS,
    FIELD_LABELS,
    KIND_LABELS,
    LEGAL_LABELS,
    ORIGIN_LABELS,
    PARTY_LABELS,
    STAGE_LABELS,
    STAY_LABELS,
    ActivityKind,
    IncubationStay,
    LegalStatus,
    MemberRole,
    OrganisationCategory,
    OrganisationKind,
    ServiceField,
    StayState,
)
from incubator.repository import OrganisationFilters
from incubator.schemas import (
    AcceptInvitation,
    ActivityCreate,
    BarRequest,
    CapacityAssessmentCreate,
    OrganisationCreate,
    OrganisationUpdate,
    SignupRequest,
    StayAdmit,
    StayAssess,
    StayCreate,
    StayExit,
    StayExtend,
    StayGraduate,
    StayStart,
)
from reports import charts

router = Router(include_in_schema=False)

register_nav("/organisations", N_("Organisations"), {Role.staff, Role.admin, Role.finance, Role.station})
register_nav("/my/organisations", N_("My organisation"), {Role.applicant})

MESSAGES = {
    "created": N_("Saved."),
    "verified": N_("The organisation is verified and may now apply."),
    "barred": N_("The bar is recorded."),
    "lifted": N_("The bar is lifted."),
    "stay": N_("The incubation stay is updated."),
    "activity": N_("The support activity is recorded."),
    "capacity": N_("The capacity assessment is recorded."),
    "removed": N_("The member is removed."),
    "signup": N_("Your organisation is registered; centre staff will verify it."),
    "joined": N_("You have joined the organisation; log in to continue."),
}


def _labels() -> dict[str, Any]:
    return {
        "kinds": [(k.value, _(KIND_LABELS[k])) for k in OrganisationKind],
        "legal": [(s.value, _(LEGAL_LABELS[s])) for s in LegalStatus],
        "fields": [(f.value, _(FIELD_LABELS[f])) for f in ServiceField],
        "stay_states": [(s.value, _(STAY_LABELS[s])) for s in StayState],
        "activity_kinds": [(k.value, _(ACTIVITY_LABELS[k])) for k in ActivityKind],
        "kind_label": {k.value: _(v) for k, v in KIND_LABELS.items()},
        "legal_label": {k.value: _(v) for k, v in LEGAL_LABELS.items()},
        "field_label": {k.value: _(v) for k, v in FIELD_LABELS.items()},
        "stay_label": {k.value: _(v) for k, v in STAY_LABELS.items()},
        "activity_label": {k.value: _(v) for k, v in ACTIVITY_LABELS.items()},
        "stage_label": {k.value: _(v) for k, v in STAGE_LABELS.items()},
        "stages": [(k.value, _(v)) for k, v in STAGE_LABELS.items()],
        "categories": [(k.value, _(v)) for k, v in CATEGORY_LABELS.items()],
        "category_label": {k.value: _(v) for k, v in CATEGORY_LABELS.items()},
        "origins": [(k.value, _(v)) for k, v in ORIGIN_LABELS.items()],
        "party_options": [(k.value, _(v)) for k, v in PARTY_LABELS.items()],
    }


async def _choices(session: AsyncSession, principal: Principal, exclude: int | None = None) -> dict[str, Any]:
    """What the organisation form chooses from: the centre's communities and hub organisations."""
    hubs = await service.all_organisations(
        session, principal, OrganisationFilters(category=OrganisationCategory.hub), limit=500
    )
    return {
        "communities": [(str(c.id), c.name) for c in await communities.list_communities(session, principal)],
        "parents": [(str(o.id), o.name) for o in hubs if o.id != exclude],
    }


def _flash(request: Request) -> str | None:
    key = request.query_params.get("msg")
    return _(MESSAGES[key]) if key in MESSAGES else None


def _back(path: str, msg: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?msg={msg}", status_code=303)


# --- list -------------------------------------------------------------------------------


def _organisation_columns() -> dict[str, str]:
    return {
        "number": _("No."),
        "name": _("Name"),
        "kind": _("Kind"),
        "legal_status": _("Legal status"),
        "community": _("Community"),
        "incubation": _("Incubation"),
        "founded": _("Founded"),
        "verified": _("Verified"),
    }


def _organisation_listing(request: Request, centres: Mapping[int, str]) -> Listing:
    labels = _labels()
    fields = [
        FilterField("q", _("Name, code or number")),
        *centre_filter(centres),
        FilterField("legal_status", _("Legal status"), "choice", labels["legal"]),
        FilterField("service_field", _("Service field"), "choice", labels["fields"]),
        FilterField("community", _("Community")),
        FilterField("incubation_state", _("Incubation"), "choice", labels["stay_states"]),
        FilterField("founded_from", _("Founded from"), "date"),
        FilterField("founded_to", _("Founded until"), "date"),
    ]
    return read_listing(
        request, _organisation_columns(), "name", fields, sortable=incubator_queries.ORGANISATION_SORTS
    )


def _organisation_filters(listing: Listing) -> OrganisationFilters:
    t = listing.typed
    return OrganisationFilters(
        q=t["q"],
        centre_id=t.get("centre_id"),
        legal_status=enum_or_none(LegalStatus, t["legal_status"]),
        service_field=enum_or_none(ServiceField, t["service_field"]),
        community=t["community"],
        incubation_state=enum_or_none(StayState, t["incubation_state"]),
        founded_from=t["founded_from"],
        founded_to=t["founded_to"],
    )


@router.get("/organisations")
async def organisation_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not (principal.has(Role.staff, Role.admin, Role.finance, Role.station) or principal.sees_all_centres):
        return RedirectResponse("/my/organisations", status_code=303)
    centres = await centre_names(session, principal)
    listing = _organisation_listing(request, centres)
    page = await service.list_organisations(
        session, principal, _organisation_filters(listing), listing.page, listing.order
    )
    bars = None
    if principal.has(Role.staff):
        bars = await service.list_bars(session, principal, PageParams(page=1, page_size=200), on=today())
    return render(
        request,
        "web/incubator/list.html",
        {
            "page": page,
            "bars": bars,
            "today": today(),
            "listing": listing,
            "centres": centres,
            "flash": _flash(request),
            "is_staff": principal.has(Role.staff, Role.station) and not principal.read_only,
            **_labels(),
            **await _choices(session, principal),
        },
    )


@router.get("/organisations/export.xlsx")
async def organisation_export(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """The filtered, sorted list as the API's export gives it (no phone numbers)."""
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))
    centres = await centre_names(session, principal)
    listing = _organisation_listing(request, centres)
    organisations = await service.all_organisations(
        session, principal, _organisation_filters(listing), order=listing.order
    )
    return Response(
        organisations_xlsx(organisations), media_type=XLSX, headers=xlsx_response_headers("organisations")
    )


@router.get("/my/organisations")
async def my_organisations(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    organisations = await incubator_queries.organisations_of(session, principal.user_id)
    if len(organisations) == 1 and not request.query_params.get("msg"):
        return RedirectResponse(f"/organisations/{organisations[0].id}", status_code=303)
    return render(
        request,
        "web/incubator/mine.html",
        {"organisations": organisations, "flash": _flash(request), **_labels()},
    )


# --- create / edit ----------------------------------------------------------------------

ORG_LISTS = ("service_fields",)


def _org_form_values(org: Any) -> dict[str, Any]:
    values = {
        name: getattr(org, name)
        for name in (
            "name", "kind", "legal_status", "uscc", "community_id", "street", "address", "contact_name",
            "contact_phone", "contact_email", "founded_on", "staff_count", "volunteer_count", "description",
            "courtyard", "parent_id", "flagship_on", "filed_on", "registered_on", "exited_on",
            "party_members", "bank_name", "bank_account_name", "bank_account_no",
        )
    }  # fmt: skip
    values["kind"] = org.kind.value
    values["legal_status"] = org.legal_status.value
    values["category"] = org.category.value
    values["origin"] = org.origin.value if org.origin else ""
    values["party_organisation"] = org.party_organisation.value
    values["service_fields"] = list(org.service_fields)
    return values


@router.get("/organisations/new")
async def new_organisation(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff, Role.station):
        raise Forbidden(_("Only centre staff may do this"))
    values: dict[str, Any] = {"service_fields": [], "category": "other", "party_organisation": "none"}
    if principal.station_only:
        values.update(
            community_id=str(principal.community_id), category="volunteer_team", legal_status="unregistered"
        )
    return render(
        request,
        "web/incubator/form.html",
        {
            "values": values,
            "errors": {},
            "action": "/organisations/new",
            **_labels(),
            **await _choices(session, principal),
        },
    )


@router.post("/organisations/new")
async def create_organisation(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff, Role.station):
        raise Forbidden(_("Only centre staff may do this"))
    values = form_values(await read_form(request), lists=ORG_LISTS)

    async def created(data: OrganisationCreate) -> Response:
        org = await service.create_organisation(session, principal, data)
        return _back(f"/organisations/{org.id}", "created")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return render(
            request,
            "web/incubator/form.html",
            {
                "values": values,
                "errors": errors,
                "action": "/organisations/new",
                **_labels(),
                **await _choices(session, principal),
            },
            status_code=status_code,
        )

    return await submit_form(parse(OrganisationCreate, values), created, again)


def _status_locked(principal: Principal, org: Any) -> bool:
    """Members of a verified organisation see its legal status and credit code but do not edit
    them: staff change them and verify them again (the service refuses it too)."""
    return org.verified_at is not None and not principal.has(Role.staff)


@router.get("/organisations/{organisation_id:int}/edit")
async def edit_organisation(
    request: Request, organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    org = await service.get_organisation(session, principal, organisation_id)
    return render(
        request,
        "web/incubator/form.html",
        {
            "values": _org_form_values(org),
            "errors": {},
            "action": f"/organisations/{org.id}/edit",
            "org": org,
            "status_locked": _status_locked(principal, org),
            "bank_editable": await service.bank_account_editable(session, principal, org),
            **_labels(),
            **await _choices(session, principal, exclude=org.id),
        },
    )


@router.post("/organisations/{organisation_id:int}/edit")
async def update_organisation(
    request: Request, organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    values = form_values(form, lists=ORG_LISTS)
    # The payee account is on the form only for those who may change it; blank clears it.
    bank = {name: values.pop(name, "") for name in service.BANK_FIELDS if name in form}
    data, errors = parse(OrganisationCreate, values)
    _bank, bank_errors = parse(OrganisationUpdate, bank)
    values.update(bank)

    async def updated(data: OrganisationCreate) -> Response:
        update = OrganisationUpdate.model_validate({**data.model_dump(), **bank})
        await service.update_organisation(session, principal, organisation_id, update)
        return _back(f"/organisations/{organisation_id}", "created")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        org = await service.get_organisation(session, principal, organisation_id)
        return render(
            request,
            "web/incubator/form.html",
            {
                "values": values,
                "errors": errors,
                "action": f"/organisations/{org.id}/edit",
                "org": org,
                "status_locked": _status_locked(principal, org),
                "bank_editable": await service.bank_account_editable(session, principal, org),
                **_labels(),
                **await _choices(session, principal, exclude=org.id),
            },
            status_code=status_code,
        )

    return await submit_form((data, {**errors, **bank_errors}), updated, again)


# --- profile ----------------------------------------------------------------------------


def _stay_actions(stay: IncubationStay | None, eligible: bool, check: Any) -> dict[str, tuple[bool, str]]:
    if stay is None:
        return {}
    actions = {action: service.can_transition(stay, action) for action in service.TRANSITIONS}
    if actions["graduate"][0] and not eligible:
        failing = "；".join(c.reason for c in check.criteria if c.applicable and not c.passed)
        actions["graduate"] = (False, _("Graduation is not possible yet: {reasons}").format(reasons=failing))
    return actions


async def _profile_context(
    session: SessionDep, principal: Principal, organisation_id: int, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    org = await service.get_organisation(session, principal, organisation_id)
    members = await service.list_members(session, principal, org.id)
    stays = await service.stays_of(session, principal, org.id)
    active = next((s for s in stays if s.is_active), None)
    activities = await service.list_activities(session, principal, org.id, PageParams(page=1, page_size=100))
    monthly = await service.support_totals(session, principal, organisation_id=org.id, by_month=True)
    check = await service.graduation_check(
        session, principal, org.id, completed_projects=facts.completed_projects
    )
    assessments = await service.capacity_history(session, principal, org.id)
    capacity_version = await _capacity_rubric(session, org.centre_id)
    capacity_criteria = rubric_service.criteria_of(capacity_version) if capacity_version else []
    chart = None
    if len(assessments) >= 2:
        chart = charts.line_chart(
            _("Capacity over time"),
            [a.assessed_on.isoformat() for a in assessments],
            {_("Score"): [float(a.total) for a in assessments]},
        )
    my_role = next((m.role.value for m, u in members if u.id == principal.user_id), None)
    timeline: list[dict[str, Any]] = []
    for stay in stays:
        for event in stay.events:
            timeline.append({"on": event.on_date, "kind": "stay", "event": event})
    for activity in activities.items:
        timeline.append({"on": activity.held_on, "kind": "activity", "activity": activity})
    for assessment in assessments:
        timeline.append({"on": assessment.assessed_on, "kind": "assessment", "assessment": assessment})
    timeline.sort(key=lambda item: item["on"], reverse=True)
    return {
        "org": org,
        "members": members,
        "stays": stays,
        "active": active,
        "actions": _stay_actions(active, check.eligible, check),
        "activities": activities.items,
        "monthly": monthly,
        "check": check,
        "assessments": assessments,
        "capacity_version": capacity_version,
        "capacity_criteria": capacity_criteria,
        "capacity_chart": chart,
        "timeline": timeline[:100],
        "is_staff": principal.has(Role.staff) and not principal.read_only,
        "may_log_support": principal.has(Role.staff, Role.station) and not principal.read_only,
        "is_owner": my_role == "owner",
        "owner_invite": service.can_invite_owner(
            principal, org, any(m.role is MemberRole.owner for m, _user in members)
        ),
        "is_member": my_role is not None,
        "today": today(),
        "errors": errors or {},
        **_labels(),
    }


@router.get("/organisations/{organisation_id:int}")
async def organisation_profile(
    request: Request, organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    context = await _profile_context(session, principal, organisation_id)
    invite = request.query_params.get("invite")
    return render(
        request, "web/incubator/profile.html", {**context, "flash": _flash(request), "invite_url": invite}
    )


async def _profile_with_errors(
    request: Request,
    session: SessionDep,
    principal: Principal,
    organisation_id: int,
    errors: dict[str, str],
    form: str,
) -> Response:
    context = await _profile_context(session, principal, organisation_id, errors)
    return render(
        request,
        "web/incubator/profile.html",
        {**context, "open_form": form},
        status_code=422 if errors else 200,
    )


def _profile_again(
    request: Request, session: SessionDep, principal: Principal, organisation_id: int, form: str
) -> Callable[[dict[str, str], int], Awaitable[Response]]:
    """The profile again with one form open and its errors beside the fields."""

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return await _profile_with_errors(request, session, principal, organisation_id, errors, form)

    return again


@router.post("/organisations/{organisation_id:int}/verify")
async def verify(organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> Response:
    await service.verify_organisation(session, principal, organisation_id)
    return _back(f"/organisations/{organisation_id}", "verified")


@router.post("/organisations/{organisation_id:int}/bar")
async def bar(
    request: Request, organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    parsed = parse(BarRequest, form_values(await read_form(request)))

    async def barred(data: BarRequest) -> Response:
        await service.bar_organisation(session, principal, organisation_id, data, today=today())
        return _back(f"/organisations/{organisation_id}", "barred")

    return await submit_form(
        parsed, barred, _profile_again(request, session, principal, organisation_id, "bar")
    )


@router.post("/organisations/{organisation_id:int}/lift-bar")
async def lift_bar(
    request: Request, organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    values = form_values(await read_form(request))
    reason = str(values.get("reason", ""))[:2000]
    if len(reason) < 2:
        return await _profile_with_errors(
            request, session, principal, organisation_id, {"lift_reason": _("This field is required")}, "lift"
        )
    await service.lift_bar(session, principal, organisation_id, reason)
    return _back(f"/organisations/{organisation_id}", "lifted")


@router.post("/organisations/{organisation_id:int}/members")
async def invite(
    request: Request,
    organisation_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> Response:
    values = form_values(await read_form(request))
    try:
        _invitation, raw = await service.invite_member(
            session, principal, organisation_id, str(values.get("email", ""))
        )
    except DomainError as exc:
        if exc.status_code != 422:
            raise
        return await _profile_with_errors(
            request, session, principal, organisation_id, domain_errors(exc), "invite"
        )
    link = f"{settings.base_url}/invitations/{raw}"
    return RedirectResponse(
        f"/organisations/{organisation_id}?{urlencode({'invite': link})}", status_code=303
    )


@router.post("/organisations/{organisation_id:int}/owner-invitation")
async def invite_owner(
    request: Request,
    organisation_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    background: BackgroundTasks,
) -> Response:
    """Staff invite the organisation's first owner: the link is shown once in this answer, or,
    with SMTP configured, emailed to the person (after the commit) and not shown at all."""
    await check_csrf(request, settings)
    values = form_values(await read_form(request))
    try:
        invitation, raw = await service.invite_owner(
            session, principal, organisation_id, str(values.get("owner_email", ""))
        )
    except DomainError as exc:
        if exc.status_code != 422:
            raise
        errors = {"owner_email": next(iter(domain_errors(exc).values()), exc.message)}
        return await _profile_with_errors(request, session, principal, organisation_id, errors, "owner")
    link = f"{settings.base_url.rstrip('/')}/invitations/{raw}"
    context = await _profile_context(session, principal, organisation_id)
    if settings.smtp_host:
        org = context["org"]
        subject = _("Invitation to act for {name} on Seedbed").format(name=org.name)
        body = "\n\n".join(
            (
                _("The incubation centre invites you to act for {name} as its owner. Open this link "
                  "within {days} days to set your password; it works once:").format(name=org.name, days=14),
                link,
            )
        )  # fmt: skip
        background.add_task(send_quietly, settings, invitation.email, subject, body)
        extra: dict[str, Any] = {"owner_sent_to": invitation.email}
    else:
        extra = {"owner_link": link, "owner_email": invitation.email}
    return render(request, "web/incubator/profile.html", {**context, **extra})


@router.post("/organisations/{organisation_id:int}/members/{user_id:int}/remove")
async def remove_member(
    organisation_id: IdPath, user_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    await service.remove_member(session, principal, organisation_id, user_id)
    return _back(f"/organisations/{organisation_id}", "removed")


@router.post("/organisations/{organisation_id:int}/stays")
async def apply_for_stay(
    request: Request, organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    values = form_values(await read_form(request))
    values["organisation_id"] = organisation_id

    async def applied(data: StayCreate) -> Response:
        await service.create_stay(session, principal, data)
        return _back(f"/organisations/{organisation_id}", "stay")

    again = _profile_again(request, session, principal, organisation_id, "apply")
    return await submit_form(parse(StayCreate, values), applied, again, shown=(409, 422))


STAY_FORMS: dict[str, type[Any]] = {
    "assess": StayAssess,
    "admit": StayAdmit,
    "start": StayStart,
    "extend": StayExtend,
    "graduate": StayGraduate,
    "exit": StayExit,
}


@router.post("/stays/{stay_id:int}/{action}")
async def stay_action(
    request: Request, stay_id: IdPath, action: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    if action not in STAY_FORMS:
        raise NotFound(_("Not found"))
    stay = await service.get_stay(session, principal, stay_id)
    organisation_id = stay.organisation_id
    parsed = parse(STAY_FORMS[action], form_values(await read_form(request)))

    async def moved(data: Any) -> Response:
        if action == "assess":
            await service.assess_stay(session, principal, stay_id, data)
        elif action == "admit":
            await service.admit_stay(session, principal, stay_id, data)
        elif action == "start":
            await service.start_stay(session, principal, stay_id, data)
        elif action == "extend":
            await service.extend_stay(session, principal, stay_id, data, today=today())
        elif action == "graduate":
            await service.graduate_stay(
                session, principal, stay_id, data, completed_projects=facts.completed_projects
            )
        else:
            await service.exit_stay(session, principal, stay_id, data)
        return _back(f"/organisations/{organisation_id}", "stay")

    again = _profile_again(request, session, principal, organisation_id, action)
    return await submit_form(parsed, moved, again, shown=(409, 422))


@router.post("/organisations/{organisation_id:int}/activities")
async def add_activity(
    request: Request, organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    values = form_values(await read_form(request))
    values["organisation_id"] = organisation_id

    async def added(data: ActivityCreate) -> Response:
        await service.add_activity(session, principal, data)
        return _back(f"/organisations/{organisation_id}", "activity")

    again = _profile_again(request, session, principal, organisation_id, "activity")
    return await submit_form(parse(ActivityCreate, values), added, again, shown=())


async def _capacity_rubric(session: SessionDep, centre_id: int) -> RubricVersion | None:
    """The newest version of the centre's capacity-assessment rubric."""
    return await latest_version(session, centre_id, (RoundPurpose.capacity,))


@router.post("/organisations/{organisation_id:int}/capacity")
async def assess_capacity(
    request: Request, organisation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    values = form_values(form)
    scores = {k.removeprefix("score-"): v for k, v in values.items() if k.startswith("score-")}
    payload = {k: v for k, v in values.items() if not k.startswith("score-")}
    payload["organisation_id"] = organisation_id
    payload["scores"] = scores

    async def assessed(data: CapacityAssessmentCreate) -> Response:
        await service.assess_capacity(session, principal, data)
        return _back(f"/organisations/{organisation_id}", "capacity")

    async def again(errors: dict[str, str], status_code: int) -> Response:
        errors = {k.removeprefix("scores."): v for k, v in errors.items()}
        return await _profile_with_errors(request, session, principal, organisation_id, errors, "capacity")

    return await submit_form(parse(CapacityAssessmentCreate, payload), assessed, again)


# --- public: signup, invitations --------------------------------------------------------


@router.get("/signup")
async def signup_page(request: Request, principal: OptionalPrincipal) -> Response:
    return render(
        request,
        "web/incubator/signup.html",
        {
            "values": {"service_fields": [], "centre": request.query_params.get("centre", "")},
            "errors": {},
            **_labels(),
        },
    )


@router.post("/signup")
async def signup_submit(
    request: Request, session: SessionDep, settings: SettingsDep, principal: OptionalPrincipal
) -> Response:
    """Self-service sign-up, limited to 10 an hour per address. Centre staff signed in on the
    same browser are not counted: a centre registering organisations from its office network
    is doing its work (staff may also register the organisation and invite its owner)."""
    await check_csrf(request, settings)
    values = form_values(await read_form(request), lists=ORG_LISTS)
    account_keys = ("centre", "full_name", "email", "password")
    payload = {k: values.get(k) for k in account_keys if values.get(k) is not None}
    payload["organisation"] = {k: v for k, v in values.items() if k not in account_keys}

    async def signed_up(data: SignupRequest) -> Response:
        if principal is None or not principal.has(Role.staff) or principal.read_only:
            await identity.rate_limit(session, f"signup:{client_address(request)}",
                                      limit=10, window_seconds=3600)  # fmt: skip
        await service.signup(session, data)
        return RedirectResponse("/login?msg=signup", status_code=303)

    async def again(errors: dict[str, str], status_code: int) -> Response:
        errors = {k.removeprefix("organisation."): v for k, v in errors.items()}
        values.pop("password", None)
        return render(
            request,
            "web/incubator/signup.html",
            {"values": values, "errors": errors, **_labels()},
            status_code=status_code,
        )

    parsed = parse(SignupRequest, payload)
    return await submit_form(parsed, signed_up, again, shown=(422, 429), own_status=(429,))


@router.get("/invitations/{token}")
async def invitation_page(request: Request, token: str, session: SessionDep) -> Response:
    invitation, org = await service.invitation_for(session, token[:128])
    existing = await identity_queries.get_user_by_email(session, invitation.email)
    return render(
        request,
        "web/incubator/invitation.html",
        {"invitation": invitation, "org": org, "existing": existing is not None, "errors": {}, "values": {}},
    )


@router.post("/invitations/{token}")
async def invitation_accept(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    await check_csrf(request, settings)
    values = form_values(await read_form(request))
    invitation, org = await service.invitation_for(session, token[:128])
    existing = await identity_queries.get_user_by_email(session, invitation.email)
    data: AcceptInvitation | None = None
    errors: dict[str, str] = {}
    if existing is None:
        data, errors = parse(AcceptInvitation, values)
    if not errors:
        user = await service.accept_invitation(session, token[:128], data)
        if existing is None:  # the password was chosen just now: they are in
            return await start_session(request, session, settings, user, "/dashboard")
        return RedirectResponse("/login?msg=joined", status_code=303)
    return render(
        request,
        "web/incubator/invitation.html",
        {"invitation": invitation, "org": org, "existing": False, "errors": errors, "values": values},
        status_code=422,
    )
