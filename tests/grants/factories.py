"""Factories for the grant cycle: programmes open for applications, applicant organisations, a
review; awards, contracts and the people of a centre's money (award creation itself is the
awards service's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Centre, Role
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import AssignmentCreate, DeclarationIn
from evaluations.results import service as result_service
from evaluations.rounds import service as round_service
from evaluations.rubrics import service as rubric_service
from evaluations.rubrics.models import Rubric
from evaluations.sheets import service as sheet_service
from evaluations.sheets.schemas import ScoreItemIn, SheetIn
from grants.applications import review
from grants.applications import service as applications
from grants.applications.models import Application, ApplicationState, Indicator, IndicatorKind
from grants.applications.schemas import ApplicationCreate
from grants.awards.models import Award
from grants.awards.schedule import tranches_for
from grants.contracts import service as contracts
from grants.contracts.models import Contract
from grants.contracts.schemas import ContractIn
from grants.programmes import service as programmes
from grants.programmes.models import (
    Programme,
    ProgrammeCategory,
    ProgrammeKind,
    ProgrammeState,
    TranchePlanRow,
    TrancheTrigger,
)
from grants.programmes.schemas import ProgrammeCreate
from incubator import service as incubator
from incubator.models import MemberRole, Organisation, OrganisationMember
from incubator.schemas import OrganisationCreate
from tests.factories import Actor, make_centre, make_user
from tests.incubator.helpers import make_org

NOW = dt.datetime.now(dt.UTC)


async def review_rubric_version(session: AsyncSession, centre_id: int) -> int:
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    await rubric_service.seed_default_rubrics(session, centre_id)
    rubrics = (
        (
            await session.execute(
                select(Rubric)
                .options(selectinload(Rubric.versions))
                .where(Rubric.centre_id == centre_id)
                .order_by(Rubric.id)
            )
        )
        .scalars()
        .all()
    )
    return rubrics[0].versions[-1].id


def programme_payload(rubric_version_id: int | None, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "2026年玉林街道社区公益创投",
        "year": 2026,
        "kind": "venture",
        "total_budget": "500000.00",
        "max_award_registered": "200000.00",
        "max_award_community": "30000.00",
        "min_cofunding_pct": "10",
        "management_fee_cap_pct": "10",
        "personnel_cap_pct": "30",
        "rubric_version_id": rubric_version_id,
        "min_reviewers": 3,
        "opens_at": (NOW - dt.timedelta(days=10)).isoformat(),
        "closes_at": (NOW + dt.timedelta(days=10)).isoformat(),
        "publicity_working_days": 5,
        "categories": [
            {"code": "elderly", "name": "为老服务", "budget": "300000.00"},
            {"code": "youth", "name": "青少年服务", "budget": "200000.00"},
        ],
        "tranche_plan": [
            {"share_pct": "50", "trigger": "on_signing"},
            {"share_pct": "30", "trigger": "midterm_passed"},
            {"share_pct": "20", "trigger": "final_passed"},
        ],
    }
    payload.update(overrides)
    return payload


async def open_programme(session: AsyncSession, staff: Actor, **overrides: Any) -> Programme:
    assert staff.user.centre_id is not None
    version = await review_rubric_version(session, staff.user.centre_id)
    programme = await programmes.create_programme(
        session, staff.principal, ProgrammeCreate.model_validate(programme_payload(version, **overrides))
    )
    await programmes.open_programme(session, staff.principal, programme.id)
    return await programmes.get_programme(session, staff.principal, programme.id)


async def applicant_org(
    session: AsyncSession, centre: Centre, staff: Actor, *, verified: bool = True, **overrides: Any
) -> tuple[Actor, Organisation]:
    owner = await make_user(session, centre, Role.applicant)
    values: dict[str, Any] = {
        "name": "玉林社区邻里互助会",
        "kind": "community_group",
        "legal_status": "filed",
        "service_fields": ["elderly"],
        "community": "玉林北路社区",
    }
    values.update(overrides)
    org = await incubator.create_organisation(session, staff.principal, OrganisationCreate(**values))
    if verified:
        await incubator.verify_organisation(session, staff.principal, org.id)
    session.add(OrganisationMember(organisation_id=org.id, user_id=owner.user.id, role=MemberRole.owner))
    await session.flush()
    return owner, org


def budget(
    grant_personnel: str = "6000", grant_activities: str = "14000", cofunding: str = "3000"
) -> list[dict[str, Any]]:
    return [
        {
            "category": "personnel",
            "item": "项目社工补贴",
            "unit_price": grant_personnel,
            "quantity": "1",
            "funded_by": "grant",
        },
        {
            "category": "activities",
            "item": "长者茶话会",
            "unit_price": grant_activities,
            "quantity": "1",
            "funded_by": "grant",
        },
        {
            "category": "materials",
            "item": "活动物资（自筹）",
            "unit_price": cofunding,
            "quantity": "1",
            "funded_by": "cofunding",
        },
    ]


def application_payload(programme: Programme, org: Organisation, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "programme_id": programme.id,
        "organisation_id": org.id,
        "title": "“银龄互助”社区长者关爱项目",
        "category_id": programme.categories[0].id,
        "target_community": "玉林北路社区",
        "beneficiaries": "辖区独居及高龄长者",
        "beneficiary_count": 120,
        "needs": "独居长者缺少日常关照",
        "objectives": "建立邻里互助网络",
        "activities": [{"name": "入户探访", "starts_on": "2026-03-01", "ends_on": "2026-12-31"}],
        "budget_lines": budget(),
        "indicators": [{"kind": "output", "name": "探访人次", "target": "600", "unit": "人次"}],
    }
    payload.update(overrides)
    return payload


def application_changes(programme: Programme, org: Organisation, **overrides: Any) -> dict[str, Any]:
    """The body of an edit (``PUT``): an application's content, without its programme and organisation."""
    payload = application_payload(programme, org, **overrides)
    del payload["programme_id"], payload["organisation_id"]
    return payload


