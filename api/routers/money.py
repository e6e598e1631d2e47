"""Awards (projects), their documents, reports and claims; disbursements; budget execution."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from api import outcomes
from api.deps import CurrentPrincipal, FinanceOfficer, IdPath, Pagination, SessionDep, SettingsDep, StaffUser
from api.errors import register_field_labels
from api.idempotency import IdempotencyKey, idempotent
from api.schemas import ListResponse
from core.clock import today
from core.errors import Forbidden
from core.files import FileStore
from core.i18n import N_, _
from core.identity.models import Role
from core.identity.principal import Principal
from evaluations import service as evaluations_service
from evaluations.schemas import RoundRead
from grants.models import Award, AwardState
from grants.payments import service
from grants.payments.exports import payment_rows, payments_xlsx
from grants.payments.models import DisbursementState, DocumentKind, ExpenseClaim
from grants.payments.schemas import (
    ApproveIn,
    AwardBrief,
    AwardDetail,
    CloseIn,
    DisbursementCreate,
    DisbursementOut,
    DocumentOut,
    EvaluationOutcomeIn,
    ExecutionRow,
    ExpenseClaimIn,
    ExpenseClaimOut,
    PayIn,
    ProgressReportIn,
    ProgressReportOut,
    RectifyIn,
    RejectIn,
    ReviewIn,
    SignIn,
    TerminateIn,
)
from grants.schemas import TrancheOut

# Documented bound of an upload (the settings' upload limit, 20 MB by default, is enforced).
UPLOAD_DOC_MAX = 20 * 1024 * 1024

router = APIRouter(prefix="/api/v1", tags=["money"])

register_field_labels(
    {
        "signed_on": N_("Signing date"),
        "document_id": N_("Signed copy"),
        "deadline": N_("Deadline"),
        "bar_until": N_("Barred until"),
        "period": N_("Period"),
        "narrative": N_("Narrative"),
        "actuals": N_("Indicator actuals"),
        "actual": N_("Actual"),
        "comment": N_("Comment"),
        "approve": N_("Decision"),
        "category": N_("Category"),
        "item": N_("Item"),
        "amount": N_("Amount"),
        "spent_on": N_("Date spent"),
        "receipt_ids": N_("Receipts"),
        "tranche_id": N_("Tranche"),
        "milestone_id": N_("Milestone"),
        "voucher_no": N_("Voucher number"),
        "paid_on": N_("Payment date"),
        "Idempotency-Key": N_("Idempotency key"),
        "grade": N_("Grade"),
        "total": N_("Total score"),
        "purpose": N_("Evaluation"),
        "file": N_("File"),
    }
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def award_detail(session: SessionDep, award: Award) -> AwardDetail:
    context = await service.award_context(session, award)
    fields = {name: getattr(award, name) for name in AwardDetail.model_fields if hasattr(award, name)}
    return AwardDetail.model_validate({**fields, **context}, from_attributes=True)


def claim_out(claim: ExpenseClaim) -> ExpenseClaimOut:
    return ExpenseClaimOut.model_validate(
        {
            **{k: getattr(claim, k) for k in ExpenseClaimOut.model_fields if k != "receipt_ids"},
            "receipt_ids": [r.document_id for r in claim.receipts],
        }
    )


# --- awards -----------------------------------------------------------------------------


@router.get("/awards", response_model=ListResponse[AwardBrief])
async def list_awards(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    programme_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    state: AwardState | None = None,
) -> ListResponse[AwardBrief]:
    page = await service.list_awards(session, principal, pagination, programme_id=programme_id, state=state)
    return ListResponse(
        items=[AwardBrief.model_validate(a) for a in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
    )


@router.get("/awards/{award_id:int}", response_model=AwardDetail)
async def get_award(award_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> AwardDetail:
    return await award_detail(session, await service.get_award(session, principal, award_id))


@router.get("/awards/{award_id:int}/tranches", response_model=list[TrancheOut])
async def list_tranches(
    award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[TrancheOut]:
    award = await service.get_award(session, principal, award_id)
    return [TrancheOut.model_validate(t) for t in award.tranches]


@router.post("/awards/{award_id:int}/sign", response_model=AwardDetail)
async def sign_award(
    award_id: IdPath, data: SignIn, session: SessionDep, principal: StaffUser
) -> AwardDetail:
    return await award_detail(session, await service.sign_award(session, principal, award_id, data))


@router.post("/awards/{award_id:int}/evaluations", response_model=AwardDetail)
async def record_evaluation(
    award_id: IdPath, data: EvaluationOutcomeIn, session: SessionDep, principal: StaffUser
) -> AwardDetail:
    """Enter a mid-term or final evaluation outcome by hand (closed review rounds report theirs)."""
    return await award_detail(session, await service.record_outcome(session, principal, award_id, data))


@router.post("/awards/{award_id:int}/rectify", response_model=AwardDetail)
async def rectify_award(
    award_id: IdPath, data: RectifyIn, session: SessionDep, principal: StaffUser
) -> AwardDetail:
    return await award_detail(session, await service.rectify(session, principal, award_id, data))


@router.post("/awards/{award_id:int}/terminate", response_model=AwardDetail)
async def terminate_award(
    award_id: IdPath, data: TerminateIn, session: SessionDep, principal: StaffUser
) -> AwardDetail:
    return await award_detail(session, await service.terminate(session, principal, award_id, data))


@router.post("/awards/{award_id:int}/close", response_model=AwardDetail)
async def close_award(
    award_id: IdPath, data: CloseIn, session: SessionDep, principal: StaffUser
) -> AwardDetail:
    return await award_detail(session, await service.close(session, principal, award_id, data))


@router.get("/awards/{award_id:int}/documents", response_model=list[DocumentOut])
async def list_documents(
    award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[DocumentOut]:
    award = await service.get_award(session, principal, award_id)
    return [DocumentOut.model_validate(d) for d, _f in await service.documents_of(session, award.id)]


@router.post("/awards/{award_id:int}/documents", response_model=DocumentOut, status_code=201)
async def upload_document(
    award_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(json_schema_extra={"maxLength": UPLOAD_DOC_MAX})],
    kind: Annotated[DocumentKind, Form()] = DocumentKind.other,
    label: Annotated[str, Form(max_length=200)] = "",
) -> DocumentOut:
    """Upload a signed agreement or a receipt (PDF, image, Office; checked by content)."""
    content = await file.read(settings.upload_max_bytes + 1)
    document = await service.upload_document(
        session,
        principal,
        FileStore(settings.files_dir),
        award_id,
        kind=kind,
        label=label,
        filename=file.filename or "file",
        content=content,
        max_bytes=settings.upload_max_bytes,
    )
    return DocumentOut.model_validate(document)


@router.get("/awards/{award_id:int}/documents/{document_id:int}", response_class=Response)
async def download_document(
    award_id: IdPath,
    document_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> Response:
    _document, stored = await service.get_document(session, principal, award_id, document_id)
    content = FileStore(settings.files_dir).read(stored.storage_key)
    return Response(
        content,
        media_type=stored.content_type,
        headers={"Content-Disposition": f'attachment; filename="document-{document_id}"'},
    )


@router.get("/awards/{award_id:int}/progress-reports", response_model=list[ProgressReportOut])
async def list_progress_reports(
    award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[ProgressReportOut]:
    reports = await service.list_progress_reports(session, principal, award_id)
    return [ProgressReportOut.model_validate(r) for r in reports]


@router.post("/awards/{award_id:int}/progress-reports", response_model=ProgressReportOut, status_code=201)
async def submit_progress_report(
    award_id: IdPath, data: ProgressReportIn, session: SessionDep, principal: CurrentPrincipal
) -> ProgressReportOut:
    report = await service.submit_progress_report(session, principal, award_id, data)
    return ProgressReportOut.model_validate(report)


@router.post(
    "/awards/{award_id:int}/progress-reports/{report_id:int}/resubmit", response_model=ProgressReportOut
)
async def resubmit_progress_report(
    award_id: IdPath,
    report_id: IdPath,
    data: ProgressReportIn,
    session: SessionDep,
    principal: CurrentPrincipal,
) -> ProgressReportOut:
    report = await service.resubmit_progress_report(session, principal, award_id, report_id, data)
    return ProgressReportOut.model_validate(report)


@router.post(
    "/awards/{award_id:int}/progress-reports/{report_id:int}/review", response_model=ProgressReportOut
)
async def review_progress_report(
    award_id: IdPath, report_id: IdPath, data: ReviewIn, session: SessionDep, principal: StaffUser
) -> ProgressReportOut:
    report = await service.review_progress_report(session, principal, award_id, report_id, data)
    return ProgressReportOut.model_validate(report)


@router.get("/awards/{award_id:int}/expense-claims", response_model=list[ExpenseClaimOut])
async def list_expense_claims(
    award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[ExpenseClaimOut]:
    return [claim_out(c) for c in await service.list_expense_claims(session, principal, award_id)]


@router.post("/awards/{award_id:int}/expense-claims", response_model=ExpenseClaimOut, status_code=201)
async def submit_expense_claim(
    award_id: IdPath, data: ExpenseClaimIn, session: SessionDep, principal: CurrentPrincipal
) -> ExpenseClaimOut:
    return claim_out(await service.submit_expense_claim(session, principal, award_id, data))


@router.post("/awards/{award_id:int}/expense-claims/{claim_id:int}/resubmit", response_model=ExpenseClaimOut)
async def resubmit_expense_claim(
    award_id: IdPath, claim_id: IdPath, data: ExpenseClaimIn, session: SessionDep, principal: CurrentPrincipal
) -> ExpenseClaimOut:
    return claim_out(await service.resubmit_expense_claim(session, principal, award_id, claim_id, data))


@router.post("/awards/{award_id:int}/expense-claims/{claim_id:int}/review", response_model=ExpenseClaimOut)
async def review_expense_claim(
    award_id: IdPath, claim_id: IdPath, data: ReviewIn, session: SessionDep, principal: StaffUser
) -> ExpenseClaimOut:
    return claim_out(await service.review_expense_claim(session, principal, award_id, claim_id, data))


# --- disbursements ----------------------------------------------------------------------


def _out(value: object) -> DisbursementOut:
    return DisbursementOut.model_validate(value)


@router.get("/disbursements", response_model=ListResponse[DisbursementOut])
async def list_disbursements(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    state: DisbursementState | None = None,
    award_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> ListResponse[DisbursementOut]:
    page = await service.list_disbursements(session, principal, pagination, state=state, award_id=award_id)
    return ListResponse(
        items=[_out(d) for d in page.items], total=page.total, page=page.page, page_size=page.page_size
    )


@router.post("/disbursements", response_model=DisbursementOut, status_code=201)
async def request_disbursement(
    request: Request,
    data: DisbursementCreate,
    session: SessionDep,
    principal: StaffUser,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Ask finance to pay a due tranche or contract milestone."""

    async def action() -> DisbursementOut:
        return _out(await service.request_disbursement(session, principal, data))

    return await idempotent(request, session, principal, idempotency_key, data, action, status_code=201)


