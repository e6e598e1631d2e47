"""The scoring engine: rubrics, rounds, assignments and conflicts, sheets, results.

Callers (grants, incubator, staff by hand) register subjects in a round; evaluators
declare conflicts and score; the close computes each subject's result once and stores
it, so grades read later (tranche release, payment rules) never change under anyone.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core import audit
from core.db import utcnow
from core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from core.i18n import _
from core.identity.models import Role, User
from core.identity.principal import Principal
from core.identity.service import require_writer
from core.repository import Paged, PageParams
from core.security import token_digest
from evaluations import statistics
from evaluations.defaults import DEFAULT_BANDS, DEFAULT_RUBRICS
from evaluations.models import (
    Assignment,
    AssignmentState,
    EvaluatorConflict,
    JuryCode,
    RecommendationAdjustment,
    ReviewRound,
    RoundPurpose,
    RoundState,
    RoundSubject,
    Rubric,
    RubricVersion,
    ScoreItem,
    ScoreSheet,
    SheetKind,
    SheetState,
)
from evaluations.repository import (
    AdjustmentRepository,
    AssignmentRepository,
    ConflictRepository,
    RoundRepository,
    RubricRepository,
    RubricVersionRepository,
    SheetRepository,
    SubjectRepository,
    latest_project_version,
    users_by_id,
)
from evaluations.schemas import (
    GRADE_LABELS,
    AdjustmentIn,
    Agreement,
    AssignmentCreate,
    AssignmentDetail,
    AssignmentRead,
    AutoAssignRequest,
    Band,
    CategoryTotal,
    Criterion,
    DeclarationIn,
    EvaluatorConflictCreate,
    GradeCode,
    ProgressEvaluator,
    ProgressRead,
    ProgressSubject,
    RecommendationItem,
    RecommendationRead,
    ResultsRead,
    RoundCreate,
    RoundRead,
    RubricCreate,
    RubricRead,
    RubricVersionIn,
    RubricVersionRead,
    ScoreItemRead,
    SheetIn,
    SheetRead,
    Shortfall,
    SubjectCreate,
    SubjectResult,
)

MembershipLookup = Callable[[AsyncSession, int], Awaitable[set[int]]]
"""Organisation id → ids of the users who are its members (provided by the incubator domain)."""

IDENTITY_FIELDS = frozenset(
    {
        "organisation",
        "organisation_id",
        "organisation_name",
        "applicant",
        "applicant_name",
        "contact",
        "contact_name",
        "contact_phone",
        "phone",
        "email",
        "uscc",
        "address",
        "leader",
    }
)
"""Keys of a subject's ``display`` removed for evaluators in a blind round."""

CENT = Decimal("0.01")
JURY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _points(value: Decimal | float) -> Decimal:
    if isinstance(value, float):
        value = Decimal(repr(value))
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _centre_of(principal: Principal) -> int:
    require_writer(principal)
    if principal.centre_id is None:
        raise Forbidden(_("Only an account of a centre can do this"))
    return principal.centre_id


# --- rubrics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    code: GradeCode

    @property
    def label(self) -> str:
        return _(GRADE_LABELS[self.code])


def criteria_of(version: RubricVersion) -> list[Criterion]:
    return [Criterion.model_validate(c) for c in version.criteria]


def bands_of(version: RubricVersion) -> list[Band]:
    return sorted((Band.model_validate(b) for b in version.bands), key=lambda b: -b.min_score)


def base_max(version: RubricVersion) -> Decimal:
    return sum((c.max_points for c in criteria_of(version) if not c.bonus), Decimal(0))


def bonus_max(version: RubricVersion) -> Decimal:
    return sum((c.max_points for c in criteria_of(version) if c.bonus), Decimal(0))


def _grade_in(bands: Sequence[Band], total: Decimal) -> Grade:
    for band in sorted(bands, key=lambda b: -b.min_score):
        if total >= band.min_score:
            return Grade(band.code)
    return Grade(GradeCode.fail)


def grade_for(version: RubricVersion, total: Decimal) -> Grade:
    """The grade band a total falls in (bands are checked to start at 0, so one always fits)."""
    return _grade_in(bands_of(version), total)


async def project_grade(session: AsyncSession, centre_id: int, total: Decimal) -> Grade:
    """The grade an award evaluation's total earns (SPEC §5: a grade is never entered on its own).

    Through the bands of the centre's project rubric, the one its award evaluation rounds
    use; the default bands when the centre has none.
    """
    version = await latest_project_version(session, centre_id)
    if version is not None:
        return grade_for(version, total)
    return _grade_in([Band.model_validate(b) for b in DEFAULT_BANDS], total)


