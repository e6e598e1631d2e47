"""Assigning evaluators by hand or balanced automatically, never across a structural conflict;
the evaluator's declaration of a conflict of interest before scoring."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utcnow
from core.errors import Conflict, Forbidden, ValidationFailed
from core.i18n import _
from core.identity.models import Role, User
from core.identity.principal import Principal
from core.repository import Paged, PageParams
from evaluations import access
from evaluations.assignments.models import Assignment, AssignmentState, EvaluatorConflict
from evaluations.assignments.repository import AssignmentRepository, ConflictRepository, users_by_id
from evaluations.assignments.schemas import (
    AssignmentCreate,
    AssignmentDetail,
    AssignmentRead,
    AutoAssignRequest,
    DeclarationIn,
    EvaluatorConflictCreate,
    Shortfall,
)
from evaluations.rounds.models import ReviewRound, RoundSubject
from evaluations.rounds.repository import SubjectRepository
from evaluations.rounds.service import display_for, get_round
from evaluations.rubrics.service import criteria_of

MembershipLookup = Callable[[AsyncSession, int], Awaitable[set[int]]]
"""Organisation id → ids of the users who are its members (provided by the incubator domain)."""


async def _evaluators(session: AsyncSession, centre_id: int, user_ids: Sequence[int]) -> dict[int, User]:
    users = await users_by_id(session, user_ids)
    for user_id in user_ids:
        user = users.get(user_id)
        if (
            user is None
            or not user.is_active
            or user.centre_id != centre_id
            or Role.evaluator not in user.role_set
        ):
            raise ValidationFailed.field("evaluator_id", _("Not an active evaluator of this centre"))
    return users


async def structural_conflict(
    session: AsyncSession,
    principal: Principal,
    subject: RoundSubject,
    evaluator_id: int,
    membership: MembershipLookup,
) -> bool:
    """A member of the subject's organisation, or one who declared a standing conflict with it."""
    if subject.organisation_id is None:
        return False
    if evaluator_id in await membership(session, subject.organisation_id):
        return True
    return await ConflictRepository(session, principal).declared(evaluator_id, subject.organisation_id)


async def _create_assignment(
    session: AsyncSession,
    principal: Principal,
    review_round: ReviewRound,
    subject: RoundSubject,
    evaluator_id: int,
    *,
    automatic: bool,
) -> Assignment:
    assignment = Assignment(
        centre_id=review_round.centre_id,
        round_id=review_round.id,
        subject_id=subject.id,
        evaluator_id=evaluator_id,
        state=AssignmentState.pending,
        assigned_by=principal.user_id,
    )
    session.add(assignment)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="assignment.create",
        subject_type="assignment",
        subject_id=assignment.id,
        centre_id=review_round.centre_id,
        after={
            "round_id": review_round.id,
            "subject_id": subject.id,
            "evaluator_id": evaluator_id,
            "automatic": automatic,
        },
    )
    return assignment


async def assign(
    session: AsyncSession,
    principal: Principal,
    round_id: int,
    data: AssignmentCreate,
    membership: MembershipLookup,
) -> Assignment:
    """Assign one evaluator to one subject by hand; structural conflicts are refused."""
    centre_id = access.centre_of(principal)
    review_round = await get_round(session, principal, round_id)
    access.require_open(review_round)
    subject = await SubjectRepository(session, principal).in_round(review_round.id, data.subject_id)
    if subject is None:
        raise ValidationFailed.field("subject_id", _("No such subject in this round"))
    await _evaluators(session, centre_id, [data.evaluator_id])
    previous = await AssignmentRepository(session, principal).state_of(subject.id, data.evaluator_id)
    if previous is AssignmentState.conflict:
        raise Conflict(_("This evaluator declared a conflict of interest with this subject"))
    if previous is not None:
        raise Conflict(_("This evaluator is already assigned to this subject"))
    if await structural_conflict(session, principal, subject, data.evaluator_id, membership):
        raise Conflict(
            _("This evaluator has a conflict of interest with the organisation and cannot be assigned")
        )
    if review_round.max_per_evaluator is not None:
        load = (await AssignmentRepository(session, principal).load_in_round(review_round.id)).get(
            data.evaluator_id, 0
        )
        if load >= review_round.max_per_evaluator:
            raise Conflict(
                _("This evaluator already has the maximum of {n} subjects in this round").format(
                    n=review_round.max_per_evaluator
                )
            )
    assignment = await _create_assignment(
        session, principal, review_round, subject, data.evaluator_id, automatic=False
    )
    return await get_assignment(session, principal, assignment.id)


