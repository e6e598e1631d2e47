"""Disbursements: request, approve or reject, pay (with Idempotency-Key, required to approve and to pay),
and the payments export."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response

from api.deps import (
    CentreStaff,
    CurrentPrincipal,
    FinanceOfficer,
    IdPath,
    MoneyReader,
    Pagination,
    SessionDep,
)
from api.idempotency import IdempotencyKey, RequiredIdempotencyKey, idempotent, required_key
from api.routing import Router, reads_only
from api.schemas import ListResponse
from core.clock import today
from grants.disbursements import service as disbursements
from grants.disbursements.exports import payment_rows, payments_xlsx
from grants.disbursements.models import DisbursementState
from grants.disbursements.schemas import ApproveIn, DisbursementCreate, DisbursementOut, PayIn, RejectIn

router = Router(prefix="/api/v1", tags=["disbursements"])


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _out(value: object) -> DisbursementOut:
    return DisbursementOut.model_validate(value)


@router.get("/disbursements", response_model=ListResponse[DisbursementOut])
@reads_only
async def list_disbursements(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    state: DisbursementState | None = None,
    award_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> ListResponse[DisbursementOut]:
    page = await disbursements.list_disbursements(
        session, principal, pagination, state=state, award_id=award_id
    )
    return ListResponse.of_page(page, [_out(d) for d in page.items])


@router.post("/disbursements", response_model=DisbursementOut, status_code=201)
async def request_disbursement(
    request: Request,
    data: DisbursementCreate,
    session: SessionDep,
    principal: CentreStaff,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Ask finance to pay a due tranche or contract milestone."""

    async def action() -> DisbursementOut:
        return _out(await disbursements.request_disbursement(session, principal, data))

    return await idempotent(request, session, principal, idempotency_key, data, action, status_code=201)


@router.get("/disbursements/export.xlsx", response_class=Response)
async def export_payments(session: SessionDep, principal: MoneyReader) -> Response:
    content = payments_xlsx(await payment_rows(session, principal))
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="payments-{today().isoformat()}.xlsx"'},
    )


@router.get("/disbursements/{disbursement_id:int}", response_model=DisbursementOut)
@reads_only
async def get_disbursement(
    disbursement_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> DisbursementOut:
    return _out(await disbursements.get_disbursement(session, principal, disbursement_id))


@router.post("/disbursements/{disbursement_id:int}/approve", response_model=DisbursementOut)
async def approve_disbursement(
    request: Request,
    disbursement_id: IdPath,
    session: SessionDep,
    principal: FinanceOfficer,
    data: ApproveIn | None = None,
    idempotency_key: RequiredIdempotencyKey = None,
) -> JSONResponse:
    key = required_key(idempotency_key)
    body = data or ApproveIn()

    async def action() -> DisbursementOut:
        return _out(await disbursements.approve(session, principal, disbursement_id, body.note))

    return await idempotent(request, session, principal, key, body, action)


@router.post("/disbursements/{disbursement_id:int}/reject", response_model=DisbursementOut)
async def reject_disbursement(
    request: Request,
    disbursement_id: IdPath,
    data: RejectIn,
    session: SessionDep,
    principal: FinanceOfficer,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def action() -> DisbursementOut:
        return _out(await disbursements.reject(session, principal, disbursement_id, data.reason))

    return await idempotent(request, session, principal, idempotency_key, data, action)


@router.post("/disbursements/{disbursement_id:int}/pay", response_model=DisbursementOut)
async def pay_disbursement(
    request: Request,
    disbursement_id: IdPath,
    data: PayIn,
    session: SessionDep,
    principal: FinanceOfficer,
    idempotency_key: RequiredIdempotencyKey = None,
) -> JSONResponse:
    """Record the payment: voucher number, date and amount (the approved amount)."""
    key = required_key(idempotency_key)

    async def action() -> DisbursementOut:
        return _out(await disbursements.pay(session, principal, disbursement_id, data))

    return await idempotent(request, session, principal, key, data, action)