def _validated_version(data: RubricVersionIn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    errors: list[FieldError] = []
    keys = [c.key for c in data.criteria]
    if len(set(keys)) != len(keys):
        errors.append(FieldError("criteria", _("Each criterion needs its own key")))
    base = sum((c.max_points for c in data.criteria if not c.bonus), Decimal(0))
    if base != Decimal(100):
        errors.append(
            FieldError(
                "criteria",
                _("The base criteria must add up to 100 points (now {total})").format(total=f"{base:g}"),
            )
        )
    bands = data.bands if data.bands is not None else [Band.model_validate(b) for b in DEFAULT_BANDS]
    codes = [b.code for b in bands]
    minimums = [b.min_score for b in bands]
    if len(set(codes)) != len(codes) or len(set(minimums)) != len(minimums):
        errors.append(FieldError("bands", _("Each grade band needs its own grade and its own minimum")))
    elif min(minimums) != 0:
        errors.append(FieldError("bands", _("The lowest grade band must start at 0")))
    if errors:
        raise ValidationFailed(errors[0].message, details=errors)
    ordered = sorted(bands, key=lambda b: -b.min_score)
    return (
        [c.model_dump(mode="json") for c in data.criteria],
        [b.model_dump(mode="json") for b in ordered],
    )


def version_read(version: RubricVersion) -> RubricVersionRead:
    return RubricVersionRead(
        id=version.id,
        rubric_id=version.rubric_id,
        number=version.number,
        criteria=criteria_of(version),
        bands=bands_of(version),
        frozen=version.frozen,
        base_max=base_max(version),
        bonus_max=bonus_max(version),
        created_at=version.created_at,
    )


def rubric_read(rubric: Rubric) -> RubricRead:
    return RubricRead(
        id=rubric.id,
        name=rubric.name,
        purpose=rubric.purpose,
        description=rubric.description,
        versions=[version_read(v) for v in rubric.versions],
    )


async def list_rubrics(session: AsyncSession, principal: Principal) -> Sequence[Rubric]:
    repository = RubricRepository(session, principal)
    return await repository.get_all(repository.with_versions())


async def get_rubric(session: AsyncSession, principal: Principal, rubric_id: int) -> Rubric:
    repository = RubricRepository(session, principal)
    return await repository.get(
        rubric_id, repository.with_versions().execution_options(populate_existing=True)
    )


async def create_rubric(session: AsyncSession, principal: Principal, data: RubricCreate) -> Rubric:
    centre_id = _centre_of(principal)
    criteria, bands = _validated_version(data)
    rubric = Rubric(centre_id=centre_id, name=data.name, purpose=data.purpose, description=data.description)
    session.add(rubric)
    await session.flush()
    session.add(
        RubricVersion(
            centre_id=centre_id,
            rubric_id=rubric.id,
            number=1,
            criteria=criteria,
            bands=bands,
            created_by=principal.user_id,
        )
    )
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="rubric.create",
        subject_type="rubric",
        subject_id=rubric.id,
        centre_id=centre_id,
        after={"name": data.name, "purpose": data.purpose, "criteria": criteria, "bands": bands},
    )
    return await get_rubric(session, principal, rubric.id)


async def add_version(
    session: AsyncSession, principal: Principal, rubric_id: int, data: RubricVersionIn
) -> RubricVersion:
    """Editing a rubric makes a new version; earlier versions stay as they were used."""
    centre_id = _centre_of(principal)
    rubric = await get_rubric(session, principal, rubric_id)
    criteria, bands = _validated_version(data)
    number = await RubricVersionRepository(session, principal).latest_number(rubric.id) + 1
    version = RubricVersion(
        centre_id=centre_id,
        rubric_id=rubric.id,
        number=number,
        criteria=criteria,
        bands=bands,
        created_by=principal.user_id,
    )
    session.add(version)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="rubric.version.create",
        subject_type="rubric_version",
        subject_id=version.id,
        centre_id=centre_id,
        after={"rubric_id": rubric.id, "number": number, "criteria": criteria, "bands": bands},
    )
    return version


async def update_version(
    session: AsyncSession, principal: Principal, rubric_id: int, version_id: int, data: RubricVersionIn
) -> RubricVersion:
    centre_id = _centre_of(principal)
    repository = RubricVersionRepository(session, principal)
    version = await repository.get(
        version_id, repository.select().where(RubricVersion.rubric_id == rubric_id)
    )
    if version.frozen:
        raise Conflict(_("This rubric version has been used and is frozen; create a new version instead"))
    criteria, bands = _validated_version(data)
    before = {"criteria": version.criteria, "bands": version.bands}
    version.criteria, version.bands = criteria, bands
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="rubric.version.update",
        subject_type="rubric_version",
        subject_id=version.id,
        centre_id=centre_id,
        before=before,
        after={"criteria": criteria, "bands": bands},
    )
    return version


async def seed_default_rubrics(
    session: AsyncSession, centre_id: int, *, actor: Principal | None = None
) -> list[Rubric]:
    """The three default rubrics for a centre; those it already has (by name) are kept."""
    existing = set(
        (await session.execute(select(Rubric.name).where(Rubric.centre_id == centre_id))).scalars().all()
    )
    created: list[Rubric] = []
    for spec in DEFAULT_RUBRICS:
        if spec["name"] in existing:
            continue
        data = RubricCreate.model_validate(spec)
        criteria, bands = _validated_version(data)
        rubric = Rubric(
            centre_id=centre_id, name=data.name, purpose=data.purpose, description=data.description
        )
        session.add(rubric)
        await session.flush()
        session.add(
            RubricVersion(centre_id=centre_id, rubric_id=rubric.id, number=1, criteria=criteria, bands=bands)
        )
        await session.flush()
        await audit.record(
            session,
            actor=actor,
            action="rubric.create",
            subject_type="rubric",
            subject_id=rubric.id,
            centre_id=centre_id,
            after={"name": data.name, "purpose": data.purpose, "default": True},
        )
        created.append(rubric)
    return created


# --- rounds and subjects ---------------------------------------------------------------------