async def submitted_application(
    session: AsyncSession, programme: Programme, owner: Actor, org: Organisation, **overrides: Any
) -> Application:
    application = await applications.create_application(
        session,
        owner.principal,
        ApplicationCreate.model_validate(application_payload(programme, org, **overrides)),
    )
    await applications.submit_application(session, owner.principal, application.id)
    return application


async def run_review(
    session: AsyncSession,
    staff: Actor,
    evaluators: list[Actor],
    programme_id: int,
    totals: dict[int, list[int]],
) -> None:
    """Start review, have each evaluator score each application to the given totals, close, collect."""
    programme = await review.start_review(session, staff.principal, programme_id)
    assert programme.review_round_id is not None
    round_id = programme.review_round_id
    subjects = {
        s.subject_id: s for s in await round_service.list_subjects(session, staff.principal, round_id)
    }
    review_round = await round_service.get_round(session, staff.principal, round_id)
    version = await rubric_service.get_version(session, staff.principal, review_round.rubric_version_id)
    criteria = [c for c in rubric_service.criteria_of(version) if not c.bonus]
    for application_id, scores in totals.items():
        for evaluator, total in zip(evaluators, scores, strict=True):
            assignment = await assignment_service.assign(
                session,
                staff.principal,
                round_id,
                AssignmentCreate(subject_id=subjects[application_id].id, evaluator_id=evaluator.user.id),
                incubator.member_user_ids,
            )
            await assignment_service.declare(
                session, evaluator.principal, assignment.id, DeclarationIn(has_conflict=False)
            )
            items = [
                ScoreItemIn(
                    criterion_key=c.key,
                    score=(c.max_points * Decimal(total) / Decimal(100)).quantize(Decimal("0.01")),
                )
                for c in criteria
            ]
            await sheet_service.submit_sheet(
                session, evaluator.principal, assignment.id, SheetIn(items=items)
            )
    await result_service.close_round(session, staff.principal, round_id)
    await review.collect_review(session, staff.principal, programme_id)


PLAN = (
    (Decimal("50"), TrancheTrigger.on_signing),
    (Decimal("30"), TrancheTrigger.midterm_passed),
    (Decimal("20"), TrancheTrigger.final_passed),
)


@dataclass
class Cast:
    """The people of one centre: staff, two finance officers, one person with both roles, a grantee."""

    centre: Centre
    staff: Actor
    finance: Actor
    finance2: Actor
    both: Actor
    grantee: Actor
    org: Organisation


