"""Rubrics, review rounds, assignments, score sheets and the public jury (SPEC §5, §9)."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Body, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import (
    IdPath,
    Pagination,
    SessionDep,
    SettingsDep,
    StaffOrAdmin,
    StaffUser,
    client_address,
    require_roles,
)
from api.routing import Router, reads_only
from api.schemas import ListResponse
from composition import outcomes
from core.errors import NotFound
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import (
    AssignmentCreate,
    AssignmentDetail,
    AssignmentRead,
    AutoAssignRequest,
    AutoAssignResult,
    DeclarationIn,
    EvaluatorConflictCreate,
    EvaluatorConflictRead,
)
from evaluations.jury import service as jury_service
from evaluations.jury.models import JuryCode
from evaluations.jury.schemas import JuryBallot, JuryCodesRead, JuryCodesRequest, PublicSheetRead
from evaluations.results import service as result_service
from evaluations.results.schemas import AdjustmentIn, ProgressRead, RecommendationRead, ResultsRead
from evaluations.rounds import service as round_service
from evaluations.rounds.models import ReviewRound, RoundState, RoundSubject
from evaluations.rounds.schemas import RoundCreate, RoundRead, SubjectCreate, SubjectRead
from evaluations.rubrics import service as rubric_service
from evaluations.rubrics.schemas import RubricCreate, RubricRead, RubricVersionIn, RubricVersionRead
from evaluations.sheets import service as sheet_service
from evaluations.sheets.schemas import SheetIn, SheetRead
from incubator import service as incubator_service

router = Router(prefix="/api/v1", tags=["evaluations"])
public_router = Router(prefix="/api/v1/public", tags=["public"])

EvaluatorOrStaff = Annotated[Principal, Depends(require_roles(Role.evaluator, Role.staff, Role.admin))]
EvaluatorUser = Annotated[Principal, Depends(require_roles(Role.evaluator))]
JuryCodePath = Annotated[str, Path(min_length=6, max_length=32, pattern=r"^[A-Za-z0-9]+$")]

JURY_RATE_LIMIT = 30
JURY_RATE_WINDOW_SECONDS = 600


# Organisation id -> member user ids, for structural conflicts (the incubator knows members).
membership_lookup: assignment_service.MembershipLookup = incubator_service.member_user_ids


T = TypeVar("T")


class JuryCodeRefused(NotFound):
    """An unknown code: the rate-limit entry is kept (committed) so guessing is counted."""

    keep_changes = True


def _list(items: list[T]) -> ListResponse[T]:
    return ListResponse.whole(items)


# --- rubrics ---------------------------------------------------------------------------------


@router.get("/rubrics", response_model=ListResponse[RubricRead])
async def list_rubrics(session: SessionDep, principal: StaffOrAdmin) -> ListResponse[RubricRead]:
    return _list(
        [rubric_service.rubric_read(r) for r in await rubric_service.list_rubrics(session, principal)]
    )


@router.post("/rubrics", response_model=RubricRead, status_code=201)
async def create_rubric(data: RubricCreate, session: SessionDep, staff: StaffUser) -> RubricRead:
    return rubric_service.rubric_read(await rubric_service.create_rubric(session, staff, data))


@router.get("/rubrics/{rubric_id:int}", response_model=RubricRead)
async def get_rubric(rubric_id: IdPath, session: SessionDep, principal: StaffOrAdmin) -> RubricRead:
    return rubric_service.rubric_read(await rubric_service.get_rubric(session, principal, rubric_id))


@router.get("/rubrics/{rubric_id:int}/versions", response_model=ListResponse[RubricVersionRead])
async def list_versions(
    rubric_id: IdPath, session: SessionDep, principal: StaffOrAdmin
) -> ListResponse[RubricVersionRead]:
    rubric = await rubric_service.get_rubric(session, principal, rubric_id)
    return _list([rubric_service.version_read(v) for v in rubric.versions])


@router.post("/rubrics/{rubric_id:int}/versions", response_model=RubricVersionRead, status_code=201)
async def add_version(
    rubric_id: IdPath, data: RubricVersionIn, session: SessionDep, staff: StaffUser
) -> RubricVersionRead:
    return rubric_service.version_read(await rubric_service.add_version(session, staff, rubric_id, data))


@router.put("/rubrics/{rubric_id:int}/versions/{version_id:int}", response_model=RubricVersionRead)
async def update_version(
    rubric_id: IdPath, version_id: IdPath, data: RubricVersionIn, session: SessionDep, staff: StaffUser
) -> RubricVersionRead:
    """Edit a version that no round has used yet; a used version answers 409."""
    return rubric_service.version_read(
        await rubric_service.update_version(session, staff, rubric_id, version_id, data)
    )


# --- review rounds ---------------------------------------------------------------------------


@router.get("/review-rounds", response_model=ListResponse[RoundRead])
async def list_rounds(
    session: SessionDep, principal: StaffOrAdmin, pagination: Pagination, state: RoundState | None = None
) -> ListResponse[RoundRead]:
    page, counts = await round_service.list_rounds(session, principal, pagination, state)
    return ListResponse.of_page(page, [round_service.round_read(r, counts.get(r.id, 0)) for r in page.items])


@router.post("/review-rounds", response_model=RoundRead, status_code=201)
async def create_round(data: RoundCreate, session: SessionDep, staff: StaffUser) -> RoundRead:
    review_round = await round_service.create_round(session, staff, data)
    return await round_service.round_read_for(session, staff, review_round)


@router.get("/review-rounds/{round_id:int}", response_model=RoundRead)
async def get_round(round_id: IdPath, session: SessionDep, principal: StaffOrAdmin) -> RoundRead:
    review_round = await round_service.get_round(session, principal, round_id)
    return await round_service.round_read_for(session, principal, review_round)


@router.get("/review-rounds/{round_id:int}/subjects", response_model=ListResponse[SubjectRead])
async def list_subjects(
    round_id: IdPath, session: SessionDep, principal: StaffOrAdmin
) -> ListResponse[SubjectRead]:
    subjects = await round_service.list_subjects(session, principal, round_id)
    return _list([SubjectRead.model_validate(s) for s in subjects])


@router.post("/review-rounds/{round_id:int}/subjects", response_model=SubjectRead, status_code=201)
async def add_subject(
    round_id: IdPath, data: SubjectCreate, session: SessionDep, staff: StaffUser
) -> SubjectRead:
    return SubjectRead.model_validate(await round_service.add_subject(session, staff, round_id, data))


@router.get("/review-rounds/{round_id:int}/assignments", response_model=ListResponse[AssignmentRead])
async def list_round_assignments(
    round_id: IdPath, session: SessionDep, principal: StaffOrAdmin, pagination: Pagination
) -> ListResponse[AssignmentRead]:
    await round_service.get_round(session, principal, round_id)
    page = await assignment_service.list_assignments(
        session, principal, pagination, round_id=round_id, mine=False
    )
    return ListResponse.of_page(page, await assignment_service.assignment_reads(session, page.items))


@router.post("/review-rounds/{round_id:int}/assignments", response_model=AssignmentRead, status_code=201)
async def create_assignment(
    round_id: IdPath, data: AssignmentCreate, session: SessionDep, staff: StaffUser
) -> AssignmentRead:
    assignment = await assignment_service.assign(session, staff, round_id, data, membership_lookup)
    return (await assignment_service.assignment_reads(session, [assignment]))[0]


@router.post("/review-rounds/{round_id:int}/auto-assign", response_model=AutoAssignResult)
async def auto_assign(
    round_id: IdPath, data: AutoAssignRequest, session: SessionDep, staff: StaffUser
) -> AutoAssignResult:
    created, short = await assignment_service.auto_assign(session, staff, round_id, data, membership_lookup)
    return AutoAssignResult(created=await assignment_service.assignment_reads(session, created), short=short)


@router.get("/review-rounds/{round_id:int}/progress", response_model=ProgressRead)
@reads_only
async def round_progress(round_id: IdPath, session: SessionDep, principal: StaffOrAdmin) -> Response:
    """Who has submitted; never a score before the round closes. The document is written by
    the service as ``ProgressRead`` would write it."""
    return Response(
        await result_service.progress_json(session, principal, round_id), media_type="application/json"
    )


@router.post("/review-rounds/{round_id:int}/close", response_model=RoundRead)
async def close_round(
    round_id: IdPath, session: SessionDep, settings: SettingsDep, staff: StaffUser
) -> RoundRead:
    review_round = await result_service.close_round(session, staff, round_id)
    await outcomes.after_round_closed(session, staff, round_id, settings)
    return await round_service.round_read_for(session, staff, review_round)


@router.get("/review-rounds/{round_id:int}/results", response_model=ResultsRead)
@reads_only
async def round_results(round_id: IdPath, session: SessionDep, principal: StaffOrAdmin) -> Response:
    """The document is written by the service as ``ResultsRead`` would write it."""
    return Response(
        await result_service.results_json(session, principal, round_id), media_type="application/json"
    )


@router.get("/review-rounds/{round_id:int}/recommendation", response_model=RecommendationRead)
async def round_recommendation(
    round_id: IdPath, session: SessionDep, principal: StaffOrAdmin
) -> RecommendationRead:
    return await result_service.recommendation(session, principal, round_id)


@router.post("/review-rounds/{round_id:int}/recommendation/adjustments", response_model=RecommendationRead)
async def adjust_recommendation(
    round_id: IdPath, data: AdjustmentIn, session: SessionDep, staff: StaffUser
) -> RecommendationRead:
    return await result_service.adjust_recommendation(session, staff, round_id, data)


@router.post("/review-rounds/{round_id:int}/jury-codes", response_model=JuryCodesRead, status_code=201)
async def issue_jury_codes(
    round_id: IdPath, data: JuryCodesRequest, session: SessionDep, staff: StaffUser
) -> JuryCodesRead:
    """One-time codes for public jurors; shown only in this answer."""
    codes = await jury_service.issue_jury_codes(session, staff, round_id, data.subject_id, data.count)
    return JuryCodesRead(subject_id=data.subject_id, codes=codes)


# --- the evaluator's side --------------------------------------------------------------------


@router.get("/assignments", response_model=ListResponse[AssignmentRead])
async def list_assignments(
    session: SessionDep, principal: EvaluatorOrStaff, pagination: Pagination
) -> ListResponse[AssignmentRead]:
    """Evaluators: their own assignments. Staff: their own too (use the round's list for all)."""
    page = await assignment_service.list_assignments(session, principal, pagination)
    return ListResponse.of_page(page, await assignment_service.assignment_reads(session, page.items))


@router.get("/assignments/{assignment_id:int}", response_model=AssignmentDetail)
async def get_assignment(
    assignment_id: IdPath, session: SessionDep, principal: EvaluatorOrStaff
) -> AssignmentDetail:
    assignment = await assignment_service.get_assignment(session, principal, assignment_id)
    return await assignment_service.assignment_detail(session, assignment)


@router.post("/assignments/{assignment_id:int}/declaration", response_model=AssignmentRead)
async def declare(
    assignment_id: IdPath, data: DeclarationIn, session: SessionDep, evaluator: EvaluatorUser
) -> AssignmentRead:
    assignment = await assignment_service.declare(session, evaluator, assignment_id, data)
    return (await assignment_service.assignment_reads(session, [assignment]))[0]


@router.get("/assignments/{assignment_id:int}/sheet", response_model=SheetRead)
async def get_sheet(assignment_id: IdPath, session: SessionDep, principal: EvaluatorOrStaff) -> SheetRead:
    """The evaluator's own sheet; staff may open it only once the round is closed (403 before)."""
    assignment, sheet = await sheet_service.get_sheet(session, principal, assignment_id)
    return sheet_service.sheet_read(sheet, assignment)


@router.put("/assignments/{assignment_id:int}/sheet", response_model=SheetRead)
async def save_sheet(
    assignment_id: IdPath, data: SheetIn, session: SessionDep, evaluator: EvaluatorUser
) -> SheetRead:
    """Autosave the draft (partial scores allowed, bounds checked); 409 once submitted."""
    return sheet_service.sheet_read(await sheet_service.save_draft(session, evaluator, assignment_id, data))


@router.post("/assignments/{assignment_id:int}/sheet/submit", response_model=SheetRead)
async def submit_sheet(
    assignment_id: IdPath,
    session: SessionDep,
    evaluator: EvaluatorUser,
    data: Annotated[SheetIn | None, Body()] = None,
) -> SheetRead:
    """Submit (optionally with the final scores): the sheet is locked afterwards."""
    return sheet_service.sheet_read(await sheet_service.submit_sheet(session, evaluator, assignment_id, data))


@router.get("/evaluator-conflicts", response_model=ListResponse[EvaluatorConflictRead])
async def list_conflicts(
    session: SessionDep, principal: EvaluatorOrStaff
) -> ListResponse[EvaluatorConflictRead]:
    conflicts = await assignment_service.list_standing_conflicts(session, principal)
    return _list([EvaluatorConflictRead.model_validate(c) for c in conflicts])


@router.post("/evaluator-conflicts", response_model=EvaluatorConflictRead, status_code=201)
async def declare_conflict(
    data: EvaluatorConflictCreate, session: SessionDep, principal: EvaluatorOrStaff
) -> EvaluatorConflictRead:
    """A standing conflict with an organisation: its subjects are never assigned to the evaluator."""
    return EvaluatorConflictRead.model_validate(
        await assignment_service.declare_standing_conflict(session, principal, data)
    )


# --- public jury (no login) ------------------------------------------------------------------


async def ballot_for_code(session: AsyncSession, code: str) -> tuple[JuryCode, ReviewRound, RoundSubject]:
    try:
        return await jury_service.jury_ballot(session, code)
    except NotFound as exc:
        raise JuryCodeRefused(exc.message) from exc


@public_router.get("/jury/{code}", response_model=JuryBallot)
async def jury_ballot(code: JuryCodePath, request: Request, session: SessionDep) -> JuryBallot:
    await identity.rate_limit(
        session,
        f"jury:{client_address(request)}",
        limit=JURY_RATE_LIMIT * 4,
        window_seconds=JURY_RATE_WINDOW_SECONDS,
    )
    _code, review_round, subject = await ballot_for_code(session, code)
    return JuryBallot(
        round_name=review_round.name,
        subject_title=subject.title,
        display=round_service.display_for(review_round, subject),
        criteria=rubric_service.criteria_of(review_round.rubric_version),
    )


@public_router.post("/jury/{code}/sheet", response_model=PublicSheetRead, status_code=201)
async def jury_sheet(
    code: JuryCodePath, data: SheetIn, request: Request, session: SessionDep
) -> PublicSheetRead:
    """A public juror's one sheet: complete, submitted at once, the code is then spent."""
    await identity.rate_limit(
        session,
        f"jury-submit:{client_address(request)}",
        limit=JURY_RATE_LIMIT,
        window_seconds=JURY_RATE_WINDOW_SECONDS,
    )
    await ballot_for_code(session, code)
    sheet = await jury_service.submit_jury_sheet(session, code, data)
    assert sheet.submitted_at is not None
    return PublicSheetRead(total=sheet.total, submitted_at=sheet.submitted_at)