def round_read(review_round: ReviewRound, subject_count: int) -> RoundRead:
    version = review_round.rubric_version
    return RoundRead(
        id=review_round.id,
        name=review_round.name,
        purpose=review_round.purpose,
        rubric_version_id=version.id,
        rubric_id=version.rubric_id,
        rubric_name=version.rubric.name,
        rubric_version=version.number,
        min_sheets_per_subject=review_round.min_sheets_per_subject,
        max_per_evaluator=review_round.max_per_evaluator,
        blind=review_round.blind,
        spread_threshold=review_round.spread_threshold,
        expert_weight=review_round.expert_weight,
        public_weight=review_round.public_weight,
        due_at=review_round.due_at,
        state=review_round.state,
        closed_at=review_round.closed_at,
        programme_budget=review_round.programme_budget,
        category_budgets={k: Decimal(v) for k, v in (review_round.category_budgets or {}).items()},
        subject_count=subject_count,
        created_at=review_round.created_at,
    )


async def create_round(session: AsyncSession, principal: Principal, data: RoundCreate) -> ReviewRound:
    """Open a round on a rubric version; the version is frozen from now on."""
    centre_id = _centre_of(principal)
    versions = RubricVersionRepository(session, principal)
    try:
        version = await versions.get(data.rubric_version_id)
    except NotFound as exc:
        raise ValidationFailed.field("rubric_version_id", exc.message) from exc
    if any(not key.strip() for key in data.category_budgets):
        raise ValidationFailed.field("category_budgets", _("A category budget needs a category name"))
    review_round = ReviewRound(
        centre_id=centre_id,
        name=data.name,
        purpose=data.purpose,
        rubric_version_id=version.id,
        min_sheets_per_subject=data.min_sheets_per_subject,
        max_per_evaluator=data.max_per_evaluator,
        blind=data.blind,
        spread_threshold=data.spread_threshold,
        expert_weight=data.expert_weight,
        public_weight=data.public_weight,
        due_at=data.due_at,
        state=RoundState.open,
        programme_budget=data.programme_budget,
        category_budgets={k.strip(): f"{v:.2f}" for k, v in data.category_budgets.items()},
        created_by=principal.user_id,
    )
    session.add(review_round)
    if not version.frozen:
        version.frozen = True
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="review_round.create",
        subject_type="review_round",
        subject_id=review_round.id,
        centre_id=centre_id,
        after=data.model_dump(mode="json"),
    )
    return await get_round(session, principal, review_round.id)


async def get_round(session: AsyncSession, principal: Principal, round_id: int) -> ReviewRound:
    repository = RoundRepository(session, principal)
    return await repository.get(round_id, repository.with_rubric())


async def get_round_alone(session: AsyncSession, principal: Principal, round_id: int) -> ReviewRound:
    """The round without its rubric: for readers that need only the round's own columns."""
    return await RoundRepository(session, principal).get(round_id)


async def list_rounds(
    session: AsyncSession, principal: Principal, params: PageParams, state: RoundState | None = None
) -> tuple[Paged[ReviewRound], dict[int, int]]:
    repository = RoundRepository(session, principal)
    statement = repository.with_rubric().order_by(ReviewRound.id.desc())
    if state is not None:
        statement = statement.where(ReviewRound.state == state)
    page = await repository.paginate(statement, params)
    return page, await repository.subject_counts([r.id for r in page.items])


async def round_read_for(session: AsyncSession, principal: Principal, review_round: ReviewRound) -> RoundRead:
    counts = await RoundRepository(session, principal).subject_counts([review_round.id])
    return round_read(review_round, counts.get(review_round.id, 0))


def _require_open(review_round: ReviewRound) -> None:
    if review_round.state is not RoundState.open:
        raise Conflict(_("The round is closed"))


async def add_subject(
    session: AsyncSession, principal: Principal, round_id: int, data: SubjectCreate
) -> RoundSubject:
    """Register what is to be scored (called by grants and incubator, or by staff by hand)."""
    centre_id = _centre_of(principal)
    review_round = await get_round(session, principal, round_id)
    _require_open(review_round)
    duplicate = await session.execute(
        select(RoundSubject.id).where(
            RoundSubject.round_id == review_round.id,
            RoundSubject.subject_type == data.subject_type,
            RoundSubject.subject_id == data.subject_id,
        )
    )
    if duplicate.first() is not None:
        raise Conflict(_("This subject is already in the round"))
    subject = RoundSubject(
        centre_id=centre_id,
        round_id=review_round.id,
        subject_type=data.subject_type,
        subject_id=data.subject_id,
        organisation_id=data.organisation_id,
        category=data.category.strip(),
        title=data.title,
        requested_amount=data.requested_amount,
        display=dict(data.display),
    )
    session.add(subject)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="round_subject.add",
        subject_type="round_subject",
        subject_id=subject.id,
        centre_id=centre_id,
        after=data.model_dump(mode="json", exclude={"display"}) | {"round_id": review_round.id},
    )
    return subject


async def list_subjects(session: AsyncSession, principal: Principal, round_id: int) -> Sequence[RoundSubject]:
    review_round = await get_round(session, principal, round_id)
    return await SubjectRepository(session, principal).of_round(review_round.id)


def display_for(review_round: ReviewRound, subject: RoundSubject) -> dict[str, Any]:
    """What an evaluator sees of a subject: without the organisation's identity when blind."""
    display = dict(subject.display or {})
    if review_round.blind:
        display = {k: v for k, v in display.items() if k.lower() not in IDENTITY_FIELDS}
    return display


