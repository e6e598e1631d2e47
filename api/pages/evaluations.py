"""Evaluation pages: the evaluator's assignments, declaration and scoring form; the staff
round set-up, assignment board, progress, results and recommendation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import IdPath, SessionDep, SettingsDep, StaffOrAdmin, StaffUser, require_roles
from api.errors import validation_details
from api.pages.grant_pages import grant_labels
from api.routers import evaluations as evaluations_api
from api.routing import Router
from api.web import register_nav, render
from composition import dossier, outcomes
from core.clock import today
from core.errors import FieldError, Forbidden, ValidationFailed
from core.i18n import N_, _, current_locale
from core.identity import repository as identity_queries
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import PageParams
from evaluations.assignments import service as assignment_service
from evaluations.assignments.models import ASSIGNMENT_STATE_LABELS, Assignment, AssignmentState
from evaluations.assignments.schemas import AssignmentCreate, AutoAssignRequest, DeclarationIn
from evaluations.results import service as result_service
from evaluations.results.schemas import AdjustmentIn
from evaluations.rounds import service as round_service
from evaluations.rounds.models import ROUND_STATE_LABELS, RoundState
from evaluations.rounds.schemas import RoundCreate, SubjectCreate
from evaluations.rubrics import service as rubric_service
from evaluations.rubrics.models import PURPOSE_LABELS, RoundPurpose
from evaluations.sheets import service as sheet_service
from evaluations.sheets.models import SHEET_STATE_LABELS, SheetState
from evaluations.sheets.schemas import ScoreItemIn, SheetIn
from reports.pdf import get_renderer, render_html

router = Router(include_in_schema=False)
EvaluatorOrStaff = Annotated[Principal, Depends(require_roles(Role.evaluator, Role.staff, Role.admin))]
EvaluatorUser = Annotated[Principal, Depends(require_roles(Role.evaluator))]
SHANGHAI = ZoneInfo("Asia/Shanghai")

DISPLAY_LABELS = {
    "organisation": N_("Organisation"),
    "uscc": N_("Unified social credit code"),
    "contact": N_("Contact person"),
    "title": N_("Project title"),
    "category": N_("Category"),
    "community": N_("Community served"),
    "beneficiaries": N_("Beneficiaries"),
    "needs": N_("Needs analysis"),
    "objectives": N_("Objectives"),
    "budget": N_("Budget"),
    "requested_amount": N_("Amount requested (yuan)"),
    "amount": N_("Amount granted (yuan)"),
    "paid": N_("Amount paid (yuan)"),
    "summary": N_("Summary"),
}
"""Chinese (or English) names of the keys of a subject's ``display`` snapshot."""

register_nav("/evaluations", N_("Evaluations"), {Role.evaluator, Role.staff, Role.admin})


def _labels() -> dict[str, Any]:
    return {
        "purpose_labels": {k.value: _(v) for k, v in PURPOSE_LABELS.items()},
        "round_state_labels": {k.value: _(v) for k, v in ROUND_STATE_LABELS.items()},
        "assignment_state_labels": {k.value: _(v) for k, v in ASSIGNMENT_STATE_LABELS.items()},
        "sheet_state_labels": {k.value: _(v) for k, v in SHEET_STATE_LABELS.items()},
    }


def _errors_of(exc: ValidationError | ValidationFailed) -> dict[str, str]:
    details: list[FieldError] = (
        validation_details([dict(e) for e in exc.errors()])
        if isinstance(exc, ValidationError)
        else exc.details
    )
    if isinstance(exc, ValidationFailed) and not details:
        details = [FieldError("body", exc.message)]
    return {d.field: d.message for d in details}


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


@router.get("/evaluations")
async def index(request: Request, session: SessionDep, principal: EvaluatorOrStaff) -> Response:
    assignments = []
    if principal.has(Role.evaluator):
        page = await assignment_service.list_assignments(session, principal, PageParams(page_size=200))
        assignments = await assignment_service.assignment_reads(session, page.items)
    rounds: list[Any] = []
    if principal.has(Role.staff, Role.admin):
        round_page, counts = await round_service.list_rounds(session, principal, PageParams(page_size=200))
        rounds = [round_service.round_read(r, counts.get(r.id, 0)) for r in round_page.items]
    return render(
        request,
        "web/evaluations/index.html",
        {"assignments": assignments, "rounds": rounds, **_labels()},
    )


# --- the evaluator's side --------------------------------------------------------------------


