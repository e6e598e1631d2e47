"""Awards: agreement, evaluations, rectification, termination, closing, documents, progress reports,
expense claims, budget execution and the 360Giving export."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Query, UploadFile
from fastapi.responses import Response

from api.deps import (
    CurrentPrincipal,
    IdPath,
    MoneyReader,
    Pagination,
    SessionDep,
    SettingsDep,
    StaffUser,
)
from api.routers.applications import UPLOAD_DOC_MAX
from api.routing import Router, reads_only
from api.schemas import ListResponse
from composition import outcomes
from core.files import FileStore
from core.i18n import N_
from core.identity import service as identity
from core.money import dumps_exact
from evaluations.rounds import service as round_service
from evaluations.rounds.schemas import RoundRead
from funds import service as fund_service
from grants.awards import documents, execution, reviews
from grants.awards import repository as award_queries
from grants.awards import service as awards
from grants.awards.exports import grants_package
from grants.awards.models import Award, AwardState, DocumentKind, ExpenseClaim
from grants.awards.schemas import (
    AwardBrief,
    AwardDetail,
    CloseIn,
    DocumentOut,
    EvaluationOutcomeIn,
    ExecutionRow,
    ExpenseClaimIn,
    ExpenseClaimOut,
    ProgressReportIn,
    ProgressReportOut,
    RectifyIn,
    ReviewIn,
    SignIn,
    TerminateIn,
    TrancheOut,
)

router = Router(prefix="/api/v1", tags=["awards"])


async def award_detail(session: SessionDep, award: Award) -> AwardDetail:
    context = await awards.award_context(session, award)
    fields = {name: getattr(award, name) for name in AwardDetail.model_fields if hasattr(award, name)}
    return AwardDetail.model_validate({**fields, **context}, from_attributes=True)


def claim_out(claim: ExpenseClaim) -> ExpenseClaimOut:
    return ExpenseClaimOut.model_validate(
        {
            **{k: getattr(claim, k) for k in ExpenseClaimOut.model_fields if k != "receipt_ids"},
            "receipt_ids": [r.document_id for r in claim.receipts],
        }
    )


@router.get("/awards", response_model=ListResponse[AwardBrief])
@reads_only
async def list_awards(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    programme_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    state: AwardState | None = None,
) -> ListResponse[AwardBrief]:
    page = await awards.list_awards(session, principal, pagination, programme_id=programme_id, state=state)
    return ListResponse.of_page(page, [AwardBrief.model_validate(a) for a in page.items])


@router.get("/awards/{award_id:int}", response_model=AwardDetail)
@reads_only
async def get_award(award_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> AwardDetail:
    return await award_detail(session, await awards.get_award(session, principal, award_id))


@router.get("/awards/{award_id:int}/tranches", response_model=list[TrancheOut])
async def list_tranches(
    award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[TrancheOut]:
    award = await awards.get_award(session, principal, award_id)
    return [TrancheOut.model_validate(t) for t in award.tranches]


@router.post("/awards/{award_id:int}/sign", response_model=AwardDetail)
async def sign_award(
    award_id: IdPath, data: SignIn, session: SessionDep, principal: StaffUser
) -> AwardDetail:
    return await award_detail(session, await awards.sign_award(session, principal, award_id, data))


@router.post("/awards/{award_id:int}/evaluations", response_model=AwardDetail)
async def record_evaluation(
    award_id: IdPath, data: EvaluationOutcomeIn, session: SessionDep, principal: StaffUser
) -> AwardDetail:
    """Enter a mid-term or final evaluation outcome by hand (closed review rounds report theirs)."""
    return await award_detail(session, await awards.record_outcome(session, principal, award_id, data))


@router.post("/awards/{award_id:int}/rectify", response_model=AwardDetail)
async def rectify_award(
    award_id: IdPath, data: RectifyIn, session: SessionDep, principal: StaffUser
) -> AwardDetail:
    return await award_detail(session, await awards.rectify(session, principal, award_id, data))


@router.post("/awards/{award_id:int}/terminate", response_model=AwardDetail)
async def terminate_award(
    award_id: IdPath, data: TerminateIn, session: SessionDep, principal: StaffUser
) -> AwardDetail:
    return await award_detail(session, await awards.terminate(session, principal, award_id, data))


@router.post("/awards/{award_id:int}/close", response_model=AwardDetail)
async def close_award(
    award_id: IdPath, data: CloseIn, session: SessionDep, principal: StaffUser
) -> AwardDetail:
    return await award_detail(session, await awards.close(session, principal, award_id, data))


@router.get("/awards/{award_id:int}/documents", response_model=list[DocumentOut])
async def list_documents(
    award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[DocumentOut]:
    award = await awards.get_award(session, principal, award_id)
    return [DocumentOut.model_validate(d) for d, _f in await award_queries.documents_of(session, award.id)]


@router.post("/awards/{award_id:int}/documents", response_model=DocumentOut, status_code=201)
async def upload_document(
    award_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(title=N_("File"), json_schema_extra={"maxLength": UPLOAD_DOC_MAX})],
    kind: Annotated[DocumentKind, Form()] = DocumentKind.other,
    label: Annotated[str, Form(max_length=200)] = "",
) -> DocumentOut:
    """Upload a signed agreement or a receipt (PDF, image, Office; checked by content)."""
    content = await file.read(settings.upload_max_bytes + 1)
    document = await documents.upload_document(
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
    _document, stored = await documents.get_document(session, principal, award_id, document_id)
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
    reports = await reviews.list_progress_reports(session, principal, award_id)
    return [ProgressReportOut.model_validate(r) for r in reports]


@router.post("/awards/{award_id:int}/progress-reports", response_model=ProgressReportOut, status_code=201)
async def submit_progress_report(
    award_id: IdPath, data: ProgressReportIn, session: SessionDep, principal: CurrentPrincipal
) -> ProgressReportOut:
    report = await reviews.submit_progress_report(session, principal, award_id, data)
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
    report = await reviews.resubmit_progress_report(session, principal, award_id, report_id, data)
    return ProgressReportOut.model_validate(report)


@router.post(
    "/awards/{award_id:int}/progress-reports/{report_id:int}/review", response_model=ProgressReportOut
)
async def review_progress_report(
    award_id: IdPath, report_id: IdPath, data: ReviewIn, session: SessionDep, principal: StaffUser
) -> ProgressReportOut:
    report = await reviews.review_progress_report(session, principal, award_id, report_id, data)
    return ProgressReportOut.model_validate(report)


@router.get("/awards/{award_id:int}/expense-claims", response_model=list[ExpenseClaimOut])
async def list_expense_claims(
    award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[ExpenseClaimOut]:
    return [claim_out(c) for c in await reviews.list_expense_claims(session, principal, award_id)]


@router.post("/awards/{award_id:int}/expense-claims", response_model=ExpenseClaimOut, status_code=201)
async def submit_expense_claim(
    award_id: IdPath, data: ExpenseClaimIn, session: SessionDep, principal: CurrentPrincipal
) -> ExpenseClaimOut:
    return claim_out(await reviews.submit_expense_claim(session, principal, award_id, data))


@router.post("/awards/{award_id:int}/expense-claims/{claim_id:int}/resubmit", response_model=ExpenseClaimOut)
async def resubmit_expense_claim(
    award_id: IdPath, claim_id: IdPath, data: ExpenseClaimIn, session: SessionDep, principal: CurrentPrincipal
) -> ExpenseClaimOut:
    return claim_out(await reviews.resubmit_expense_claim(session, principal, award_id, claim_id, data))


@router.post("/awards/{award_id:int}/expense-claims/{claim_id:int}/review", response_model=ExpenseClaimOut)
async def review_expense_claim(
    award_id: IdPath, claim_id: IdPath, data: ReviewIn, session: SessionDep, principal: StaffUser
) -> ExpenseClaimOut:
    return claim_out(await reviews.review_expense_claim(session, principal, award_id, claim_id, data))


@router.get("/budget-execution", response_model=list[ExecutionRow])
async def budget_execution(session: SessionDep, principal: MoneyReader) -> list[ExecutionRow]:
    """Granted, due, paid, spent and returned per programme and per category."""
    return await execution.execution_rows(session, principal)


@router.post("/awards/{award_id:int}/evaluation-rounds", response_model=RoundRead, status_code=201)
async def start_award_evaluation(
    award_id: IdPath, data: outcomes.EvaluationRoundIn, session: SessionDep, principal: StaffUser
) -> RoundRead:
    """Open a mid-term or final evaluation round for this award; closing it releases tranches or
    starts rectification."""
    review_round = await outcomes.start_award_evaluation(session, principal, award_id, data.purpose)
    return await round_service.round_read_for(session, principal, review_round)


@router.get("/exports/360giving.json", response_class=Response)
async def export_360giving(session: SessionDep, principal: MoneyReader) -> Response:
    """Awarded grants as a 360Giving 1.4.3 package (amounts as exact JSON numbers)."""
    centre = await identity.get_centre(session, principal.centre_id) if principal.centre_id else None
    slug = centre.slug if centre else "district"
    rows = await award_queries.awarded_grants(session, principal)
    funder = {"id": f"XI-SEEDBED-{slug}", "name": centre.name if centre else "district"}
    package = grants_package(
        rows,
        centre_slug=slug,
        funder_name=funder["name"],
        funder_id=funder["id"],
        prefix=f"seedbed-{slug}",
        funders=await fund_service.funders_of_awards(
            session, principal, {a.id: p.id for a, _o, p in rows}, funder
        ),
    )
    return Response(dumps_exact(package), media_type="application/json")
