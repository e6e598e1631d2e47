"""Community fund pages: the funds, one fund's accounts with its receipt and allocation forms
and the approval steps, and the public page of a fund (no login)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from api.deps import CurrentPrincipal, IdPath, OptionalPrincipal, SessionDep
from api.pages.forms import form_values, parse, read_form, submit_form
from api.routing import Router
from api.web import register_nav, render
from communities import service as communities
from core.i18n import N_, _
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from funds import service as funds
from funds.models import (
    ALLOCATION_STATE_LABELS,
    DECISION_LABELS,
    PURPOSE_LABELS,
    RESTRICTION_LABELS,
    SCOPE_LABELS,
    SOURCE_LABELS,
    TARGET_LABELS,
    AllocationState,
    FundPurpose,
    FundScope,
    ReceiptSource,
    Restriction,
    StepDecision,
)
from funds.schemas import AllocationCreate, AllocationPayIn, DecisionIn, FundCreate, ReceiptCreate, ReturnIn
from grants.awards import service as awards
from grants.contracts import service as contracts
from grants.programmes import service as programmes
from grants.programmes.models import ProgrammeState

router = Router(include_in_schema=False)

register_nav("/funds", N_("Community funds"), {Role.staff, Role.finance, Role.admin})

FLASH = {
    "fund": N_("The fund is created."),
    "receipt": N_("The receipt is recorded."),
    "allocation": N_("The allocation is requested and its amount committed."),
    "decided": N_("The decision is recorded."),
    "paid": N_("The payment is recorded."),
    "returned": N_("The money returned is credited to the funds it came from."),
}
EVERYTHING = PageParams(page=1, page_size=200)


def _flash(request: Request) -> str | None:
    key = request.query_params.get("msg")
    return _(FLASH[key]) if key in FLASH else None


def _labels() -> dict[str, Any]:
    return {
        "sources": [(s.value, _(SOURCE_LABELS[s])) for s in ReceiptSource],
        "source_label": {k.value: _(v) for k, v in SOURCE_LABELS.items()},
        "restrictions": [(r.value, _(RESTRICTION_LABELS[r])) for r in Restriction],
        "purposes": [(p.value, _(PURPOSE_LABELS[p])) for p in FundPurpose],
        "purpose_label": {k.value: _(v) for k, v in PURPOSE_LABELS.items()},
        "targets": [(t.value, _(TARGET_LABELS[t])) for t in TARGET_LABELS],
        "target_label": {k.value: _(v) for k, v in TARGET_LABELS.items()},
        "state_label": {k.value: _(v) for k, v in ALLOCATION_STATE_LABELS.items()},
        "decision_label": {k.value: _(v) for k, v in DECISION_LABELS.items()},
        "scopes": [(s.value, _(SCOPE_LABELS[s])) for s in FundScope],
        "scope_label": {k.value: _(v) for k, v in SCOPE_LABELS.items()},
        "decisions": [(d.value, _(DECISION_LABELS[d])) for d in StepDecision],
    }


async def _community_options(session: SessionDep, principal: Principal) -> list[tuple[int, str]]:
    return [(c.id, c.name) for c in await communities.list_communities(session, principal)]


@router.get("/funds")
async def fund_list(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    return await _render_list(request, session, principal, {}, {}, status_code=200)


async def _render_list(
    request: Request,
    session: SessionDep,
    principal: Principal,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    status_code: int,
) -> Response:
    page = await funds.list_funds(session, principal, EVERYTHING)
    return render(
        request,
        "web/funds/list.html",
        {
            "funds": page.items,
            "flash": _flash(request),
            "values": values,
            "errors": errors,
            "communities": await _community_options(session, principal),
            "can_create": principal.has(Role.staff) and not principal.read_only,
            **_labels(),
        },
        status_code=status_code,
    )


@router.post("/funds/new")
async def create_fund(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    form = await read_form(request)
    values = form_values(form)
    steps = [s.strip() for s in values.get("approval_steps", "").splitlines() if s.strip()]

    async def created(data: FundCreate) -> Response:
        fund = await funds.create_fund(session, principal, data)
        return RedirectResponse(f"/funds/{fund.id}?msg=fund", status_code=303)

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return await _render_list(request, session, principal, values, errors, status_code=status_code)

    return await submit_form(parse(FundCreate, {**values, "approval_steps": steps}), created, again)


async def _fund_context(session: SessionDep, principal: Principal, fund_id: int) -> dict[str, Any]:
    fund = await funds.get_fund(session, principal, fund_id)
    pools = await funds.pools(session, principal, fund.id)
    receipts = await funds.list_receipts(session, principal, fund.id, EVERYTHING)
    allocations = await funds.list_allocations(session, principal, fund.id, EVERYTHING)
    community_options = await _community_options(session, principal)
    community_names = dict(community_options)
    programme_page = await programmes.list_programmes(session, principal, EVERYTHING)
    programme_options = [
        (p.id, f"{p.name}") for p in programme_page.items if p.state is not ProgrammeState.closed
    ]
    names = {**community_names, **dict(programme_options)}
    award_options = [
        (a.id, a.title) for a in (await awards.list_awards(session, principal, EVERYTHING)).items
    ]
    contract_options = [
        (c.id, c.title) for c in (await contracts.list_contracts(session, principal, EVERYTHING)).items
    ]
    accounts = await funds.accounts(session, fund)
    rows = []
    for allocation in allocations.items:
        step = (
            await funds.step_name(session, allocation) if allocation.state is AllocationState.pending else ""
        )
        rows.append(
            {
                "allocation": allocation,
                "step": step,
                "decide": funds.can_decide(principal, allocation),
                "pay": funds.can_pay(principal, allocation),
            }
        )
    return {
        "fund": fund,
        "pools": [(p, funds.pool_label(p, names)) for p in pools],
        "pool_options": [
            (p.id, f"{funds.pool_label(p, names)} · {_('available')} {p.available:,.2f}") for p in pools
        ],
        "receipts": receipts.items,
        "allocations": rows,
        "accounts": accounts,
        "returns": await funds.returns_of_fund(session, principal, fund.id),
        "communities": community_options,
        "programme_options": programme_options,
        "award_options": award_options,
        "contract_options": contract_options,
        "can_record": principal.has(Role.staff, Role.finance) and not principal.read_only,
        "can_allocate": principal.has(Role.staff) and not principal.read_only,
        **_labels(),
    }


async def _render_fund(
    request: Request,
    session: SessionDep,
    principal: Principal,
    fund_id: int,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    form: str = "",
    error_for: int | None = None,
    status_code: int = 200,
) -> Response:
    context = await _fund_context(session, principal, fund_id)
    return render(
        request,
        "web/funds/fund.html",
        {
            **context,
            "flash": _flash(request),
            "errors": errors or {},
            "values": values or {},
            "form": form,
            "error_for": error_for,
        },
        status_code=status_code,
    )


def _fund_again(
    request: Request,
    session: SessionDep,
    principal: Principal,
    fund_id: int,
    values: dict[str, Any],
    form: str,
    error_for: int | None = None,
) -> Callable[[dict[str, str], int], Awaitable[Response]]:
    """The fund's page again with one form's values and errors."""

    async def again(errors: dict[str, str], status_code: int) -> Response:
        return await _render_fund(
            request,
            session,
            principal,
            fund_id,
            errors=errors,
            values=values,
            form=form,
            error_for=error_for,
            status_code=status_code,
        )

    return again


@router.get("/funds/{fund_id:int}")
async def fund_page(
    request: Request, fund_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    return await _render_fund(request, session, principal, fund_id)


@router.post("/funds/{fund_id:int}/receipts")
async def record_receipt(
    request: Request, fund_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    values = form_values(await read_form(request))
    values["publish_donor"] = "publish_donor" in values

    async def recorded(data: ReceiptCreate) -> Response:
        await funds.record_receipt(session, principal, fund_id, data)
        return RedirectResponse(f"/funds/{fund_id}?msg=receipt#receipts", status_code=303)

    return await submit_form(
        parse(ReceiptCreate, values),
        recorded,
        _fund_again(request, session, principal, fund_id, values, "receipt"),
    )


@router.post("/funds/{fund_id:int}/allocations")
async def request_allocation(
    request: Request, fund_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    values = form_values(await read_form(request))
    target = values.get("target")
    # The form offers all three target lists; only the chosen one is sent on.
    payload = {k: v for k, v in values.items() if not k.endswith("_id") or k in ("pool_id", "community_id")}
    if target in ("programme", "award", "contract") and values.get(f"{target}_id"):
        payload[f"{target}_id"] = values[f"{target}_id"]

    async def requested(data: AllocationCreate) -> Response:
        await funds.request_allocation(session, principal, fund_id, data)
        return RedirectResponse(f"/funds/{fund_id}?msg=allocation#allocations", status_code=303)

    again = _fund_again(request, session, principal, fund_id, values, "allocation")
    return await submit_form(parse(AllocationCreate, payload), requested, again, shown=(409, 422))


@router.post("/funds/{fund_id:int}/returns")
async def record_return(
    request: Request, fund_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """追回: money recovered from a terminated project, credited back to the funds it came from."""
    await funds.get_fund(session, principal, fund_id)
    values = form_values(await read_form(request))

    async def returned(data: ReturnIn) -> Response:
        await funds.return_clawback(session, principal, data)
        return RedirectResponse(f"/funds/{fund_id}?msg=returned#returns", status_code=303)

    again = _fund_again(request, session, principal, fund_id, values, "return")
    return await submit_form(parse(ReturnIn, values), returned, again, shown=(409, 422))


@router.post("/fund-allocations/{allocation_id:int}/decide")
async def decide(
    request: Request, allocation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    allocation = await funds.get_allocation(session, principal, allocation_id)
    values = form_values(await read_form(request))

    async def decided(data: DecisionIn) -> Response:
        await funds.decide(session, principal, allocation_id, data)
        return RedirectResponse(f"/funds/{allocation.fund_id}?msg=decided#allocations", status_code=303)

    again = _fund_again(request, session, principal, allocation.fund_id, values, "decide", allocation_id)
    return await submit_form(parse(DecisionIn, values), decided, again)


@router.post("/fund-allocations/{allocation_id:int}/pay")
async def pay(
    request: Request, allocation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    allocation = await funds.get_allocation(session, principal, allocation_id)
    values = form_values(await read_form(request))

    async def paid(data: AllocationPayIn) -> Response:
        await funds.pay_allocation(session, principal, allocation_id, data)
        return RedirectResponse(f"/funds/{allocation.fund_id}?msg=paid#allocations", status_code=303)

    again = _fund_again(request, session, principal, allocation.fund_id, values, "pay", allocation_id)
    return await submit_form(parse(AllocationPayIn, values), paid, again, shown=())


@router.get("/public/funds")
async def public_fund_list(request: Request, session: SessionDep, principal: OptionalPrincipal) -> Response:
    return render(request, "web/funds/public_list.html", {"funds": await funds.public_funds(session)})


@router.get("/public/funds/{fund_id:int}")
async def public_fund(
    request: Request, fund_id: IdPath, session: SessionDep, principal: OptionalPrincipal
) -> Response:
    """双公开: receipts by source, consenting donors, allocations by project, the balance."""
    accounts = await funds.public_accounts(session, fund_id)
    return render(request, "web/funds/public.html", {"accounts": accounts, "fund": accounts.fund})
