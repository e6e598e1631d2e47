"""Community funds: funds, receipts (with their attachment), allocations and their approval
steps, payments out, returns of clawed-back money, Excel exports, and the public accounts."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import File, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from api.deps import CurrentPrincipal, FinanceOfficer, IdPath, Pagination, SessionDep, SettingsDep, StaffUser
from api.idempotency import IdempotencyKey, idempotent
from api.routers.applications import UPLOAD_DOC_MAX
from api.routing import Router
from api.schemas import ListResponse
from core.clock import today
from core.files import FileStore
from core.i18n import N_
from funds import exports
from funds import service as funds
from funds.models import AllocationState, ReceiptSource
from funds.schemas import (
    AllocationCreate,
    AllocationOut,
    AllocationPayIn,
    DecisionIn,
    FundCreate,
    FundDetailOut,
    FundingOut,
    FundOut,
    PoolOut,
    ProgrammeFundingsOut,
    PublicAllocation,
    PublicFundOut,
    PublicLine,
    PublicReceipt,
    ReceiptCreate,
    ReceiptOut,
    ReturnIn,
    ReturnOut,
)
from grants.programmes import service as programmes

router = Router(prefix="/api/v1", tags=["funds"])
public_router = Router(prefix="/api/v1", tags=["public"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(content: bytes, name: str) -> Response:
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}-{today().isoformat()}.xlsx"'},
    )


@router.get("/funds", response_model=ListResponse[FundOut])
async def list_funds(
    session: SessionDep, principal: CurrentPrincipal, pagination: Pagination
) -> ListResponse[FundOut]:
    page = await funds.list_funds(session, principal, pagination)
    return ListResponse.of_page(page, [FundOut.model_validate(f) for f in page.items])


@router.post("/funds", response_model=FundOut, status_code=201)
async def create_fund(data: FundCreate, session: SessionDep, principal: StaffUser) -> FundOut:
    return FundOut.model_validate(await funds.create_fund(session, principal, data))


@router.get("/funds/export/receipts.xlsx", response_class=Response)
async def export_receipts(session: SessionDep, principal: CurrentPrincipal) -> Response:
    return _xlsx(await exports.receipts_xlsx(session, principal), "fund-receipts")


@router.get("/funds/export/allocations.xlsx", response_class=Response)
async def export_allocations(session: SessionDep, principal: CurrentPrincipal) -> Response:
    return _xlsx(await exports.allocations_xlsx(session, principal), "fund-allocations")


async def _detail(session: SessionDep, principal: CurrentPrincipal, fund_id: int) -> FundDetailOut:
    fund = await funds.get_fund(session, principal, fund_id)
    pools = await funds.pools(session, principal, fund_id)
    return FundDetailOut.model_validate(
        {**FundOut.model_validate(fund).model_dump(), "pools": [PoolOut.model_validate(p) for p in pools]}
    )


@router.get("/funds/{fund_id:int}", response_model=FundDetailOut)
async def get_fund(fund_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> FundDetailOut:
    return await _detail(session, principal, fund_id)


@router.get("/funds/{fund_id:int}/receipts", response_model=ListResponse[ReceiptOut])
async def list_receipts(
    fund_id: IdPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    source: ReceiptSource | None = None,
) -> ListResponse[ReceiptOut]:
    page = await funds.list_receipts(session, principal, fund_id, pagination, source)
    return ListResponse.of_page(page, [ReceiptOut.model_validate(r) for r in page.items])


@router.post("/funds/{fund_id:int}/receipts", response_model=ReceiptOut, status_code=201)
async def record_receipt(
    request: Request,
    fund_id: IdPath,
    data: ReceiptCreate,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Money or an in-kind gift comes in (staff or finance record it)."""

    async def action() -> ReceiptOut:
        return ReceiptOut.model_validate(await funds.record_receipt(session, principal, fund_id, data))

    return await idempotent(request, session, principal, idempotency_key, data, action, status_code=201)


@router.post("/funds/{fund_id:int}/receipts/{receipt_id:int}/attachment", response_model=ReceiptOut)
async def upload_receipt_attachment(
    fund_id: IdPath,
    receipt_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(title=N_("File"), json_schema_extra={"maxLength": UPLOAD_DOC_MAX})],
) -> ReceiptOut:
    """The scanned donation receipt (捐赠票据) or bank slip: PDF, image or Office, checked by content."""
    content = await file.read(settings.upload_max_bytes + 1)
    receipt = await funds.attach_receipt_file(
        session,
        principal,
        FileStore(settings.files_dir),
        fund_id,
        receipt_id,
        filename=file.filename or "file",
        content=content,
        max_bytes=settings.upload_max_bytes,
    )
    return ReceiptOut.model_validate(receipt)