async def make_cast(session: AsyncSession, *, uscc: str | None = None) -> Cast:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    finance = await make_user(session, centre, Role.finance)
    finance2 = await make_user(session, centre, Role.finance)
    both = await make_user(session, centre, Role.staff, Role.finance)
    grantee = await make_user(session, centre, Role.applicant)
    overrides: dict[str, str] = {"name": "玉林社区邻里互助会"}
    if uscc:
        overrides.update(legal_status="registered", uscc=uscc)
    org = await make_org(session, staff, owner=grantee, **overrides)
    return Cast(centre, staff, finance, finance2, both, grantee, org)


async def make_programme(
    session: AsyncSession,
    centre: Centre,
    *,
    budget: Decimal = Decimal("1000000.00"),
) -> Programme:
    """A running programme. Its tranche plan is not stored: on SQLite the plan rows' CHECK
    (``share_pct <= 100`` on a scaled-integer column) refuses any share above 1 % — reported
    to the integrator; the awards below take the plan from the factory instead."""
    opens = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    programme = Programme(
        centre_id=centre.id,
        name="2026年玉林街道公益创投",
        year=2026,
        kind=ProgrammeKind.venture,
        state=ProgrammeState.running,
        total_budget=budget,
        committed=Decimal("0.00"),
        max_award_registered=Decimal("200000.00"),
        max_award_community=Decimal("30000.00"),
        opens_at=opens,
        closes_at=opens + dt.timedelta(days=30),
        categories=[ProgrammeCategory(code="elderly", name="为老服务", budget=budget / 2)],
    )
    session.add(programme)
    await session.flush()
    return programme


async def make_award(
    session: AsyncSession,
    cast: Cast,
    *,
    amount: Decimal = Decimal("100000.00"),
    programme: Programme | None = None,
    plan: Sequence[tuple[Decimal, TrancheTrigger]] = PLAN,
    title: str = "长者助餐互助计划",
) -> Award:
    programme = programme or await make_programme(session, cast.centre)
    category = programme.categories[0] if programme.categories else None
    application = Application(
        centre_id=cast.centre.id,
        programme_id=programme.id,
        organisation_id=cast.org.id,
        category_id=category.id if category else None,
        state=ApplicationState.awarded,
        title=title,
        requested_amount=amount,
        approved_amount=amount,
        indicators=[
            Indicator(
                seq=1, kind=IndicatorKind.output, name="助餐服务人次", target=Decimal("2000"), unit="人次"
            ),
            Indicator(seq=2, kind=IndicatorKind.outcome, name="长者满意度", target=Decimal("90"), unit="%"),
        ],
    )
    session.add(application)
    await session.flush()
    rows = [TranchePlanRow(seq=i, share_pct=s, trigger=t) for i, (s, t) in enumerate(plan, 1)]
    award = Award(
        centre_id=cast.centre.id,
        programme_id=programme.id,
        application_id=application.id,
        organisation_id=cast.org.id,
        category_id=category.id if category else None,
        title=title,
        amount=amount,
        paid=Decimal("0.00"),
        awarded_on=dt.date(2026, 5, 1),
        tranches=tranches_for(amount, rows),
    )
    programme.committed += amount
    if category is not None:
        category.committed += amount
    session.add(award)
    await session.flush()
    return award


def contract_payload(provider_id: int, **overrides: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "purchaser": "成都市武侯区玉林街道办事处",
        "purchaser_uscc": "11510107MB1M12345X",
        "provider_id": provider_id,
        "title": "玉林街道居家养老上门服务项目",
        "service_category": "elderly",
        "content": "为辖区80岁以上独居老人提供每周一次上门探访和助洁服务。",
        "procurement_method": "competitive_consultation",
        "amount": "200000.00",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "indicators": [{"name": "上门服务人次", "target": "1500", "unit": "人次"}],
        "milestones": [
            {"share_pct": "40", "condition": "on_signing", "description": "合同签订后支付"},
            {"share_pct": "30", "condition": "on_start", "description": "服务启动后支付"},
            {"share_pct": "30", "condition": "on_evaluation", "description": "绩效评估后按规则支付尾款"},
        ],
    }
    payload.update(overrides)
    return payload


async def make_contract(session: AsyncSession, cast: Cast, **overrides: object) -> Contract:
    return await contracts.create_contract(
        session, cast.staff.principal, ContractIn.model_validate(contract_payload(cast.org.id, **overrides))
    )
