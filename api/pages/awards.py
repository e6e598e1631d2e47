"""Award (project) pages: the list, an award with its agreement, tranches, evaluations,
rectification, progress reports and expense claims."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from api.deps import CurrentPrincipal, IdPath, SessionDep, SettingsDep
from api.pages.forms import M, Parsed, form_values, parse, read_form, submit_form
from api.pages.grant_pages import back, flash, grant_labels
from api.routing import Router
from api.web import register_nav, render
from composition import outcomes
from core.files import FileStore
from core.i18n import N_, _
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from evaluations.rubrics.models import RoundPurpose
from grants.applications import repository as application_queries
from grants.awards import documents, reviews
from grants.awards import repository as award_queries
from grants.awards import service as awards
from grants.awards.models import (
    DocumentKind,
)
from grants.awards.schemas import (
    CloseIn,
    EvaluationOutcomeIn,
    ExpenseClaimIn,
    ProgressReportIn,
    RectifyIn,
    ReviewIn,
    SignIn,
    TerminateIn,
)
from grants.disbursements import service as disbursement_service
from grants.disbursements.schemas import DisbursementCreate
from incubator import service as incubator

router = Router(include_in_schema=False)

register_nav("/awards", N_("Projects"), {Role.staff, Role.finance, Role.admin, Role.applicant})


async def _upload(
    request_form: Any,
    name: str,
    session: SessionDep,
    principal: Principal,
    settings: Any,
    award_id: int,
    kind: DocumentKind,
) -> int | None:
    upload = request_form.get(name)
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    content = await upload.read(settings.upload_max_bytes + 1)
    document = await documents.upload_document(
        session,
        principal,
        FileStore(settings.files_dir),
        award_id,
        kind=kind,
        label=upload.filename,
        filename=upload.filename,
        content=content,
        max_bytes=settings.upload_max_bytes,
    )
    return document.id


async def _award_context(
    session: SessionDep, principal: Principal, award_id: int, errors: dict[str, str] | None = None
) -> dict[str, Any]:

    award = await awards.get_award(session, principal, award_id)
    context = await awards.award_context(session, award)
    is_staff = principal.has(Role.staff) and not principal.read_only
    is_grantee = not principal.read_only and await awards.is_grantee(session, principal, award)
    disbursements = await disbursement_service.list_disbursements(
        session, principal, PageParams(page=1, page_size=100), award_id=award.id
    )
    indicators = await application_queries.indicators_of(session, award.application_id)
    close_allowed = await awards.can_close(session, award)
    return {
        "award": award,
        **context,
        "organisation": await incubator.get_organisation(session, principal, award.organisation_id)
        if principal.has(Role.staff, Role.finance, Role.admin) or principal.sees_all_centres or is_grantee
        else None,
        "rectification": await award_queries.open_rectification(session, award.id),
        "documents": await award_queries.documents_of(session, award.id),
        "reports": await reviews.list_progress_reports(session, principal, award.id),
        "claims": await reviews.list_expense_claims(session, principal, award.id),
        "disbursements": disbursements.items,
        "indicators": indicators,
        "indicator_name": {i.id: f"{i.name}（{i.unit}）" for i in indicators},
        "request_allowed": {t.id: disbursement_service.can_request_tranche(award, t) for t in award.tranches},
        "sign_allowed": awards.can_sign(award),
        "terminate_allowed": awards.can_terminate(award),
        "close_allowed": close_allowed,
        "is_staff": is_staff,
        "is_grantee": is_grantee,
        "errors": errors or {},
        **grant_labels(),
    }


@router.get("/awards/{award_id:int}")
async def award_page(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    context = await _award_context(session, principal, award_id)
    return render(request, "web/awards/award.html", {**context, "flash": flash(request)})


async def _act(
    request: Request,
    session: SessionDep,
    principal: Principal,
    award_id: int,
    form: str,
    parsed: Parsed[M],
    work: Callable[[M], Awaitable[object]],
    msg: str,
) -> Response:
    """Run ``work`` when the form parsed; a field error (422) re-renders the page beside the form."""

    async def done(data: M) -> Response:
        await work(data)
        return back(f"/awards/{award_id}", msg)

    async def again(errors: dict[str, str], status_code: int) -> Response:
        context = await _award_context(session, principal, award_id, errors)
        return render(
            request, "web/awards/award.html", {**context, "open_form": form}, status_code=status_code
        )

    return await submit_form(parsed, done, again)


@router.post("/awards/{award_id:int}/sign")
async def sign(
    request: Request,
    award_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> Response:
    form = await read_form(request)
    parsed = parse(SignIn, form_values(form, skip=("csrf_token", "signed_copy")))

    async def work(data: SignIn) -> None:
        document_id = await _upload(
            form, "signed_copy", session, principal, settings, award_id, DocumentKind.agreement
        )
        await awards.sign_award(
            session, principal, award_id, SignIn(signed_on=data.signed_on, document_id=document_id)
        )

    return await _act(request, session, principal, award_id, "sign", parsed, work, "signed")


@router.post("/awards/{award_id:int}/disbursements")
async def request_disbursement(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    parsed = parse(DisbursementCreate, form_values(await read_form(request)))

    async def work(data: DisbursementCreate) -> None:
        await disbursement_service.request_disbursement(session, principal, data)

    return await _act(request, session, principal, award_id, "request", parsed, work, "requested")


@router.post("/awards/{award_id:int}/evaluation-rounds")
async def start_evaluation(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    purpose = RoundPurpose.final if form.get("purpose") == "final" else RoundPurpose.midterm
    review_round = await outcomes.start_award_evaluation(session, principal, award_id, purpose)
    return RedirectResponse(f"/evaluations/rounds/{review_round.id}", status_code=303)


def _state_form(
    form: str, schema: type[M], change: Callable[[AsyncSession, Principal, int, M], Awaitable[object]]
) -> Callable[..., Awaitable[Response]]:
    """The page handler of a form that changes an award's state: parse the form into
    ``schema``, ``change`` the award, and show the award again (beside the form on an error)."""

    async def handler(
        request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
    ) -> Response:
        parsed = parse(schema, form_values(await read_form(request)))

        async def work(data: M) -> None:
            await change(session, principal, award_id, data)

        return await _act(request, session, principal, award_id, form, parsed, work, "state")

    return handler


# The award's state forms: mid-term or final outcome, rectification, termination, closing.
_evaluation = _state_form("evaluation", EvaluationOutcomeIn, awards.record_outcome)
_rectify = _state_form("rectify", RectifyIn, awards.rectify)
_terminate = _state_form("terminate", TerminateIn, awards.terminate)
_close = _state_form("close", CloseIn, awards.close)
router.post("/awards/{award_id:int}/evaluations", name="award_evaluation")(_evaluation)
router.post("/awards/{award_id:int}/rectify", name="award_rectify")(_rectify)
router.post("/awards/{award_id:int}/terminate", name="award_terminate")(_terminate)
router.post("/awards/{award_id:int}/close", name="award_close")(_close)


@router.post("/awards/{award_id:int}/progress-reports")
async def submit_report(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    values = form_values(await read_form(request))
    actuals = []
    for key in list(values):
        if key.startswith("actual_"):
            actuals.append({"indicator_id": key.removeprefix("actual_"), "actual": values.pop(key)})
    parsed = parse(ProgressReportIn, {**values, "actuals": actuals})

    async def work(data: ProgressReportIn) -> None:
        await reviews.submit_progress_report(session, principal, award_id, data)

    return await _act(request, session, principal, award_id, "report", parsed, work, "report")


def _review(values: dict[str, Any]) -> Parsed[ReviewIn]:
    """A review's form; any message on it is shown beside the comment."""
    data, errors = parse(
        ReviewIn, {"approve": values.get("decision") == "approve", "comment": values.get("comment", "")}
    )
    return data, {"comment": next(iter(errors.values()))} if errors else {}


