"""Finance's pages: disbursements to approve, reject and pay, and budget execution."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.deps import FinanceOfficer, IdPath, MoneyReader, SessionDep
from api.idempotency import run_once
from api.pages.forms import form_values, parse, read_form, submit_form
from api.pages.grant_pages import back, flash, grant_labels
from api.routing import Router
from api.web import register_nav, render
from core.errors import ValidationFailed
from core.i18n import N_, _
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from grants.awards import execution
from grants.disbursements import service as disbursement_service
from grants.disbursements.models import DisbursementState
from grants.disbursements.schemas import PayIn, RejectIn

router = Router(include_in_schema=False)

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
    lines = await disbursement_service.payment_lines(session, [*pending.items, *approved.items, *paid.items])
    line_of = {line.disbursement.id: line for line in lines}
    return {
        "pending": [(line_of[d.id], disbursement_service.can_decide(principal, d)) for d in pending.items],
        "approved": [(line_of[d.id], disbursement_service.can_pay(principal, d)) for d in approved.items],
        "paid": [line_of[d.id] for d in paid.items],
        # One fresh key per form and render: sending the same form twice pays once.
        "form_key": {d.id: secrets.token_urlsafe(18) for d in [*pending.items, *approved.items]},
        **grant_labels(),
    }


def _form_key(form: dict[str, str]) -> str:
    key = form.get("idempotency_key", "").strip()
    if not key:
        raise ValidationFailed.field(
            "idempotency_key", _("The form has no submission key; reload the page and try again")
        )
    return key


@router.get("/finance")
async def finance_queue(request: Request, session: SessionDep, principal: MoneyReader) -> Response:
    context = await _finance_context(session, principal)
    return render(
        request, "web/disbursements/finance.html", {**context, "errors": {}, "flash": flash(request)}
    )


def _finance_again(
    request: Request, session: SessionDep, principal: Principal, disbursement_id: int
) -> Callable[[dict[str, str], int], Awaitable[Response]]:
    """The finance queue again with the errors beside one disbursement's form."""

    async def again(errors: dict[str, str], status_code: int) -> Response:
        context = await _finance_context(session, principal)
        return render(
            request,
            "web/disbursements/finance.html",
            {**context, "errors": errors, "error_for": disbursement_id},
            status_code=status_code,
        )

    return again


@router.post("/finance/disbursements/{disbursement_id:int}/approve")
async def approve(
    request: Request, disbursement_id: IdPath, session: SessionDep, principal: FinanceOfficer
) -> Response:
    form = form_values(await read_form(request))

    async def action() -> object:
        return await disbursement_service.approve(session, principal, disbursement_id)

    ran = await run_once(request, session, principal, _form_key(form), {}, action)
    return back("/finance", "approved" if ran else "already")


@router.post("/finance/disbursements/{disbursement_id:int}/reject")
async def reject(
    request: Request, disbursement_id: IdPath, session: SessionDep, principal: FinanceOfficer
) -> Response:
    parsed = parse(RejectIn, form_values(await read_form(request)))

    async def rejected(data: RejectIn) -> Response:
        await disbursement_service.reject(session, principal, disbursement_id, data.reason)
        return back("/finance", "rejected")

    again = _finance_again(request, session, principal, disbursement_id)
    return await submit_form(parsed, rejected, again, shown=())


@router.post("/finance/disbursements/{disbursement_id:int}/pay")
async def pay(
    request: Request, disbursement_id: IdPath, session: SessionDep, principal: FinanceOfficer
) -> Response:
    form = form_values(await read_form(request))
    key = _form_key(form)
    values = {k: v for k, v in form.items() if k not in ("csrf_token", "idempotency_key")}

    async def paid(data: PayIn) -> Response:
        async def action() -> object:
            return await disbursement_service.pay(session, principal, disbursement_id, data)

        ran = await run_once(request, session, principal, key, data.model_dump(mode="json"), action)
        return back("/finance", "paid" if ran else "already")

    again = _finance_again(request, session, principal, disbursement_id)
    return await submit_form(parse(PayIn, values), paid, again)


@router.get("/budget")
async def budget(request: Request, session: SessionDep, principal: MoneyReader) -> Response:
    rows = await execution.execution_rows(session, principal)
    return render(request, "web/disbursements/budget.html", {"rows": rows, **grant_labels()})