# --- assignments and conflicts ---------------------------------------------------------------


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
    centre_id = _centre_of(principal)
    review_round = await get_round(session, principal, round_id)
    _require_open(review_round)
    subject = await SubjectRepository(session, principal).get_one_or_none(
        SubjectRepository(session, principal)
        .select()
        .where(RoundSubject.id == data.subject_id, RoundSubject.round_id == review_round.id)
    )
    if subject is None:
        raise ValidationFailed.field("subject_id", _("No such subject in this round"))
    await _evaluators(session, centre_id, [data.evaluator_id])
    existing = await session.execute(
        select(Assignment.state).where(
            Assignment.subject_id == subject.id, Assignment.evaluator_id == data.evaluator_id
        )
    )
    previous = existing.scalar_one_or_none()
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
    centre_id = _centre_of(principal)
    review_round = await get_round(session, principal, round_id)
    _require_open(review_round)
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
    loaded = {
        a.id: a for a in await assignments.get_all(assignments.detailed().where(Assignment.id.in_(ids)))
    }
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
    statement = repository.mine() if mine else repository.detailed()
    if round_id is not None:
        statement = statement.where(Assignment.round_id == round_id)
    return await repository.paginate(statement.order_by(Assignment.id.desc()), params)


async def get_assignment(session: AsyncSession, principal: Principal, assignment_id: int) -> Assignment:
    repository = AssignmentRepository(session, principal)
    return await repository.get(
        assignment_id, repository.detailed().execution_options(populate_existing=True)
    )


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
    assignment = await _own_assignment(session, principal, assignment_id)
    _require_open(assignment.round)
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


async def _own_assignment(session: AsyncSession, principal: Principal, assignment_id: int) -> Assignment:
    assignment = await get_assignment(session, principal, assignment_id)
    if assignment.evaluator_id != principal.user_id:
        raise Forbidden(_("Only the assigned evaluator can do this"))
    return assignment


async def declare_standing_conflict(
    session: AsyncSession, principal: Principal, data: EvaluatorConflictCreate
) -> EvaluatorConflict:
    centre_id = _centre_of(principal)
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
    statement = repository.select().order_by(EvaluatorConflict.id)
    if not principal.has(Role.staff, Role.admin):
        statement = statement.where(EvaluatorConflict.evaluator_id == principal.user_id)
    return await repository.get_all(statement)


# --- score sheets ----------------------------------------------------------------------------


def sheet_read(sheet: ScoreSheet | None, assignment: Assignment | None = None) -> SheetRead:
    if sheet is None:
        return SheetRead(
            id=None,
            assignment_id=assignment.id if assignment else None,
            kind=SheetKind.expert,
            state=SheetState.draft,
            total=Decimal("0.00"),
            comment="",
            items=[],
            submitted_at=None,
        )
    return SheetRead(
        id=sheet.id,
        assignment_id=sheet.assignment_id,
        kind=sheet.kind,
        state=sheet.state,
        total=_points(sheet.total),
        comment=sheet.comment,
        items=[
            ScoreItemRead(criterion_key=i.criterion_key, score=i.score, comment=i.comment)
            for i in sheet.items
        ],
        submitted_at=sheet.submitted_at,
    )


async def get_sheet(
    session: AsyncSession, principal: Principal, assignment_id: int
) -> tuple[Assignment, ScoreSheet | None]:
    """The evaluator's own sheet; anyone else (staff) only once the round is closed."""
    assignment = await get_assignment(session, principal, assignment_id)
    if assignment.evaluator_id == principal.user_id:
        _require_scoring(assignment)
        return assignment, assignment.sheet
    if assignment.round.state is not RoundState.closed:
        raise Forbidden(_("Score sheets can be opened once the round is closed"))
    return assignment, assignment.sheet


def _require_scoring(assignment: Assignment) -> None:
    if assignment.state is AssignmentState.pending:
        raise Conflict(_("Declare whether you have a conflict of interest before scoring"))
    if assignment.state is AssignmentState.conflict:
        raise Conflict(_("You declared a conflict of interest; this assignment was withdrawn"))


def _apply(sheet: ScoreSheet, criteria: list[Criterion], data: SheetIn) -> None:
    by_key = {c.key: c for c in criteria}
    errors: list[FieldError] = []
    for item in data.items:
        criterion = by_key.get(item.criterion_key)
        if criterion is None:
            errors.append(FieldError(f"items.{item.criterion_key}", _("Not a criterion of this rubric")))
        elif item.score is not None and item.score > criterion.max_points:
            errors.append(
                FieldError(
                    f"items.{item.criterion_key}.score",
                    _("{name}: at most {max} points").format(
                        name=criterion.name, max=f"{criterion.max_points:g}"
                    ),
                )
            )
    if errors:
        raise ValidationFailed(
            errors[0].message if len(errors) == 1 else _("Some scores are not valid"), details=errors
        )
    items = {i.criterion_key: i for i in sheet.items}
    for item in data.items:
        existing = items.get(item.criterion_key)
        if existing is None:
            sheet.items.append(
                ScoreItem(criterion_key=item.criterion_key, score=item.score, comment=item.comment)
            )
        else:
            existing.score, existing.comment = item.score, item.comment
    sheet.comment = data.comment
    sheet.total = _points(sum((i.score for i in sheet.items if i.score is not None), Decimal(0)))


def _require_complete(sheet: ScoreSheet, criteria: list[Criterion]) -> None:
    scored = {i.criterion_key for i in sheet.items if i.score is not None}
    errors = [
        FieldError(
            f"items.{c.key}.score", _("{name}: a score is required before submitting").format(name=c.name)
        )
        for c in criteria
        if not c.bonus and c.key not in scored
    ]
    if errors:
        raise ValidationFailed(
            errors[0].message if len(errors) == 1 else _("Some criteria have no score yet"), details=errors
        )