@router.get("/disbursements/export.xlsx", response_class=Response)
async def export_payments(session: SessionDep, principal: CurrentPrincipal) -> Response:
    _require_money_reader(principal)
    content = payments_xlsx(await payment_rows(session, principal))
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="payments-{today().isoformat()}.xlsx"'},
    )


def _require_money_reader(principal: Principal) -> None:
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        raise Forbidden(_("Your role does not allow this"))


@router.get("/disbursements/{disbursement_id:int}", response_model=DisbursementOut)
async def get_disbursement(
    disbursement_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> DisbursementOut:
    return _out(await service.get_disbursement(session, principal, disbursement_id))


@router.post("/disbursements/{disbursement_id:int}/approve", response_model=DisbursementOut)
async def approve_disbursement(
    request: Request,
    disbursement_id: IdPath,
    session: SessionDep,
    principal: FinanceOfficer,
    data: ApproveIn | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    body = data or ApproveIn()

    async def action() -> DisbursementOut:
        return _out(await service.approve(session, principal, disbursement_id, body.note))

    return await idempotent(request, session, principal, idempotency_key, body, action)


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
        return _out(await service.reject(session, principal, disbursement_id, data.reason))

    return await idempotent(request, session, principal, idempotency_key, data, action)


@router.post("/disbursements/{disbursement_id:int}/pay", response_model=DisbursementOut)
async def pay_disbursement(
    request: Request,
    disbursement_id: IdPath,
    data: PayIn,
    session: SessionDep,
    principal: FinanceOfficer,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record the payment: voucher number, date and amount (the approved amount)."""

    async def action() -> DisbursementOut:
        return _out(await service.pay(session, principal, disbursement_id, data))

    return await idempotent(request, session, principal, idempotency_key, data, action)


@router.get("/budget-execution", response_model=list[ExecutionRow])
async def budget_execution(session: SessionDep, principal: CurrentPrincipal) -> list[ExecutionRow]:
    """Granted, due, paid, spent and returned per programme and per category."""
    _require_money_reader(principal)
    return await service.execution_rows(session, principal)


@router.post("/awards/{award_id:int}/evaluation-rounds", response_model=RoundRead, status_code=201)
async def start_award_evaluation(
    award_id: IdPath, data: outcomes.EvaluationRoundIn, session: SessionDep, principal: StaffUser
) -> RoundRead:
    """Open a mid-term or final evaluation round for this award; closing it releases tranches or
    starts rectification."""
    review_round = await outcomes.start_award_evaluation(session, principal, award_id, data.purpose)
    return await evaluations_service.round_read_for(session, principal, review_round)
