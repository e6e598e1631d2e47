"""Finance's pages: disbursements to approve, reject and pay, and budget execution."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import CurrentPrincipal, IdPath, SessionDep
from api.pages.forms import domain_errors, form_values, parse, read_form
from api.pages.grant_pages import back, flash, grant_labels, require_money_reader
from api.web import register_nav, render
from core.errors import DomainError
from core.i18n import N_
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from grants.awards import execution
from grants.disbursements import service as disbursement_service
from grants.disbursements.models import DisbursementState
from grants.disbursements.schemas import PayIn, RejectIn

router = APIRouter(include_in_schema=False)

register_nav("/finance", N_("Finance"), {Role.finance})
register_nav("/budget", N_("Budget execution"), {Role.finance, Role.staff, Role.admin})


async def _finance_context(session: SessionDep, principal: Principal) -> dict[str, Any]:
    everything = PageParams(page=1, page_size=200)
    pending = await disbursement_service.list_disbursements(
        session, principal, everything, state=DisbursementState.requested
    )
    approved = await disbursement_service.list_disbursements(
        session, principal, everything, state=DisbursementState.approved
    )
    paid = await disbursement_service.list_disbursements(
        session, principal, PageParams(page=1, page_size=20), state=DisbursementState.paid
    )
    return {
        "pending": [(d, disbursement_service.can_decide(principal, d)) for d in pending.items],
        "approved": [(d, disbursement_service.can_pay(principal, d)) for d in approved.items],
        "paid": paid.items,
        **grant_labels(),
    }


@router.get("/finance")
async def finance_queue(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    require_money_reader(principal)
    context = await _finance_context(session, principal)
    return render(
        request, "web/disbursements/finance.html", {**context, "errors": {}, "flash": flash(request)}
    )


async def _finance_errors(
    request: Request, session: SessionDep, principal: Principal, disbursement_id: int, errors: dict[str, str]
) -> Response:
    context = await _finance_context(session, principal)
    return render(
        request,
        "web/disbursements/finance.html",
        {**context, "errors": errors, "error_for": disbursement_id},
        status_code=422,
    )


@router.post("/finance/disbursements/{disbursement_id:int}/approve")
async def approve(disbursement_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> Response:
    await disbursement_service.approve(session, principal, disbursement_id)
    return back("/finance", "approved")


@router.post("/finance/disbursements/{disbursement_id:int}/reject")
async def reject(
    request: Request, disbursement_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = parse(RejectIn, form_values(await read_form(request)))
    if data is not None:
        await disbursement_service.reject(session, principal, disbursement_id, data.reason)
        return back("/finance", "rejected")
    return await _finance_errors(request, session, principal, disbursement_id, errors)


@router.post("/finance/disbursements/{disbursement_id:int}/pay")
async def pay(
    request: Request, disbursement_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = parse(PayIn, form_values(await read_form(request)))
    if data is not None:
        try:
            await disbursement_service.pay(session, principal, disbursement_id, data)
            return back("/finance", "paid")
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            errors = domain_errors(exc)
    return await _finance_errors(request, session, principal, disbursement_id, errors)


@router.get("/budget")
async def budget(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    require_money_reader(principal)
    rows = await execution.execution_rows(session, principal)
    return render(request, "web/disbursements/budget.html", {"rows": rows, **grant_labels()})
