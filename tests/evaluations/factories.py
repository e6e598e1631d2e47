"""Test data for the evaluations domain: a rubric, a round, subjects, evaluators, sheets."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Centre, Role
from evaluations.assignments import service as assignment_service
from evaluations.assignments.models import Assignment
from evaluations.assignments.schemas import AssignmentCreate, DeclarationIn
from evaluations.rounds import service as round_service
from evaluations.rounds.models import ReviewRound, RoundSubject
from evaluations.rounds.schemas import RoundCreate, SubjectCreate
from evaluations.rubrics import service as rubric_service
from evaluations.rubrics.models import RoundPurpose, Rubric
from evaluations.rubrics.schemas import RubricCreate
from evaluations.sheets import service as sheet_service
from evaluations.sheets.schemas import ScoreItemIn, SheetIn
from tests.factories import Actor, make_centre, make_user

CRITERIA: list[dict[str, Any]] = [
    {"key": "need", "name": "需求分析", "max_points": "60", "guidance": "需求是否真实"},
    {"key": "budget", "name": "预算合理性", "max_points": "40"},
    {"key": "matched", "name": "配套资金加分", "max_points": "5", "bonus": True},
]


async def no_members(_session: AsyncSession, _organisation_id: int) -> set[int]:
    return set()


def members_of(mapping: dict[int, set[int]]) -> assignment_service.MembershipLookup:
    async def lookup(_session: AsyncSession, organisation_id: int) -> set[int]:
        return mapping.get(organisation_id, set())

    return lookup


def sheet_for(total: int | Decimal, *, bonus: int | None = None, comment: str = "") -> SheetIn:
    """A complete sheet whose base scores add up to ``total``."""
    value = Decimal(total)
    need = min(value, Decimal(60))
    items = [
        ScoreItemIn(criterion_key="need", score=need, comment="需求清楚"),
        ScoreItemIn(criterion_key="budget", score=value - need),
    ]
    if bonus is not None:
        items.append(ScoreItemIn(criterion_key="matched", score=Decimal(bonus)))
    return SheetIn(items=items, comment=comment)


@dataclass
class Scenario:
    centre: Centre
    staff: Actor
    evaluators: list[Actor]
    rubric: Rubric
    round: ReviewRound
    subjects: list[RoundSubject] = field(default_factory=list)


async def make_rubric(session: AsyncSession, staff: Actor, **overrides: Any) -> Rubric:
    data: dict[str, Any] = {
        "name": "测试评审表",
        "purpose": RoundPurpose.application_review,
        "criteria": CRITERIA,
    }
    data.update(overrides)
    return await rubric_service.create_rubric(session, staff.principal, RubricCreate.model_validate(data))


async def make_scenario(
    session: AsyncSession,
    *,
    evaluators: int = 3,
    subjects: int = 2,
    min_sheets: int = 2,
    **round_fields: Any,
) -> Scenario:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    panel = [await make_user(session, centre, Role.evaluator) for _ in range(evaluators)]
    rubric = await make_rubric(session, staff)
    fields: dict[str, Any] = {
        "name": "2026年公益创投项目评审",
        "purpose": RoundPurpose.application_review,
        "rubric_version_id": rubric.versions[0].id,
        "min_sheets_per_subject": min_sheets,
    }
    fields.update(round_fields)
    review_round = await round_service.create_round(
        session, staff.principal, RoundCreate.model_validate(fields)
    )
    scenario = Scenario(centre, staff, panel, rubric, review_round)
    for n in range(subjects):
        scenario.subjects.append(await add_subject(session, scenario, n + 1, organisation_id=100 + n + 1))
    return scenario


async def add_subject(
    session: AsyncSession,
    scenario: Scenario,
    ref: int,
    *,
    organisation_id: int | None = None,
    category: str = "为老服务",
    amount: str | None = "50000.00",
    display: dict[str, str] | None = None,
) -> RoundSubject:
    return await round_service.add_subject(
        session,
        scenario.staff.principal,
        scenario.round.id,
        SubjectCreate(
            subject_type="application",
            subject_id=ref,
            organisation_id=organisation_id,
            category=category,
            title=f"项目{ref}",
            requested_amount=Decimal(amount) if amount else None,
            display=display or {"organisation_name": f"社会组织{ref}", "summary": "为社区老人提供助餐服务"},
        ),
    )


async def assign(
    session: AsyncSession, scenario: Scenario, subject: RoundSubject, evaluator: Actor
) -> Assignment:
    return await assignment_service.assign(
        session,
        scenario.staff.principal,
        scenario.round.id,
        AssignmentCreate(subject_id=subject.id, evaluator_id=evaluator.user.id),
        no_members,
    )


async def score(
    session: AsyncSession, scenario: Scenario, subject: RoundSubject, evaluator: Actor, total: int
) -> None:
    """Assign, declare no conflict, and submit a sheet with this total."""
    assignment = await assign(session, scenario, subject, evaluator)
    await assignment_service.declare(
        session, evaluator.principal, assignment.id, DeclarationIn(has_conflict=False)
    )
    await sheet_service.submit_sheet(session, evaluator.principal, assignment.id, sheet_for(total))