@router.get("/funds/{fund_id:int}/receipts/{receipt_id:int}/attachment", response_class=Response)
async def download_receipt_attachment(
    fund_id: IdPath,
    receipt_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> Response:
    stored = await funds.receipt_file(session, principal, fund_id, receipt_id)
    return Response(
        FileStore(settings.files_dir).read(stored.storage_key),
        media_type=stored.content_type,
        headers={"Content-Disposition": f'attachment; filename="receipt-{receipt_id}"'},
    )


@router.get("/funds/{fund_id:int}/allocations", response_model=ListResponse[AllocationOut])
async def list_allocations(
    fund_id: IdPath,
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    state: AllocationState | None = None,
) -> ListResponse[AllocationOut]:
    page = await funds.list_allocations(session, principal, fund_id, pagination, state)
    return ListResponse.of_page(page, [AllocationOut.model_validate(a) for a in page.items])


@router.post("/funds/{fund_id:int}/allocations", response_model=AllocationOut, status_code=201)
async def request_allocation(
    request: Request,
    fund_id: IdPath,
    data: AllocationCreate,
    session: SessionDep,
    principal: StaffUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Propose an allocation; its amount is committed at once, or refused (409) with the figures."""

    async def action() -> AllocationOut:
        return AllocationOut.model_validate(await funds.request_allocation(session, principal, fund_id, data))

    return await idempotent(request, session, principal, idempotency_key, data, action, status_code=201)


@router.get("/fund-allocations/{allocation_id:int}", response_model=AllocationOut)
async def get_allocation(
    allocation_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> AllocationOut:
    return AllocationOut.model_validate(await funds.get_allocation(session, principal, allocation_id))


@router.post("/fund-allocations/{allocation_id:int}/decide", response_model=AllocationOut)
async def decide_allocation(
    request: Request,
    allocation_id: IdPath,
    data: DecisionIn,
    session: SessionDep,
    principal: CurrentPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the decision of the allocation's current approval step (never by its requester)."""

    async def action() -> AllocationOut:
        return AllocationOut.model_validate(await funds.decide(session, principal, allocation_id, data))

    return await idempotent(request, session, principal, idempotency_key, data, action)


@router.post("/fund-allocations/{allocation_id:int}/pay", response_model=AllocationOut)
async def pay_allocation(
    request: Request,
    allocation_id: IdPath,
    data: AllocationPayIn,
    session: SessionDep,
    principal: FinanceOfficer,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def action() -> AllocationOut:
        return AllocationOut.model_validate(
            await funds.pay_allocation(session, principal, allocation_id, data)
        )

    return await idempotent(request, session, principal, idempotency_key, data, action)


@router.get("/programmes/{programme_id:int}/fundings", response_model=ProgrammeFundingsOut)
async def programme_fundings(
    programme_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> ProgrammeFundingsOut:
    """The funds that finance a programme; its total budget is their sum."""
    funds.require_reader(principal)
    rows = await funds.programme_fundings(session, principal, programme_id)
    programme = await programmes.get_programme(session, principal, programme_id)
    return ProgrammeFundingsOut(
        programme_id=programme.id,
        total_budget=programme.total_budget,
        fundings_total=sum((a.amount for a, _f in rows), Decimal("0.00")),
        fundings=[
            FundingOut(
                allocation_id=a.id,
                fund_id=f.id,
                fund_name=f.name,
                title=a.title,
                amount=a.amount,
                returned=a.returned,
                state=a.state,
            )
            for a, f in rows
        ],
    )


@router.post("/fund-returns", response_model=list[ReturnOut], status_code=201)
async def return_clawback(
    data: ReturnIn, session: SessionDep, principal: CurrentPrincipal
) -> list[ReturnOut]:
    """追回: money recovered from a terminated award goes back to the funds it came from."""
    return [ReturnOut.model_validate(r) for r in await funds.return_clawback(session, principal, data)]


@public_router.get("/public/funds/{fund_id:int}", response_model=PublicFundOut)
async def public_fund(fund_id: IdPath, session: SessionDep) -> PublicFundOut:
    """A fund's public accounts (双公开), no login: donors are named only with their consent."""
    accounts = await funds.public_accounts(session, fund_id)
    fund = accounts.fund
    return PublicFundOut(
        id=fund.id,
        name=fund.name,
        custodian=fund.custodian,
        committee=fund.committee,
        received=fund.received,
        in_kind_value=fund.in_kind_value,
        committed=fund.committed,
        spent=fund.spent,
        available=fund.available,
        leverage=accounts.leverage,
        by_source=[PublicLine(label=label, amount=amount) for label, amount in accounts.by_source],
        receipts=[
            PublicReceipt(
                received_on=r["received_on"],
                source=r["source"],
                donor=r["donor"],
                amount=r["amount"],
                in_kind=r["in_kind"],
            )
            for r in accounts.receipts
        ],
        allocations=[
            PublicAllocation(
                title=a["title"],
                target=a["target"],
                purpose=a["purpose"],
                amount=a["amount"],
                returned=a["returned"],
                state=a["state"],
            )
            for a in accounts.allocations
        ],
    )