async def _assignment_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    assignment_id: int,
    *,
    errors: dict[str, str] | None = None,
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    assignment = await assignment_service.get_assignment(session, principal, assignment_id)
    own = assignment.evaluator_id == principal.user_id
    sheet = None
    if own:
        sheet = assignment.sheet
    elif assignment.round.state is RoundState.closed:
        _assignment, sheet = await sheet_service.get_sheet(session, principal, assignment_id)
    detail = await assignment_service.assignment_detail(session, assignment)
    scores = {i.criterion_key: i for i in sheet.items} if sheet is not None else {}
    blind = assignment.round.blind
    next_assignment = await _next_assignment(session, principal, assignment_id) if own else None
    return render(
        request,
        "web/evaluations/assignment.html",
        {
            "a": detail,
            "own": own,
            "sheet": sheet,
            "scores": scores,
            "errors": errors or {},
            "entered": entered or {},
            "round_open": assignment.round.state is RoundState.open,
            "locked": sheet is not None and sheet.state is SheetState.submitted,
            "pending": assignment.state is AssignmentState.pending,
            "conflict": assignment.state is AssignmentState.conflict,
            "base_max": rubric_service.base_max(assignment.round.rubric_version),
            "display_label": {k: _(v) for k, v in DISPLAY_LABELS.items()},
            "proposal": await dossier.proposal_of(session, assignment.subject, blind=blind),
            "project": await dossier.project_of(session, assignment.subject, blind=blind),
            "next_assignment": next_assignment,
            **grant_labels(),
            **_labels(),
        },
        status_code=status_code,
    )


async def _next_assignment(session: AsyncSession, principal: Principal, current_id: int) -> Assignment | None:
    """The evaluator's next assignment with work left in an open round (oldest first)."""
    page = await assignment_service.list_assignments(session, principal, PageParams(page_size=200))
    waiting = [
        a
        for a in page.items
        if a.id != current_id
        and a.round.state is RoundState.open
        and a.state in (AssignmentState.pending, AssignmentState.active)
        and (a.sheet is None or a.sheet.state is not SheetState.submitted)
    ]
    return min(waiting, key=lambda a: a.id) if waiting else None


@router.get("/evaluations/assignments/{assignment_id:int}/sheet.pdf")
async def sheet_pdf(
    assignment_id: IdPath, session: SessionDep, settings: SettingsDep, principal: EvaluatorOrStaff
) -> Response:
    """The score sheet as a PDF (评分表) with the scores, comments and a signature line."""
    assignment = await assignment_service.get_assignment(session, principal, assignment_id)
    own = assignment.evaluator_id == principal.user_id
    if own:
        sheet = assignment.sheet
    elif assignment.round.state is RoundState.closed:
        _assignment, sheet = await sheet_service.get_sheet(session, principal, assignment_id)
    else:
        raise Forbidden(_("Score sheets can be opened once the round is closed"))
    detail = await assignment_service.assignment_detail(session, assignment)
    html = render_html(
        "reports/score_sheet.html",
        {
            "a": detail,
            "sheet": sheet,
            "scores": {i.criterion_key: i for i in sheet.items} if sheet is not None else {},
            "base_max": rubric_service.base_max(assignment.round.rubric_version),
            "state_label": _(SHEET_STATE_LABELS[sheet.state]) if sheet is not None else _("Not started"),
            "printed_on": today(),
        },
        locale=current_locale(),
    )
    pdf = await get_renderer(settings.report_workers).render(html)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="score-sheet-{assignment_id}.pdf"'},
    )


@router.get("/evaluations/assignments/{assignment_id:int}")
async def assignment_page(
    assignment_id: IdPath, request: Request, session: SessionDep, principal: EvaluatorOrStaff
) -> Response:
    return await _assignment_page(request, session, principal, assignment_id)


@router.post("/evaluations/assignments/{assignment_id:int}/declaration")
async def declaration_submit(
    assignment_id: IdPath, request: Request, session: SessionDep, evaluator: EvaluatorUser
) -> Response:
    form = await request.form()
    choice = str(form.get("has_conflict", ""))
    if choice not in ("yes", "no"):
        # Declaring no conflict is a choice the evaluator makes, never a default.
        return await _assignment_page(
            request,
            session,
            evaluator,
            assignment_id,
            errors={"has_conflict": _("Choose whether you have a conflict of interest")},
            status_code=422,
        )
    has_conflict = choice == "yes"
    reason = str(form.get("reason", ""))[:500]
    try:
        await assignment_service.declare(
            session, evaluator, assignment_id, DeclarationIn(has_conflict=has_conflict, reason=reason)
        )
    except ValidationFailed as exc:
        return await _assignment_page(
            request, session, evaluator, assignment_id, errors=_errors_of(exc), status_code=422
        )
    return _see_other(f"/evaluations/assignments/{assignment_id}")