async def save_draft(
    session: AsyncSession, principal: Principal, assignment_id: int, data: SheetIn
) -> ScoreSheet:
    """Autosave: the draft may be partial; bounds are checked on every save."""
    assignment = await _own_assignment(session, principal, assignment_id)
    _require_scoring(assignment)
    _require_open(assignment.round)
    sheet = assignment.sheet
    created = sheet is None
    if sheet is None:
        sheet = ScoreSheet(
            centre_id=assignment.centre_id,
            round_id=assignment.round_id,
            subject_id=assignment.subject_id,
            assignment=assignment,
            evaluator_id=assignment.evaluator_id,
            kind=SheetKind.expert,
            state=SheetState.draft,
            items=[],
        )
    elif sheet.state is SheetState.submitted:
        raise Conflict(_("The score sheet has been submitted and is locked"))
    _apply(sheet, criteria_of(assignment.round.rubric_version), data)
    if created:
        session.add(sheet)
    await session.flush()
    if created:
        await audit.record(
            session,
            actor=principal,
            action="score_sheet.start",
            subject_type="score_sheet",
            subject_id=sheet.id,
            centre_id=sheet.centre_id,
            after={"assignment_id": assignment.id},
        )
    return sheet


async def submit_sheet(
    session: AsyncSession, principal: Principal, assignment_id: int, data: SheetIn | None = None
) -> ScoreSheet:
    """Submit locks the sheet: every base criterion must carry a score."""
    if data is not None:
        sheet = await save_draft(session, principal, assignment_id, data)
        assignment = await get_assignment(session, principal, assignment_id)
    else:
        assignment = await _own_assignment(session, principal, assignment_id)
        _require_scoring(assignment)
        _require_open(assignment.round)
        if assignment.sheet is None:
            raise ValidationFailed.field("items", _("Some criteria have no score yet"))
        sheet = assignment.sheet
    if sheet.state is SheetState.submitted:
        raise Conflict(_("The score sheet has been submitted and is locked"))
    _require_complete(sheet, criteria_of(assignment.round.rubric_version))
    sheet.state = SheetState.submitted
    sheet.submitted_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="score_sheet.submit",
        subject_type="score_sheet",
        subject_id=sheet.id,
        centre_id=sheet.centre_id,
        before={"state": SheetState.draft},
        after={
            "state": SheetState.submitted,
            "total": sheet.total,
            "scores": {i.criterion_key: i.score for i in sheet.items},
        },
    )
    return sheet


# --- public jury ----------------------------------------------------------------------------


async def issue_jury_codes(
    session: AsyncSession, principal: Principal, round_id: int, subject_id: int, count: int
) -> list[str]:
    """One-time codes for public jurors of one subject; shown once, stored hashed."""
    centre_id = _centre_of(principal)
    review_round = await get_round(session, principal, round_id)
    _require_open(review_round)
    if review_round.public_weight == 0:
        raise Conflict(_("This round has no public jury"))
    subjects = SubjectRepository(session, principal)
    subject = await subjects.get_one_or_none(
        subjects.select().where(RoundSubject.id == subject_id, RoundSubject.round_id == review_round.id)
    )
    if subject is None:
        raise ValidationFailed.field("subject_id", _("No such subject in this round"))
    codes = ["".join(secrets.choice(JURY_ALPHABET) for _i in range(10)) for _n in range(count)]
    session.add_all(
        JuryCode(
            centre_id=centre_id, round_id=review_round.id, subject_id=subject.id, code_hash=token_digest(c)
        )
        for c in codes
    )
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="jury_codes.issue",
        subject_type="round_subject",
        subject_id=subject.id,
        centre_id=centre_id,
        after={"round_id": review_round.id, "count": count},
    )
    return codes


async def jury_ballot(session: AsyncSession, code: str) -> tuple[JuryCode, ReviewRound, RoundSubject]:
    """What a public juror's code opens; unknown codes are not found, used ones refused."""
    normalised = code.strip().upper()
    jury_code = (
        await session.execute(select(JuryCode).where(JuryCode.code_hash == token_digest(normalised)))
    ).scalar_one_or_none()
    if jury_code is None:
        raise NotFound(_("This code is not valid"))
    review_round = (
        await session.execute(
            select(ReviewRound)
            .options(selectinload(ReviewRound.rubric_version).selectinload(RubricVersion.rubric))
            .where(ReviewRound.id == jury_code.round_id)
        )
    ).scalar_one()
    subject = (
        await session.execute(select(RoundSubject).where(RoundSubject.id == jury_code.subject_id))
    ).scalar_one()
    if jury_code.used_at is not None:
        raise Conflict(_("This code has already been used"))
    _require_open(review_round)
    return jury_code, review_round, subject


async def submit_jury_sheet(session: AsyncSession, code: str, data: SheetIn) -> ScoreSheet:
    jury_code, review_round, subject = await jury_ballot(session, code)
    sheet = ScoreSheet(
        centre_id=jury_code.centre_id,
        round_id=review_round.id,
        subject_id=subject.id,
        jury_code_id=jury_code.id,
        kind=SheetKind.public,
        state=SheetState.draft,
        items=[],
    )
    criteria = criteria_of(review_round.rubric_version)
    _apply(sheet, criteria, data)
    _require_complete(sheet, criteria)
    sheet.state = SheetState.submitted
    sheet.submitted_at = utcnow()
    jury_code.used_at = sheet.submitted_at
    session.add(sheet)
    await session.flush()
    await audit.record(
        session,
        actor=None,
        action="score_sheet.public_submit",
        subject_type="score_sheet",
        subject_id=sheet.id,
        centre_id=sheet.centre_id,
        after={"jury_code_id": jury_code.id, "subject_id": subject.id, "total": sheet.total},
    )
    return sheet