async def auto_assign(
    session: AsyncSession,
    principal: Principal,
    round_id: int,
    data: AutoAssignRequest,
    membership: MembershipLookup,
) -> tuple[list[Assignment], list[Shortfall]]:
    """Fill every subject up to the wanted number of evaluators, balancing load.

    Subjects with the fewest evaluators are served first; among the eligible evaluators
    (no structural conflict, not already on the subject, below the round's maximum) the
    least loaded is taken, ties by id so the result is reproducible. Subjects that cannot
    be filled are reported, not refused.
    """
    centre_id = access.centre_of(principal)
    review_round = await get_round(session, principal, round_id)
    access.require_open(review_round)
    candidates = sorted(set(data.evaluator_ids))
    await _evaluators(session, centre_id, candidates)
    wanted = data.per_subject or review_round.min_sheets_per_subject
    assignments = AssignmentRepository(session, principal)
    load = await assignments.load_in_round(review_round.id)
    existing = await assignments.of_round(review_round.id)
    on_subject: dict[int, set[int]] = {}
    counting: dict[int, int] = {}
    for a in existing:
        on_subject.setdefault(a.subject_id, set()).add(a.evaluator_id)
        if a.state is not AssignmentState.conflict:
            counting[a.subject_id] = counting.get(a.subject_id, 0) + 1
    subjects = sorted(
        await SubjectRepository(session, principal).of_round(review_round.id),
        key=lambda s: (counting.get(s.id, 0), s.id),
    )
    members: dict[int, set[int]] = {}
    created: list[Assignment] = []
    short: list[Shortfall] = []
    for subject in subjects:
        missing = wanted - counting.get(subject.id, 0)
        if missing <= 0:
            continue
        if subject.organisation_id is not None and subject.organisation_id not in members:
            members[subject.organisation_id] = await membership(session, subject.organisation_id)
        eligible: list[int] = []
        for evaluator_id in candidates:
            if evaluator_id in on_subject.get(subject.id, set()):
                continue
            limit = review_round.max_per_evaluator
            if limit is not None and load.get(evaluator_id, 0) >= limit:
                continue
            if subject.organisation_id is not None and (
                evaluator_id in members[subject.organisation_id]
                or await ConflictRepository(session, principal).declared(
                    evaluator_id, subject.organisation_id
                )
            ):
                continue
            eligible.append(evaluator_id)
        eligible.sort(key=lambda e: (load.get(e, 0), e))
        for evaluator_id in eligible[:missing]:
            created.append(
                await _create_assignment(
                    session, principal, review_round, subject, evaluator_id, automatic=True
                )
            )
            load[evaluator_id] = load.get(evaluator_id, 0) + 1
            on_subject.setdefault(subject.id, set()).add(evaluator_id)
        if len(eligible) < missing:
            short.append(
                Shortfall(subject_id=subject.id, title=subject.title, missing=missing - len(eligible))
            )
    ids = [a.id for a in created]
    loaded = {a.id: a for a in await assignments.detailed_by_ids(ids)}
    return [loaded[i] for i in ids], short


async def list_assignments(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    round_id: int | None = None,
    mine: bool = True,
) -> Paged[Assignment]:
    repository = AssignmentRepository(session, principal)
    return await repository.paginate(repository.listing(round_id=round_id, mine=mine), params)


async def get_assignment(session: AsyncSession, principal: Principal, assignment_id: int) -> Assignment:
    return await AssignmentRepository(session, principal).get_detailed(assignment_id)