@router.post("/evaluations/assignments/{assignment_id:int}/sheet")
async def sheet_submit(
    assignment_id: IdPath, request: Request, session: SessionDep, evaluator: EvaluatorUser
) -> Response:
    """One form for both: "save" keeps a draft, "submit" locks the sheet."""
    form = await request.form()
    assignment = await assignment_service.get_assignment(session, evaluator, assignment_id)
    criteria = rubric_service.criteria_of(assignment.round.rubric_version)
    entered = {k: str(v)[:5000] for k, v in form.items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    items: list[ScoreItemIn] = []
    for criterion in criteria:
        raw = entered.get(f"score_{criterion.key}", "").strip()
        try:
            items.append(
                ScoreItemIn(
                    criterion_key=criterion.key,
                    score=raw or None,
                    comment=entered.get(f"comment_{criterion.key}", "")[:2000],
                )
            )
        except ValidationError:
            errors[f"items.{criterion.key}.score"] = _("{name}: not a valid score").format(
                name=criterion.name
            )
    if errors:
        return await _assignment_page(
            request, session, evaluator, assignment_id, errors=errors, entered=entered, status_code=422
        )
    data = SheetIn(items=items, comment=entered.get("comment", ""))
    try:
        if entered.get("action") == "submit":
            await sheet_service.submit_sheet(session, evaluator, assignment_id, data)
        else:
            await sheet_service.save_draft(session, evaluator, assignment_id, data)
    except ValidationFailed as exc:
        # An incomplete submission still keeps the draft it saved (the edge commits it).
        return await _assignment_page(
            request,
            session,
            evaluator,
            assignment_id,
            errors=_errors_of(exc),
            entered=entered,
            status_code=422,
        )
    return _see_other(f"/evaluations/assignments/{assignment_id}")


# --- staff: rounds ---------------------------------------------------------------------------


@router.get("/evaluations/rounds/new")
async def new_round(request: Request, session: SessionDep, staff: StaffUser) -> Response:
    return await _new_round_page(request, session, staff, {}, {})


async def _new_round_page(
    request: Request,
    session: AsyncSession,
    staff: Principal,
    entered: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    rubrics = await rubric_service.list_rubrics(session, staff)
    versions = [(r, v) for r in rubrics for v in r.versions]
    return render(
        request,
        "web/evaluations/round_new.html",
        {
            "versions": versions,
            "purposes": list(RoundPurpose),
            "entered": entered,
            "errors": errors,
            **_labels(),
        },
        status_code=status_code,
    )


def _local_datetime(value: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed.field("due_at", _("Must be a date such as 2026-03-01")) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(dt.UTC)


@router.post("/evaluations/rounds")
async def create_round(request: Request, session: SessionDep, staff: StaffUser) -> Response:
    form = await request.form()
    entered = {k: str(v)[:500] for k, v in form.items() if isinstance(v, str)}
    raw: dict[str, Any] = {
        "name": entered.get("name", ""),
        "purpose": entered.get("purpose", ""),
        "rubric_version_id": entered.get("rubric_version_id") or 0,
        "min_sheets_per_subject": entered.get("min_sheets_per_subject") or 3,
        "max_per_evaluator": entered.get("max_per_evaluator") or None,
        "blind": entered.get("blind") == "on",
        "spread_threshold": entered.get("spread_threshold") or "15",
        "expert_weight": entered.get("expert_weight") or 100,
        "public_weight": entered.get("public_weight") or 0,
        "programme_budget": entered.get("programme_budget") or None,
    }
    try:
        raw["due_at"] = _local_datetime(entered.get("due_at", ""))
        data = RoundCreate.model_validate(raw)
        review_round = await round_service.create_round(session, staff, data)
    except (ValidationError, ValidationFailed) as exc:
        return await _new_round_page(request, session, staff, entered, _errors_of(exc), status_code=422)
    return _see_other(f"/evaluations/rounds/{review_round.id}")


async def _round_page(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    round_id: int,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    review_round = await round_service.get_round(session, principal, round_id)
    info = await round_service.round_read_for(session, principal, review_round)
    progress = await result_service.progress(session, principal, round_id)
    closed = review_round.state is RoundState.closed
    results = await result_service.results(session, principal, round_id) if closed else None
    recommendation = await result_service.recommendation(session, principal, round_id) if closed else None
    evaluators = []
    if principal.has(Role.staff) and not closed:
        evaluators = list(
            await identity_queries.people_with_role(session, review_round.centre_id, Role.evaluator)
        )
    return render(
        request,
        "web/evaluations/round.html",
        {
            "r": info,
            "progress": progress,
            "results": results,
            "recommendation": recommendation,
            "evaluators": evaluators,
            "errors": errors or {},
            "can_manage": principal.has(Role.staff) and not principal.read_only,
            **_labels(),
        },
        status_code=status_code,
    )


@router.get("/evaluations/rounds/{round_id:int}")
async def round_page(
    round_id: IdPath, request: Request, session: SessionDep, principal: StaffOrAdmin
) -> Response:
    return await _round_page(request, session, principal, round_id)


@router.post("/evaluations/rounds/{round_id:int}/subjects")
async def add_subject(round_id: IdPath, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    form = await request.form()
    entered = {k: str(v)[:5000] for k, v in form.items() if isinstance(v, str)}
    try:
        data = SubjectCreate.model_validate(
            {
                "subject_type": entered.get("subject_type") or "application",
                "subject_id": entered.get("subject_id") or 0,
                "organisation_id": entered.get("organisation_id") or None,
                "category": entered.get("category", ""),
                "title": entered.get("title", ""),
                "requested_amount": entered.get("requested_amount") or None,
                "display": {"summary": entered["summary"]} if entered.get("summary") else {},
            }
        )
        await round_service.add_subject(session, staff, round_id, data)
    except (ValidationError, ValidationFailed) as exc:
        return await _round_page(request, session, staff, round_id, errors=_errors_of(exc), status_code=422)
    return _see_other(f"/evaluations/rounds/{round_id}")


@router.post("/evaluations/rounds/{round_id:int}/assignments")
async def add_assignment(
    round_id: IdPath, request: Request, session: SessionDep, staff: StaffUser
) -> Response:
    form = await request.form()
    try:
        data = AssignmentCreate.model_validate(
            {"subject_id": form.get("subject_id") or 0, "evaluator_id": form.get("evaluator_id") or 0}
        )
        await assignment_service.assign(session, staff, round_id, data, evaluations_api.membership_lookup)
    except (ValidationError, ValidationFailed) as exc:
        return await _round_page(request, session, staff, round_id, errors=_errors_of(exc), status_code=422)
    return _see_other(f"/evaluations/rounds/{round_id}")


@router.post("/evaluations/rounds/{round_id:int}/auto-assign")
async def auto_assign(round_id: IdPath, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    form = await request.form()
    chosen = [str(v) for v in form.getlist("evaluator_ids") if isinstance(v, str)][:200]
    try:
        data = AutoAssignRequest.model_validate({"evaluator_ids": chosen})
        await assignment_service.auto_assign(
            session, staff, round_id, data, evaluations_api.membership_lookup
        )
    except (ValidationError, ValidationFailed) as exc:
        return await _round_page(request, session, staff, round_id, errors=_errors_of(exc), status_code=422)
    return _see_other(f"/evaluations/rounds/{round_id}")


@router.post("/evaluations/rounds/{round_id:int}/close")
async def close_round(
    round_id: IdPath, session: SessionDep, settings: SettingsDep, staff: StaffUser
) -> Response:
    await result_service.close_round(session, staff, round_id)
    await outcomes.after_round_closed(session, staff, round_id, settings)
    return _see_other(f"/evaluations/rounds/{round_id}")


@router.post("/evaluations/rounds/{round_id:int}/adjustments")
async def adjust(round_id: IdPath, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    form = await request.form()
    try:
        data = AdjustmentIn.model_validate(
            {
                "subject_id": form.get("subject_id") or 0,
                "recommended": form.get("recommended") == "yes",
                "reason": str(form.get("reason", ""))[:500],
            }
        )
        await result_service.adjust_recommendation(session, staff, round_id, data)
    except (ValidationError, ValidationFailed) as exc:
        return await _round_page(request, session, staff, round_id, errors=_errors_of(exc), status_code=422)
    return _see_other(f"/evaluations/rounds/{round_id}")