# --- progress, close, results ----------------------------------------------------------------


async def progress(session: AsyncSession, principal: Principal, round_id: int) -> ProgressRead:
    """Who has submitted what; never a score before the round closes."""
    review_round = await get_round_alone(session, principal, round_id)
    subjects = await SubjectRepository(session, principal).of_round(review_round.id)
    by_subject: dict[int, list[ProgressEvaluator]] = {}
    counting: dict[int, int] = {}
    for assignment_id, subject_id, evaluator_id, state, submitted, name in await AssignmentRepository(
        session, principal
    ).progress_rows(review_round.id):
        by_subject.setdefault(subject_id, []).append(
            ProgressEvaluator(
                assignment_id=assignment_id,
                evaluator_id=evaluator_id,
                evaluator_name=name or "",
                state=state,
                submitted=bool(submitted),
            )
        )
        if state is not AssignmentState.conflict:
            counting[subject_id] = counting.get(subject_id, 0) + 1
    counts = await SheetRepository(session, principal).submitted_counts(review_round.id)
    expert, public = counts[SheetKind.expert], counts[SheetKind.public]
    rows = [
        ProgressSubject(
            subject_id=subject.id,
            title=subject.title,
            category=subject.category,
            required=review_round.min_sheets_per_subject,
            submitted=expert.get(subject.id, 0),
            public_submitted=public.get(subject.id, 0),
            needs_reassignment=counting.get(subject.id, 0) < review_round.min_sheets_per_subject,
            evaluators=by_subject.get(subject.id, []),
        )
        for subject in subjects
    ]
    reason = close_blocked_reason(review_round, rows)
    return ProgressRead(
        round_id=review_round.id,
        state=review_round.state,
        can_close=reason is None,
        close_blocked_reason=reason,
        subjects=rows,
    )


def close_blocked_reason(review_round: ReviewRound, rows: Sequence[ProgressSubject]) -> str | None:
    if review_round.state is RoundState.closed:
        return _("The round is closed")
    if not rows:
        return _("The round has no subjects")
    short = [r for r in rows if r.submitted < r.required]
    if short:
        return _("{n} subject(s) have fewer submitted score sheets than the minimum of {m}: {titles}").format(
            n=len(short), m=review_round.min_sheets_per_subject, titles="、".join(r.title for r in short[:5])
        )
    return None


def _exact_trimmed_mean(values: Sequence[Decimal]) -> Decimal:
    ordered = sorted(values)
    if len(ordered) >= statistics.TRIM_FROM:
        ordered = ordered[1:-1]
    return _points(sum(ordered, Decimal(0)) / len(ordered))


async def close_round(session: AsyncSession, principal: Principal, round_id: int) -> ReviewRound:
    """Close the round and compute every subject's result once, for good."""
    centre_id = _centre_of(principal)
    status = await progress(session, principal, round_id)
    if status.close_blocked_reason is not None:
        raise Conflict(status.close_blocked_reason)
    review_round = await get_round(session, principal, round_id)
    if review_round.state is not RoundState.open:  # closed since the progress was read
        raise Conflict(_("The round is closed"))
    subjects = await SubjectRepository(session, principal).of_round(review_round.id)
    sheets = await SheetRepository(session, principal).submitted_in_round(review_round.id)
    expert = [s for s in sheets if s.kind is SheetKind.expert]
    triples = [(s.evaluator_id or 0, s.subject_id, float(s.total)) for s in expert]
    normalised = statistics.normalised_scores(triples)
    version = review_round.rubric_version
    ranking: dict[int, float] = {}
    for subject in subjects:
        totals = [s.total for s in expert if s.subject_id == subject.id]
        floats = [float(t) for t in totals]
        public = [s.total for s in sheets if s.kind is SheetKind.public and s.subject_id == subject.id]
        expert_score = _exact_trimmed_mean(totals)
        public_mean = _points(sum(public, Decimal(0)) / len(public)) if public else None
        rank_score = normalised.get(subject.id, float(expert_score))
        if public_mean is not None and review_round.public_weight:
            final = _points(
                (expert_score * review_round.expert_weight + public_mean * review_round.public_weight) / 100
            )
            rank_score = (
                rank_score * review_round.expert_weight + float(public_mean) * review_round.public_weight
            ) / 100
        else:
            final = expert_score
        spread = statistics.spread(floats)
        subject.final_score = final
        subject.grade = grade_for(version, final).code.value
        subject.flagged = spread > float(review_round.spread_threshold)
        subject.stats = {
            "expert_sheets": len(totals),
            "public_sheets": len(public),
            "mean": str(_points(statistics.mean(floats))),
            "trimmed_mean": str(expert_score),
            "normalised": str(_points(normalised.get(subject.id, statistics.mean(floats)))),
            "stdev": str(_points(statistics.stdev(floats))),
            "spread": str(_points(spread)),
            "public_mean": str(public_mean) if public_mean is not None else None,
            "rank_score": str(_points(rank_score)),
        }
        ranking[subject.id] = rank_score
    by_category: dict[str, list[RoundSubject]] = {}
    for subject in subjects:
        by_category.setdefault(subject.category, []).append(subject)
    for members in by_category.values():
        members.sort(key=lambda s: (-ranking[s.id], -(s.final_score or 0), s.id))
        for position, subject in enumerate(members, start=1):
            subject.rank_in_category = position
    groups = list(statistics.group_by_subject(triples).values())
    icc = statistics.icc1(groups)
    alpha = statistics.krippendorff_alpha_interval(groups)
    review_round.agreement = {
        "icc1": None if icc is None else round(icc, 3),
        "alpha": None if alpha is None else round(alpha, 3),
        "sheets": len(expert),
    }
    review_round.state = RoundState.closed
    review_round.closed_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="review_round.close",
        subject_type="review_round",
        subject_id=review_round.id,
        centre_id=centre_id,
        before={"state": RoundState.open},
        after={
            "state": RoundState.closed,
            "agreement": review_round.agreement,
            "results": {s.id: {"score": s.final_score, "grade": s.grade} for s in subjects},
        },
    )
    return review_round