@router.post("/awards/{award_id:int}/progress-reports/{report_id:int}/review")
async def review_report(
    request: Request, award_id: IdPath, report_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    parsed = _review(form_values(await read_form(request)))

    async def work(data: ReviewIn) -> None:
        await reviews.review_progress_report(session, principal, award_id, report_id, data)

    return await _act(request, session, principal, award_id, f"report-{report_id}", parsed, work, "reviewed")


@router.post("/awards/{award_id:int}/expense-claims")
async def submit_claim(
    request: Request,
    award_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> Response:
    form = await read_form(request)
    values = form_values(form, skip=("csrf_token", "receipt"))
    receipts = [r for r in form.getlist("receipt") if isinstance(r, UploadFile) and r.filename]
    probe, errors = parse(ExpenseClaimIn, {**values, "receipt_ids": [1] if receipts else []})
    if not receipts:
        errors["receipt"] = _("Attach at least one receipt")

    async def work(claim: ExpenseClaimIn) -> None:
        ids = []
        for upload in receipts:
            content = await upload.read(settings.upload_max_bytes + 1)
            document = await documents.upload_document(
                session,
                principal,
                FileStore(settings.files_dir),
                award_id,
                kind=DocumentKind.receipt,
                label=upload.filename or "",
                filename=upload.filename or "receipt",
                content=content,
                max_bytes=settings.upload_max_bytes,
            )
            ids.append(document.id)
        await reviews.submit_expense_claim(
            session, principal, award_id, claim.model_copy(update={"receipt_ids": ids})
        )

    return await _act(request, session, principal, award_id, "claim", (probe, errors), work, "claim")


@router.post("/awards/{award_id:int}/expense-claims/{claim_id:int}/review")
async def review_claim(
    request: Request, award_id: IdPath, claim_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    parsed = _review(form_values(await read_form(request)))

    async def work(data: ReviewIn) -> None:
        await reviews.review_expense_claim(session, principal, award_id, claim_id, data)

    return await _act(request, session, principal, award_id, f"claim-{claim_id}", parsed, work, "reviewed")