async def assignment_reads(session: AsyncSession, assignments: Sequence[Assignment]) -> list[AssignmentRead]:
    names = await users_by_id(session, [a.evaluator_id for a in assignments])
    return [_assignment_read(a, names.get(a.evaluator_id)) for a in assignments]


def _assignment_read(a: Assignment, user: User | None) -> AssignmentRead:
    return AssignmentRead(
        id=a.id,
        round_id=a.round_id,
        round_name=a.round.name,
        round_state=a.round.state,
        subject_id=a.subject_id,
        subject_title=a.subject.title,
        evaluator_id=a.evaluator_id,
        evaluator_name=(user.full_name or user.email) if user else "",
        state=a.state,
        conflict_reason=a.conflict_reason,
        declared_at=a.declared_at,
        due_at=a.round.due_at,
        sheet_state=a.sheet.state if a.sheet is not None else None,
    )


async def assignment_detail(session: AsyncSession, assignment: Assignment) -> AssignmentDetail:
    base = (await assignment_reads(session, [assignment]))[0]
    return AssignmentDetail(
        **base.model_dump(),
        blind=assignment.round.blind,
        display=display_for(assignment.round, assignment.subject),
        criteria=criteria_of(assignment.round.rubric_version),
    )


async def declare(
    session: AsyncSession, principal: Principal, assignment_id: int, data: DeclarationIn
) -> Assignment:
    """The evaluator's conflict-of-interest declaration, once, before scoring."""
    assignment = await own_assignment(session, principal, assignment_id)
    access.require_open(assignment.round)
    if assignment.state is not AssignmentState.pending:
        raise Conflict(_("You have already made your declaration for this assignment"))
    if data.has_conflict and len(data.reason.strip()) < 2:
        raise ValidationFailed.field("reason", _("Please give the reason for the conflict of interest"))
    assignment.state = AssignmentState.conflict if data.has_conflict else AssignmentState.active
    assignment.conflict_reason = data.reason.strip() if data.has_conflict else None
    assignment.declared_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="assignment.declare_conflict" if data.has_conflict else "assignment.declare_no_conflict",
        subject_type="assignment",
        subject_id=assignment.id,
        centre_id=assignment.centre_id,
        before={"state": AssignmentState.pending},
        after={
            "state": assignment.state,
            "reason": assignment.conflict_reason,
            "needs_reassignment": data.has_conflict,
        },
    )
    return assignment


async def own_assignment(session: AsyncSession, principal: Principal, assignment_id: int) -> Assignment:
    assignment = await get_assignment(session, principal, assignment_id)
    if assignment.evaluator_id != principal.user_id:
        raise Forbidden(_("Only the assigned evaluator can do this"))
    return assignment


async def declare_standing_conflict(
    session: AsyncSession, principal: Principal, data: EvaluatorConflictCreate
) -> EvaluatorConflict:
    centre_id = access.centre_of(principal)
    evaluator_id = data.evaluator_id or principal.user_id
    if evaluator_id != principal.user_id and not principal.has(Role.staff):
        raise Forbidden(_("Only staff can record a conflict for another evaluator"))
    await _evaluators(session, centre_id, [evaluator_id])
    if await ConflictRepository(session, principal).declared(evaluator_id, data.organisation_id):
        raise Conflict(_("This conflict of interest is already recorded"))
    conflict = EvaluatorConflict(
        centre_id=centre_id,
        evaluator_id=evaluator_id,
        organisation_id=data.organisation_id,
        reason=data.reason,
    )
    session.add(conflict)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="evaluator_conflict.create",
        subject_type="evaluator_conflict",
        subject_id=conflict.id,
        centre_id=centre_id,
        after={"evaluator_id": evaluator_id, "organisation_id": data.organisation_id, "reason": data.reason},
    )
    return conflict


async def list_standing_conflicts(session: AsyncSession, principal: Principal) -> Sequence[EvaluatorConflict]:
    repository = ConflictRepository(session, principal)
    return await repository.get_all(repository.visible())