def _stat(stats: dict[str, Any] | None, key: str) -> Decimal | None:
    value = (stats or {}).get(key)
    return None if value is None else Decimal(str(value))


async def results(session: AsyncSession, principal: Principal, round_id: int) -> ResultsRead:
    review_round = await get_round_alone(session, principal, round_id)
    if review_round.state is not RoundState.closed:
        raise Conflict(_("Results are shown once the round is closed"))
    subjects = await SubjectRepository(session, principal).of_round(review_round.id)
    agreement = review_round.agreement or {}
    rows = [
        SubjectResult(
            subject_id=s.id,
            subject_type=s.subject_type,
            subject_ref=s.subject_id,
            title=s.title,
            category=s.category,
            expert_sheets=int((s.stats or {}).get("expert_sheets", 0)),
            public_sheets=int((s.stats or {}).get("public_sheets", 0)),
            mean=_stat(s.stats, "mean"),
            trimmed_mean=_stat(s.stats, "trimmed_mean"),
            normalised=_stat(s.stats, "normalised"),
            stdev=_stat(s.stats, "stdev"),
            spread=_stat(s.stats, "spread"),
            public_mean=_stat(s.stats, "public_mean"),
            final_score=s.final_score,
            grade=GradeCode(s.grade) if s.grade else None,
            grade_label=_(GRADE_LABELS[GradeCode(s.grade)]) if s.grade else None,
            rank_in_category=s.rank_in_category,
            flagged=s.flagged,
        )
        for s in sorted(subjects, key=lambda s: (s.category, s.rank_in_category or 0, s.id))
    ]
    return ResultsRead(
        round_id=review_round.id,
        agreement=Agreement(
            icc1=_stat(agreement, "icc1"),
            alpha=_stat(agreement, "alpha"),
            sheets=int(agreement.get("sheets", 0)),
        ),
        subjects=rows,
    )


async def recommendation(session: AsyncSession, principal: Principal, round_id: int) -> RecommendationRead:
    """Take subjects in rank order while the category and programme budgets allow.

    Order: the ranking score across the round (the per-evaluator normalised score,
    weighted with the public jury where there is one), as used for the ranks within each
    category. A subject that does not fit the
    remaining budget is passed over and the next one is tried; a failing grade is never
    recommended. Staff adjustments (with a reason) override the rule for their subject
    and still count against the budgets.
    """
    review_round = await get_round(session, principal, round_id)
    if review_round.state is not RoundState.closed:
        raise Conflict(_("The recommendation is made once the round is closed"))
    subjects = await SubjectRepository(session, principal).of_round(review_round.id)
    adjustments = await AdjustmentRepository(session, principal).of_round(review_round.id)
    category_budgets = {k: Decimal(v) for k, v in (review_round.category_budgets or {}).items()}
    spent: dict[str, Decimal] = {}
    total = Decimal("0.00")
    ordered = sorted(
        subjects,
        key=lambda s: (-(_stat(s.stats, "rank_score") or 0), -(s.final_score or 0), s.id),
    )
    items: list[RecommendationItem] = []
    for subject in ordered:
        amount = subject.requested_amount or Decimal("0.00")
        adjustment = adjustments.get(subject.id)
        cat_budget = category_budgets.get(subject.category)
        fits_category = cat_budget is None or spent.get(subject.category, Decimal(0)) + amount <= cat_budget
        fits_programme = (
            review_round.programme_budget is None or total + amount <= review_round.programme_budget
        )
        if adjustment is not None:
            recommended, reason = adjustment.recommended, adjustment.reason
        elif subject.grade == GradeCode.fail.value:
            recommended, reason = False, _("Below the pass mark")
        elif not fits_category:
            recommended, reason = False, _("Exceeds the remaining budget of the category")
        elif not fits_programme:
            recommended, reason = False, _("Exceeds the remaining programme budget")
        else:
            recommended, reason = True, _("Within budget in rank order")
        if recommended:
            spent[subject.category] = spent.get(subject.category, Decimal(0)) + amount
            total += amount
        items.append(
            RecommendationItem(
                subject_id=subject.id,
                subject_type=subject.subject_type,
                subject_ref=subject.subject_id,
                title=subject.title,
                category=subject.category,
                rank_in_category=subject.rank_in_category,
                final_score=subject.final_score,
                requested_amount=subject.requested_amount,
                recommended=recommended,
                reason=reason,
                adjusted=adjustment is not None,
            )
        )
    categories = sorted({s.category for s in subjects} | set(category_budgets))
    return RecommendationRead(
        round_id=review_round.id,
        programme_budget=review_round.programme_budget,
        recommended_total=total,
        categories=[
            CategoryTotal(
                category=c, budget=category_budgets.get(c), recommended_total=spent.get(c, Decimal(0))
            )
            for c in categories
        ],
        items=items,
    )


