"""Review rounds and their subjects: callers (grants, incubator, staff by hand) open a round on a
rubric version, which freezes it, and register what is to be scored."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _
from core.identity.principal import Principal
from core.repository import Paged, PageParams
from evaluations import access
from evaluations.rounds.models import ReviewRound, RoundState, RoundSubject
from evaluations.rounds.repository import RoundRepository, SubjectRepository
from evaluations.rounds.schemas import RoundCreate, RoundRead, SubjectCreate
from evaluations.rubrics.repository import RubricVersionRepository

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
    centre_id = access.centre_of(principal)
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
    page = await repository.paginate(repository.listing(state), params)
    return page, await repository.subject_counts([r.id for r in page.items])


async def round_read_for(session: AsyncSession, principal: Principal, review_round: ReviewRound) -> RoundRead:
    counts = await RoundRepository(session, principal).subject_counts([review_round.id])
    return round_read(review_round, counts.get(review_round.id, 0))


async def add_subject(
    session: AsyncSession, principal: Principal, round_id: int, data: SubjectCreate
) -> RoundSubject:
    """Register what is to be scored (called by grants and incubator, or by staff by hand)."""
    centre_id = access.centre_of(principal)
    review_round = await get_round(session, principal, round_id)
    access.require_open(review_round)
    if await SubjectRepository(session, principal).registered(
        review_round.id, data.subject_type, data.subject_id
    ):
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
