"""The lists of the grant aggregates — applications, projects, disbursements, contracts — with
sorting and filtering in SQL (kept in the URL) and their Excel exports."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.deps import CurrentPrincipal, IdPath, SessionDep, StaffOrAdmin
from api.pages.application_rows import application_rows
from api.pages.grant_pages import grant_labels, require_money_reader
from api.pages.listing import (
    EXPORT_LIMIT,
    XLSX,
    FilterField,
    Listing,
    centre_filter,
    centre_names,
    day_after,
    day_start,
    enum_or_none,
    read_listing,
    xlsx_response_headers,
)
from api.routing import Router, reads_only
from api.web import register_nav, render
from core.errors import Forbidden
from core.i18n import N_, _
from core.identity.models import Role
from core.identity.principal import Principal
from evaluations import exports as evaluation_exports
from grants.applications import exports as application_exports
from grants.applications import repository as application_queries
from grants.applications import service as application_service
from grants.applications.models import APPLICATION_STATE_LABELS, ApplicationState
from grants.applications.repository import APPLICATION_SORTS, ApplicationListFilters
from grants.awards import exports as award_exports
from grants.awards import repository as award_queries
from grants.awards import service as award_service
from grants.awards.models import AWARD_STATE_LABELS, AwardState
from grants.awards.repository import AWARD_SORTS, AwardListFilters
from grants.contracts import repository as contract_queries
from grants.contracts.models import (
    CONTRACT_STATE_LABELS,
    PROCUREMENT_LABELS,
    ContractState,
    ProcurementMethod,
)
from grants.contracts.repository import CONTRACT_SORTS, ContractListFilters, ContractRepository
from grants.disbursements import exports as disbursement_exports
from grants.disbursements import repository as disbursement_queries
from grants.disbursements.models import DISBURSEMENT_STATE_LABELS, DisbursementState
from grants.disbursements.repository import (
    DISBURSEMENT_SORTS,
    DisbursementListFilters,
    DisbursementRepository,
)

router = Router(include_in_schema=False)

register_nav("/disbursements", N_("Disbursements"), {Role.staff, Role.finance, Role.admin})


def _sees_centre_lists(principal: Principal) -> bool:
    return principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)


# --- applications -----------------------------------------------------------------------


def _application_columns() -> dict[str, str]:
    return {
        "number": _("No."),
        "title": _("Project title"),
        "organisation": _("Applicant organisation"),
        "programme": _("Programme"),
        "category": _("Category"),
        "community": _("Community"),
        "state": _("Status"),
        "requested": _("Requested amount"),
        "score": _("Review score"),
        "rank": _("Rank"),
        "submitted": _("Submitted on"),
    }


async def _programme_filter(request: Request, session: SessionDep, principal: Principal) -> FilterField:
    """The programme filter: the chosen programme and the newest, or those its search box
    finds (``programme_id_q``); the rest are searched on the server as one types."""
    raw = (request.query_params.get("programme_id") or "").strip()
    search = (request.query_params.get("programme_id_q") or "").strip()[:100]
    chosen = int(raw) if raw.isdigit() and len(raw) <= 12 else None
    programmes = await application_queries.programme_choices(session, principal, search, chosen)
    options = [(str(i), n) for i, n in programmes]
    return FilterField(
        "programme_id", _("Programme"), "id", options, source="/choosers/programmes", search=search
    )


async def _programme_record_fields(
    request: Request,
    session: SessionDep,
    principal: Principal,
    search_label: str,
    centres: Mapping[int, str],
    states: list[tuple[str, str]],
) -> list[FilterField]:
    """The filters the applications and projects lists share (grants.listing.ProgrammeRecordFilters)."""
    return [
        FilterField("q", search_label),
        *centre_filter(centres),
        await _programme_filter(request, session, principal),
        FilterField("state", _("Status"), "choice", states),
        FilterField("organisation", _("Organisation")),
        FilterField("category", _("Category")),
        FilterField("community", _("Community")),
    ]


def _programme_record_values(listing: Listing) -> dict[str, Any]:
    """The values of the shared filters but the state, which each list types by its own enum."""
    t = listing.typed
    return {
        "q": t["q"],
        "centre_id": t.get("centre_id"),
        "programme_id": t["programme_id"],
        "organisation": t["organisation"],
        "category": t["category"],
        "community": t["community"],
    }


async def _application_listing(
    request: Request, session: SessionDep, principal: Principal, centres: Mapping[int, str]
) -> Listing:
    states = [(s.value, _(APPLICATION_STATE_LABELS[s])) for s in ApplicationState]
    fields = [
        *await _programme_record_fields(
            request, session, principal, _("Title, organisation or number"), centres, states
        ),
        FilterField("submitted_from", _("Submitted from"), "date"),
        FilterField("submitted_to", _("Submitted until"), "date"),
    ]
    return read_listing(request, _application_columns(), "-submitted", fields, sortable=APPLICATION_SORTS)


def _application_filters(listing: Listing) -> ApplicationListFilters:
    t = listing.typed
    return ApplicationListFilters(
        **_programme_record_values(listing),
        state=enum_or_none(ApplicationState, t["state"]),
        submitted_from=day_start(t["submitted_from"]),
        submitted_before=day_after(t["submitted_to"]),
    )


@router.get("/applications")
@reads_only
async def application_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    centres = await centre_names(session, principal)
    listing = await _application_listing(request, session, principal, centres)
    repository = await application_service.application_repository(session, principal)
    page = await application_queries.list_application_rows(
        repository, _application_filters(listing), listing.order, listing.page
    )
    bulk = principal.has(Role.staff) and not principal.read_only
    return render(
        request,
        "web/applications/list.html",
        {
            "page": page,
            "rows": application_rows(page.items, can_bulk=bulk, centres=centres),
            "listing": listing,
            "is_staff": principal.has(Role.staff),
            "can_bulk": bulk,
            "can_export": _sees_centre_lists(principal),
            "centres": centres,
            **grant_labels(),
        },
    )


@router.get("/applications/export.xlsx")
async def application_export(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not _sees_centre_lists(principal):
        raise Forbidden(_("Your role does not allow this"))
    centres = await centre_names(session, principal)
    listing = await _application_listing(request, session, principal, centres)
    repository = await application_service.application_repository(session, principal)
    rows = await application_queries.export_application_rows(
        repository, _application_filters(listing), listing.order, EXPORT_LIMIT
    )
    return Response(
        application_exports.applications_xlsx(rows),
        media_type=XLSX,
        headers=xlsx_response_headers("applications"),
    )


# --- projects (awards) ------------------------------------------------------------------


def _award_columns() -> dict[str, str]:
    return {
        "number": _("No."),
        "title": _("Project"),
        "organisation": _("Organisation"),
        "programme": _("Programme"),
        "category": _("Category"),
        "state": _("Status"),
        "signed": _("Signed on"),
        "awarded": _("Awarded on"),
        "amount": _("Amount (yuan)"),
        "paid": _("Paid (yuan)"),
    }


async def _award_listing(
    request: Request, session: SessionDep, principal: Principal, centres: Mapping[int, str]
) -> Listing:
    states = [(s.value, _(AWARD_STATE_LABELS[s])) for s in AwardState]
    fields = [
        *await _programme_record_fields(
            request, session, principal, _("Project, organisation or number"), centres, states
        ),
        FilterField("signed_from", _("Signed from"), "date"),
        FilterField("signed_to", _("Signed until"), "date"),
    ]
    return read_listing(request, _award_columns(), "-number", fields, sortable=AWARD_SORTS)


def _award_filters(listing: Listing) -> AwardListFilters:
    t = listing.typed
    return AwardListFilters(
        **_programme_record_values(listing),
        state=enum_or_none(AwardState, t["state"]),
        signed_from=t["signed_from"],
        signed_to=t["signed_to"],
    )


@router.get("/awards")
async def award_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    centres = await centre_names(session, principal)
    listing = await _award_listing(request, session, principal, centres)
    repository = await award_service.award_repository(session, principal)
    page = await award_queries.list_award_rows(
        repository, _award_filters(listing), listing.order, listing.page
    )
    return render(
        request,
        "web/awards/list.html",
        {
            "page": page,
            "listing": listing,
            "can_export": _sees_centre_lists(principal),
            "can_request": principal.has(Role.staff) and not principal.read_only,
            "centres": centres,
            **grant_labels(),
        },
    )


@router.get("/awards/export.xlsx")
async def award_export(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    require_money_reader(principal)
    centres = await centre_names(session, principal)
    listing = await _award_listing(request, session, principal, centres)
    repository = await award_service.award_repository(session, principal)
    rows = await award_queries.export_award_rows(
        repository, _award_filters(listing), listing.order, EXPORT_LIMIT
    )
    return Response(
        award_exports.awards_xlsx(rows), media_type=XLSX, headers=xlsx_response_headers("projects")
    )


# --- disbursements ----------------------------------------------------------------------


def _disbursement_columns() -> dict[str, str]:
    return {
        "number": _("No."),
        "requested": _("Requested on"),
        "payee": _("Payee"),
        "subject": _("Paid for"),
        "amount": _("Amount (yuan)"),
        "state": _("Status"),
        "paid_on": _("Payment date"),
        "voucher": _("Voucher number"),
    }


async def _disbursement_listing(
    request: Request, session: SessionDep, principal: Principal, centres: Mapping[int, str]
) -> Listing:
    fields = [
        FilterField("q", _("Payee, project, voucher or number")),
        *centre_filter(centres),
        FilterField(
            "state",
            _("Status"),
            "choice",
            [(s.value, _(DISBURSEMENT_STATE_LABELS[s])) for s in DisbursementState],
        ),
        FilterField(
            "kind", _("Kind"), "choice", [("award", _("Venture grant")), ("contract", _("Purchased service"))]
        ),
        await _programme_filter(request, session, principal),
        FilterField("payee", _("Payee")),
        FilterField("requested_from", _("Requested from"), "date"),
        FilterField("requested_to", _("Requested until"), "date"),
        FilterField("paid_from", _("Paid from"), "date"),
        FilterField("paid_to", _("Paid until"), "date"),
    ]
    return read_listing(request, _disbursement_columns(), "-requested", fields, sortable=DISBURSEMENT_SORTS)


def _disbursement_filters(listing: Listing) -> DisbursementListFilters:
    t = listing.typed
    return DisbursementListFilters(
        q=t["q"],
        centre_id=t.get("centre_id"),
        state=enum_or_none(DisbursementState, t["state"]),
        kind=t["kind"],
        payee=t["payee"],
        programme_id=t["programme_id"],
        requested_from=day_start(t["requested_from"]),
        requested_before=day_after(t["requested_to"]),
        paid_from=t["paid_from"],
        paid_to=t["paid_to"],
    )


@router.get("/disbursements")
async def disbursement_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    require_money_reader(principal)
    centres = await centre_names(session, principal)
    listing = await _disbursement_listing(request, session, principal, centres)
    page = await disbursement_queries.list_disbursement_rows(
        DisbursementRepository(session, principal),
        _disbursement_filters(listing),
        listing.order,
        listing.page,
    )
    return render(
        request,
        "web/disbursements/list.html",
        {"page": page, "listing": listing, "centres": centres, **grant_labels()},
    )


@router.get("/disbursements/export.xlsx")
async def disbursement_export(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    require_money_reader(principal)
    centres = await centre_names(session, principal)
    listing = await _disbursement_listing(request, session, principal, centres)
    rows = await disbursement_queries.export_disbursement_rows(
        DisbursementRepository(session, principal),
        _disbursement_filters(listing),
        listing.order,
        EXPORT_LIMIT,
    )
    return Response(
        disbursement_exports.disbursements_xlsx(rows),
        media_type=XLSX,
        headers=xlsx_response_headers("disbursements"),
    )


# --- purchased-service contracts --------------------------------------------------------


def _contract_columns() -> dict[str, str]:
    return {
        "number": _("No."),
        "title": _("Title"),
        "purchaser": _("Purchaser"),
        "provider": _("Provider"),
        "method": _("Procurement method"),
        "starts": _("Starts"),
        "ends": _("Ends"),
        "state": _("Status"),
        "amount": _("Amount (yuan)"),
        "paid": _("Paid (yuan)"),
    }


@router.get("/contracts")
async def contract_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    require_money_reader(principal)
    centres = await centre_names(session, principal)
    fields = [
        FilterField("q", _("Title, provider or number")),
        *centre_filter(centres),
        FilterField(
            "state", _("Status"), "choice", [(s.value, _(CONTRACT_STATE_LABELS[s])) for s in ContractState]
        ),
        FilterField("provider", _("Provider")),
        FilterField("purchaser", _("Purchaser")),
        FilterField("category", _("Service category")),
        FilterField(
            "procurement_method",
            _("Procurement method"),
            "choice",
            [(m.value, _(PROCUREMENT_LABELS[m])) for m in ProcurementMethod],
        ),
        FilterField("in_service_from", _("In service from"), "date"),
        FilterField("in_service_to", _("In service until"), "date"),
    ]
    listing = read_listing(request, _contract_columns(), "-number", fields, sortable=CONTRACT_SORTS)
    t = listing.typed
    filters = ContractListFilters(
        q=t["q"],
        centre_id=t.get("centre_id"),
        state=enum_or_none(ContractState, t["state"]),
        provider=t["provider"],
        purchaser=t["purchaser"],
        category=t["category"],
        procurement_method=enum_or_none(ProcurementMethod, t["procurement_method"]),
        in_service_from=t["in_service_from"],
        in_service_to=t["in_service_to"],
    )
    page = await contract_queries.list_contract_rows(
        ContractRepository(session, principal), filters, listing.order, listing.page
    )
    context: dict[str, Any] = {"page": page, "listing": listing, "centres": centres, **grant_labels()}
    return render(request, "web/contracts/list.html", context)


# --- the review summary of a closed round (评审汇总表) -----------------------------------


@router.get("/evaluations/rounds/{round_id:int}/summary.xlsx")
async def review_summary_export(round_id: IdPath, session: SessionDep, principal: StaffOrAdmin) -> Response:
    summary = await evaluation_exports.review_summary(session, principal, round_id)
    return Response(
        evaluation_exports.review_summary_xlsx(summary),
        media_type=XLSX,
        headers=xlsx_response_headers(f"review-summary-{round_id}"),
    )