async def adjust_recommendation(
    session: AsyncSession, principal: Principal, round_id: int, data: AdjustmentIn
) -> RecommendationRead:
    centre_id = _centre_of(principal)
    review_round = await get_round(session, principal, round_id)
    if review_round.state is not RoundState.closed:
        raise Conflict(_("The recommendation is made once the round is closed"))
    subjects = SubjectRepository(session, principal)
    subject = await subjects.get_one_or_none(
        subjects.select().where(RoundSubject.id == data.subject_id, RoundSubject.round_id == review_round.id)
    )
    if subject is None:
        raise ValidationFailed.field("subject_id", _("No such subject in this round"))
    existing = (await AdjustmentRepository(session, principal).of_round(review_round.id)).get(subject.id)
    before = None if existing is None else {"recommended": existing.recommended, "reason": existing.reason}
    if existing is None:
        existing = RecommendationAdjustment(
            centre_id=centre_id, round_id=review_round.id, subject_id=subject.id
        )
        session.add(existing)
    existing.recommended, existing.reason = data.recommended, data.reason.strip()
    existing.adjusted_by = principal.user_id
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="recommendation.adjust",
        subject_type="round_subject",
        subject_id=subject.id,
        centre_id=centre_id,
        before=before,
        after={"recommended": data.recommended, "reason": existing.reason},
    )
    return await recommendation(session, principal, round_id)


# --- outcomes for other domains --------------------------------------------------------------


@dataclass(frozen=True)
class SubjectOutcome:
    """The finalised result of one subject of a closed round (money rules read this)."""

    round_id: int
    purpose: RoundPurpose
    subject_type: str
    subject_ref: int
    total: Decimal
    grade: GradeCode
    closed_at: dt.datetime

    @property
    def label(self) -> str:
        return _(GRADE_LABELS[self.grade])

    @property
    def passed(self) -> bool:
        return self.grade is not GradeCode.fail


async def subject_outcome(
    session: AsyncSession, principal: Principal, round_subject_id: int
) -> SubjectOutcome:
    subject = await SubjectRepository(session, principal).get(round_subject_id)
    review_round = await get_round(session, principal, subject.round_id)
    if review_round.state is not RoundState.closed or subject.final_score is None or subject.grade is None:
        raise Conflict(_("Results are shown once the round is closed"))
    assert review_round.closed_at is not None
    return SubjectOutcome(
        round_id=review_round.id,
        purpose=review_round.purpose,
        subject_type=subject.subject_type,
        subject_ref=subject.subject_id,
        total=subject.final_score,
        grade=GradeCode(subject.grade),
        closed_at=review_round.closed_at,
    )


async def latest_outcome(
    session: AsyncSession, principal: Principal, subject_type: str, subject_ref: int, purpose: RoundPurpose
) -> SubjectOutcome | None:
    """The most recent closed result for e.g. ``("award", 12, RoundPurpose.midterm)``."""
    repository = SubjectRepository(session, principal)
    statement = (
        repository.select()
        .join(ReviewRound, ReviewRound.id == RoundSubject.round_id)
        .where(
            RoundSubject.subject_type == subject_type,
            RoundSubject.subject_id == subject_ref,
            ReviewRound.purpose == purpose,
            ReviewRound.state == RoundState.closed,
        )
        .order_by(ReviewRound.closed_at.desc(), RoundSubject.id.desc())
        .limit(1)
    )
    subject = await repository.get_one_or_none(statement)
    return None if subject is None else await subject_outcome(session, principal, subject.id)


async def get_version(session: AsyncSession, principal: Principal, version_id: int) -> RubricVersion:
    """A rubric version of the principal's centre (404 otherwise)."""
    repository = RubricVersionRepository(session, principal)
    return await repository.get(version_id, repository.with_rubric())


def score_directly(version: RubricVersion, scores: dict[str, Decimal]) -> tuple[Decimal, Grade]:
    """Score one subject on a rubric in a single sitting (a capacity assessment by its assessor).

    Every base criterion needs a score within its bounds; bonus criteria are optional and
    capped by their maximum. The version is frozen from now on, like any used version.
    """
    criteria = {c.key: c for c in criteria_of(version)}
    errors: list[FieldError] = []
    unknown = sorted(set(scores) - set(criteria))
    for key in unknown:
        errors.append(FieldError(f"scores.{key}", _("No such criterion in this rubric")))
    for key, criterion in criteria.items():
        value = scores.get(key)
        if value is None:
            if not criterion.bonus:
                errors.append(
                    FieldError(f"scores.{key}", _("{name}: a score is required").format(name=criterion.name))
                )
            continue
        if value < 0 or value > criterion.max_points:
            errors.append(
                FieldError(
                    f"scores.{key}",
                    _("{name}: between 0 and {max} points").format(
                        name=criterion.name, max=format(criterion.max_points.normalize(), "f")
                    ),
                )
            )
    if errors:
        raise ValidationFailed(errors[0].message, details=errors)
    total = sum((_points(scores[key]) for key in criteria if key in scores), Decimal(0)).quantize(CENT)
    version.frozen = True
    return total, grade_for(version, total)
