"""Pages for money: finance queue and budget dashboard, award pages for staff and grantees,
purchased-service contracts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from api import outcomes
from api.deps import CurrentPrincipal, IdPath, Pagination, SessionDep, SettingsDep
from api.pages.forms import domain_errors, form_values, parse, read_form
from api.web import register_nav, render
from core.clock import today
from core.errors import DomainError, Forbidden
from core.files import FileStore
from core.i18n import N_, _
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from evaluations.models import RoundPurpose
from grants.contracts import service as contracts
from grants.contracts.models import (
    CONDITION_LABELS,
    CONTRACT_STATE_LABELS,
    MILESTONE_STATE_LABELS,
    PROCUREMENT_LABELS,
    MilestoneCondition,
    MilestoneState,
    ProcurementMethod,
)
from grants.contracts.schemas import CompleteIn, ContractIn, ContractTerminateIn, DateIn, EvaluateIn
from grants.models import (
    AWARD_STATE_LABELS,
    BUDGET_CATEGORY_LABELS,
    TRANCHE_STATE_LABELS,
    TRIGGER_LABELS,
    AwardState,
    BudgetCategory,
    Indicator,
)
from grants.payments import service
from grants.payments.models import (
    DISBURSEMENT_STATE_LABELS,
    PURPOSE_LABELS,
    REVIEW_STATE_LABELS,
    DisbursementState,
    DocumentKind,
    EvaluationPurpose,
)
from grants.payments.schemas import (
    CloseIn,
    DisbursementCreate,
    EvaluationOutcomeIn,
    ExpenseClaimIn,
    PayIn,
    ProgressReportIn,
    RectifyIn,
    RejectIn,
    ReviewIn,
    SignIn,
    TerminateIn,
)
from incubator import service as incubator
from incubator.models import FIELD_LABELS, ServiceField

router = APIRouter(include_in_schema=False)

register_nav("/finance", N_("Finance"), {Role.finance})
register_nav("/budget", N_("Budget execution"), {Role.finance, Role.staff, Role.admin})
register_nav("/awards", N_("Projects"), {Role.staff, Role.finance, Role.admin, Role.applicant})
register_nav("/contracts", N_("Purchased services"), {Role.staff, Role.finance, Role.admin})

MESSAGES = {
    "requested": N_("The disbursement is requested; finance will review it."),
    "approved": N_("The disbursement is approved."),
    "rejected": N_("The disbursement is rejected."),
    "paid": N_("The payment is recorded."),
    "saved": N_("Saved."),
    "signed": N_("The agreement is recorded as signed."),
    "report": N_("The progress report is submitted."),
    "claim": N_("The expense claim is submitted."),
    "reviewed": N_("The review is recorded."),
    "state": N_("The project is updated."),
    "contract": N_("The contract is updated."),
}
EVENT_LABELS = {
    "sign": N_("Agreement signed"),
    "evaluation_passed": N_("Evaluation passed"),
    "rectify": N_("Rectification"),
    "terminate": N_("Terminated"),
    "close": N_("Completed"),
    "paid": N_("Payment"),
    "progress_report": N_("Progress report submitted"),
    "progress_report_resubmitted": N_("Progress report resubmitted"),
    "progress_report_approved": N_("Progress report approved"),
    "progress_report_returned": N_("Progress report returned"),
    "expense_claim": N_("Expense claim submitted"),
    "expense_claim_resubmitted": N_("Expense claim resubmitted"),
    "expense_claim_approved": N_("Expense claim approved"),
    "expense_claim_returned": N_("Expense claim returned"),
}
GRADE_CHOICES = [
    ("excellent", N_("Excellent")),
    ("good", N_("Good")),
    ("pass", N_("Pass")),
    ("fail", N_("Fail")),
]


def _flash(request: Request) -> str | None:
    key = request.query_params.get("msg")
    return _(MESSAGES[key]) if key in MESSAGES else None


def _back(path: str, msg: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?msg={msg}", status_code=303)


def _labels() -> dict[str, Any]:
    return {
        "award_state": {k.value: _(v) for k, v in AWARD_STATE_LABELS.items()},
        "tranche_state": {k.value: _(v) for k, v in TRANCHE_STATE_LABELS.items()},
        "trigger_label": {k.value: _(v) for k, v in TRIGGER_LABELS.items()},
        "disbursement_state": {k.value: _(v) for k, v in DISBURSEMENT_STATE_LABELS.items()},
        "review_state": {k.value: _(v) for k, v in REVIEW_STATE_LABELS.items()},
        "purpose_label": {k.value: _(v) for k, v in PURPOSE_LABELS.items()},
        "budget_categories": [(c.value, _(BUDGET_CATEGORY_LABELS[c])) for c in BudgetCategory],
        "category_label": {k.value: _(v) for k, v in BUDGET_CATEGORY_LABELS.items()},
        "purposes": [(p.value, _(PURPOSE_LABELS[p])) for p in EvaluationPurpose],
        "grade_label": {code: _(label) for code, label in GRADE_CHOICES},
        "event_label": {k: _(v) for k, v in EVENT_LABELS.items()},
        "contract_state": {k.value: _(v) for k, v in CONTRACT_STATE_LABELS.items()},
        "milestone_state": {k.value: _(v) for k, v in MILESTONE_STATE_LABELS.items()},
        "condition_label": {k.value: _(v) for k, v in CONDITION_LABELS.items()},
        "conditions": [(c.value, _(CONDITION_LABELS[c])) for c in MilestoneCondition],
        "procurement_label": {k.value: _(v) for k, v in PROCUREMENT_LABELS.items()},
        "procurement_methods": [(m.value, _(PROCUREMENT_LABELS[m])) for m in ProcurementMethod],
        "service_fields": [(f.value, _(FIELD_LABELS[f])) for f in ServiceField],
        "field_label": {k.value: _(v) for k, v in FIELD_LABELS.items()},
        "today": today(),
    }


def _require_money_reader(principal: Principal) -> None:
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        raise Forbidden(_("Your role does not allow this"))


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
    document = await service.upload_document(
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


# --- finance ----------------------------------------------------------------------------


async def _finance_context(session: SessionDep, principal: Principal) -> dict[str, Any]:
    everything = PageParams(page=1, page_size=200)
    pending = await service.list_disbursements(
        session, principal, everything, state=DisbursementState.requested
    )
    approved = await service.list_disbursements(
        session, principal, everything, state=DisbursementState.approved
    )
    paid = await service.list_disbursements(
        session, principal, PageParams(page=1, page_size=20), state=DisbursementState.paid
    )
    return {
        "pending": [(d, service.can_decide(principal, d)) for d in pending.items],
        "approved": [(d, service.can_pay(principal, d)) for d in approved.items],
        "paid": paid.items,
        **_labels(),
    }


@router.get("/finance")
async def finance_queue(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    _require_money_reader(principal)
    context = await _finance_context(session, principal)
    return render(request, "web/money/finance.html", {**context, "errors": {}, "flash": _flash(request)})


async def _finance_errors(
    request: Request, session: SessionDep, principal: Principal, disbursement_id: int, errors: dict[str, str]
) -> Response:
    context = await _finance_context(session, principal)
    return render(
        request,
        "web/money/finance.html",
        {**context, "errors": errors, "error_for": disbursement_id},
        status_code=422,
    )


@router.post("/finance/disbursements/{disbursement_id:int}/approve")
async def approve(disbursement_id: IdPath, session: SessionDep, principal: CurrentPrincipal) -> Response:
    await service.approve(session, principal, disbursement_id)
    return _back("/finance", "approved")


@router.post("/finance/disbursements/{disbursement_id:int}/reject")
async def reject(
    request: Request, disbursement_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = parse(RejectIn, form_values(await read_form(request)))
    if data is not None:
        await service.reject(session, principal, disbursement_id, data.reason)
        return _back("/finance", "rejected")
    return await _finance_errors(request, session, principal, disbursement_id, errors)


@router.post("/finance/disbursements/{disbursement_id:int}/pay")
async def pay(
    request: Request, disbursement_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = parse(PayIn, form_values(await read_form(request)))
    if data is not None:
        try:
            await service.pay(session, principal, disbursement_id, data)
            return _back("/finance", "paid")
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            errors = domain_errors(exc)
    return await _finance_errors(request, session, principal, disbursement_id, errors)


@router.get("/budget")
async def budget(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    _require_money_reader(principal)
    rows = await service.execution_rows(session, principal)
    return render(request, "web/money/budget.html", {"rows": rows, **_labels()})


# --- awards -----------------------------------------------------------------------------


@router.get("/awards")
async def award_list(
    request: Request, session: SessionDep, principal: CurrentPrincipal, pagination: Pagination
) -> Response:
    state_param = request.query_params.get("state", "")
    state = AwardState(state_param) if state_param in AwardState.__members__ else None
    page = await service.list_awards(session, principal, pagination, state=state)
    return render(
        request,
        "web/money/awards.html",
        {
            "page": page,
            "state": state_param,
            "states": [(s.value, _(AWARD_STATE_LABELS[s])) for s in AwardState],
            "query": f"state={state_param}" if state else "",
            **_labels(),
        },
    )


async def _award_context(
    session: SessionDep, principal: Principal, award_id: int, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    from sqlalchemy import select

    award = await service.get_award(session, principal, award_id)
    context = await service.award_context(session, award)
    is_staff = principal.has(Role.staff) and not principal.read_only
    is_grantee = not principal.read_only and await service.is_grantee(session, principal, award)
    disbursements = await service.list_disbursements(
        session, principal, PageParams(page=1, page_size=100), award_id=award.id
    )
    indicators = (
        (
            await session.execute(
                select(Indicator)
                .where(Indicator.application_id == award.application_id)
                .order_by(Indicator.seq)
            )
        )
        .scalars()
        .all()
    )
    close_allowed = await service.can_close(session, award)
    return {
        "award": award,
        **context,
        "organisation": await incubator.get_organisation(session, principal, award.organisation_id)
        if principal.has(Role.staff, Role.finance, Role.admin) or principal.sees_all_centres or is_grantee
        else None,
        "rectification": await service.open_rectification(session, award.id),
        "documents": await service.documents_of(session, award.id),
        "reports": await service.list_progress_reports(session, principal, award.id),
        "claims": await service.list_expense_claims(session, principal, award.id),
        "disbursements": disbursements.items,
        "indicators": indicators,
        "indicator_name": {i.id: f"{i.name}（{i.unit}）" for i in indicators},
        "request_allowed": {t.id: service.can_request_tranche(award, t) for t in award.tranches},
        "sign_allowed": service.can_sign(award),
        "terminate_allowed": service.can_terminate(award),
        "close_allowed": close_allowed,
        "is_staff": is_staff,
        "is_grantee": is_grantee,
        "errors": errors or {},
        **_labels(),
    }


@router.get("/awards/{award_id:int}")
async def award_page(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    context = await _award_context(session, principal, award_id)
    return render(request, "web/money/award.html", {**context, "flash": _flash(request)})


async def _award_errors(
    request: Request,
    session: SessionDep,
    principal: Principal,
    award_id: int,
    errors: dict[str, str],
    form: str,
) -> Response:
    context = await _award_context(session, principal, award_id, errors)
    return render(request, "web/money/award.html", {**context, "open_form": form}, status_code=422)


async def _act(
    request: Request,
    session: SessionDep,
    principal: Principal,
    award_id: int,
    form: str,
    errors: dict[str, str],
    work: Any,
    msg: str,
) -> Response:
    """Run ``work`` when the form parsed; a field error (422) re-renders the page beside the form."""
    if not errors:
        try:
            await work()
            return _back(f"/awards/{award_id}", msg)
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            errors = domain_errors(exc)
    return await _award_errors(request, session, principal, award_id, errors, form)


@router.post("/awards/{award_id:int}/sign")
async def sign(
    request: Request,
    award_id: IdPath,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> Response:
    form = await read_form(request)
    data, errors = parse(SignIn, form_values(form, skip=("csrf_token", "signed_copy")))

    async def work() -> None:
        assert data is not None
        document_id = await _upload(
            form, "signed_copy", session, principal, settings, award_id, DocumentKind.agreement
        )
        await service.sign_award(
            session, principal, award_id, SignIn(signed_on=data.signed_on, document_id=document_id)
        )

    return await _act(request, session, principal, award_id, "sign", errors, work, "signed")


@router.post("/awards/{award_id:int}/disbursements")
async def request_disbursement(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = parse(DisbursementCreate, form_values(await read_form(request)))

    async def work() -> None:
        assert data is not None
        await service.request_disbursement(session, principal, data)

    return await _act(request, session, principal, award_id, "request", errors, work, "requested")


@router.post("/awards/{award_id:int}/evaluations")
async def record_evaluation(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = parse(EvaluationOutcomeIn, form_values(await read_form(request)))

    async def work() -> None:
        assert data is not None
        await service.record_outcome(session, principal, award_id, data)

    return await _act(request, session, principal, award_id, "evaluation", errors, work, "state")


@router.post("/awards/{award_id:int}/evaluation-rounds")
async def start_evaluation(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    form = await read_form(request)
    purpose = RoundPurpose.final if form.get("purpose") == "final" else RoundPurpose.midterm
    review_round = await outcomes.start_award_evaluation(session, principal, award_id, purpose)
    return RedirectResponse(f"/evaluations/rounds/{review_round.id}", status_code=303)


@router.post("/awards/{award_id:int}/rectify")
async def rectify(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = parse(RectifyIn, form_values(await read_form(request)))

    async def work() -> None:
        assert data is not None
        await service.rectify(session, principal, award_id, data)

    return await _act(request, session, principal, award_id, "rectify", errors, work, "state")


@router.post("/awards/{award_id:int}/terminate")
async def terminate(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = parse(TerminateIn, form_values(await read_form(request)))

    async def work() -> None:
        assert data is not None
        await service.terminate(session, principal, award_id, data)

    return await _act(request, session, principal, award_id, "terminate", errors, work, "state")


@router.post("/awards/{award_id:int}/close")
async def close(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = parse(CloseIn, form_values(await read_form(request)))

    async def work() -> None:
        assert data is not None
        await service.close(session, principal, award_id, data)

    return await _act(request, session, principal, award_id, "close", errors, work, "state")


@router.post("/awards/{award_id:int}/progress-reports")
async def submit_report(
    request: Request, award_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    values = form_values(await read_form(request))
    actuals = []
    for key in list(values):
        if key.startswith("actual_"):
            actuals.append({"indicator_id": key.removeprefix("actual_"), "actual": values.pop(key)})
    data, errors = parse(ProgressReportIn, {**values, "actuals": actuals})

    async def work() -> None:
        assert data is not None
        await service.submit_progress_report(session, principal, award_id, data)

    return await _act(request, session, principal, award_id, "report", errors, work, "report")


def _review(values: dict[str, Any]) -> tuple[ReviewIn | None, dict[str, str]]:
    return parse(
        ReviewIn, {"approve": values.get("decision") == "approve", "comment": values.get("comment", "")}
    )


@router.post("/awards/{award_id:int}/progress-reports/{report_id:int}/review")
async def review_report(
    request: Request, award_id: IdPath, report_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = _review(form_values(await read_form(request)))
    if errors:
        errors = {"comment": next(iter(errors.values()))}

    async def work() -> None:
        assert data is not None
        await service.review_progress_report(session, principal, award_id, report_id, data)

    return await _act(request, session, principal, award_id, f"report-{report_id}", errors, work, "reviewed")


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

    async def work() -> None:
        assert probe is not None
        ids = []
        for upload in receipts:
            content = await upload.read(settings.upload_max_bytes + 1)
            document = await service.upload_document(
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
        await service.submit_expense_claim(
            session, principal, award_id, probe.model_copy(update={"receipt_ids": ids})
        )

    return await _act(request, session, principal, award_id, "claim", errors, work, "claim")


@router.post("/awards/{award_id:int}/expense-claims/{claim_id:int}/review")
async def review_claim(
    request: Request, award_id: IdPath, claim_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    data, errors = _review(form_values(await read_form(request)))
    if errors:
        errors = {"comment": next(iter(errors.values()))}

    async def work() -> None:
        assert data is not None
        await service.review_expense_claim(session, principal, award_id, claim_id, data)

    return await _act(request, session, principal, award_id, f"claim-{claim_id}", errors, work, "reviewed")


# --- contracts --------------------------------------------------------------------------

MILESTONE_ROWS = 4
INDICATOR_ROWS = 3


@router.get("/contracts")
async def contract_list(
    request: Request, session: SessionDep, principal: CurrentPrincipal, pagination: Pagination
) -> Response:
    _require_money_reader(principal)
    page = await contracts.list_contracts(session, principal, pagination)
    return render(request, "web/money/contracts.html", {"page": page, "query": "", **_labels()})


async def _form_context(session: SessionDep, principal: Principal) -> dict[str, Any]:
    from incubator.repository import OrganisationFilters

    organisations = await incubator.all_organisations(session, principal, OrganisationFilters(), limit=1000)
    return {
        "providers": [(str(o.id), o.name) for o in organisations],
        "milestone_rows": range(1, MILESTONE_ROWS + 1),
        "indicator_rows": range(1, INDICATOR_ROWS + 1),
        **_labels(),
    }


@router.get("/contracts/new")
async def new_contract(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))
    defaults = {
        "full_payment_from": "90",
        "pro_rata_from": "60",
        "m_share_1": "40",
        "m_condition_1": "on_signing",
        "m_share_2": "30",
        "m_condition_2": "on_start",
        "m_share_3": "30",
        "m_condition_3": "on_evaluation",
    }
    return render(
        request,
        "web/money/contract_form.html",
        {"values": defaults, "errors": {}, **await _form_context(session, principal)},
    )


def _contract_values(values: dict[str, Any]) -> dict[str, Any]:
    milestones = []
    for n in range(1, MILESTONE_ROWS + 1):
        share = values.pop(f"m_share_{n}", None)
        condition = values.pop(f"m_condition_{n}", None)
        description = values.pop(f"m_description_{n}", "")
        if share or condition:
            milestones.append({"share_pct": share, "condition": condition, "description": description})
    indicators = []
    for n in range(1, INDICATOR_ROWS + 1):
        name = values.pop(f"i_name_{n}", None)
        target = values.pop(f"i_target_{n}", None)
        unit = values.pop(f"i_unit_{n}", None)
        if name or target or unit:
            indicators.append({"name": name, "target": target, "unit": unit})
    return {**values, "milestones": milestones, "indicators": indicators}


@router.post("/contracts/new")
async def create_contract(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))
    values = form_values(await read_form(request))
    data, errors = parse(ContractIn, _contract_values(dict(values)))
    if data is not None:
        try:
            contract = await contracts.create_contract(session, principal, data)
            return _back(f"/contracts/{contract.id}", "saved")
        except DomainError as exc:
            if exc.status_code not in (404, 422):
                raise
            errors = domain_errors(exc)
    return render(
        request,
        "web/money/contract_form.html",
        {"values": values, "errors": errors, **await _form_context(session, principal)},
        status_code=422,
    )


async def _contract_context(
    session: SessionDep, principal: Principal, contract_id: int, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    contract = await contracts.get_contract(session, principal, contract_id)
    provider = await incubator.get_organisation(session, principal, contract.provider_id)
    actions = {
        action: contracts.can_transition(contract, action, provider) for action in contracts.TRANSITIONS
    }
    return {
        "contract": contract,
        "provider": provider,
        "actions": actions,
        "is_staff": principal.has(Role.staff) and not principal.read_only,
        "errors": errors or {},
        "MilestoneState": MilestoneState,
        "final_preview": {
            m.id: [
                (
                    s,
                    contracts.final_payment(
                        m.amount, Decimal(s), contract.full_payment_from, contract.pro_rata_from
                    ),
                )
                for s in (95, 75, 55)
            ]
            for m in contract.milestones
            if m.condition is MilestoneCondition.on_evaluation
        },
        **_labels(),
    }


@router.get("/contracts/{contract_id:int}")
async def contract_page(
    request: Request, contract_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    context = await _contract_context(session, principal, contract_id)
    return render(request, "web/money/contract.html", {**context, "flash": _flash(request)})


CONTRACT_ACTIONS: dict[str, Any] = {
    "sign": (DateIn, contracts.sign),
    "start": (DateIn, contracts.start),
    "evaluate": (EvaluateIn, contracts.evaluate),
    "complete": (CompleteIn, contracts.complete),
    "terminate": (ContractTerminateIn, contracts.terminate),
}


@router.post("/contracts/{contract_id:int}/milestones/{milestone_id:int}/request")
async def request_milestone(
    contract_id: IdPath, milestone_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    await service.request_disbursement(session, principal, DisbursementCreate(milestone_id=milestone_id))
    return _back(f"/contracts/{contract_id}", "requested")


@router.post("/contracts/{contract_id:int}/{action}")
async def contract_action(
    request: Request, contract_id: IdPath, action: str, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    if action not in CONTRACT_ACTIONS:
        from core.errors import NotFound

        raise NotFound(_("Not found"))
    schema, run = CONTRACT_ACTIONS[action]
    data, errors = parse(schema, form_values(await read_form(request)))
    if data is not None:
        try:
            await run(session, principal, contract_id, data)
            return _back(f"/contracts/{contract_id}", "contract")
        except DomainError as exc:
            if exc.status_code != 422:
                raise
            errors = domain_errors(exc)
    context = await _contract_context(session, principal, contract_id, errors)
    return render(request, "web/money/contract.html", {**context, "open_form": action}, status_code=422)
