"""Awards, contracts and people for the money tests (award creation itself is the grants service's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Centre, Role
from grants.contracts import service as contracts
from grants.contracts.models import Contract
from grants.contracts.schemas import ContractIn
from grants.models import (
    Application,
    ApplicationState,
    Award,
    Indicator,
    IndicatorKind,
    Programme,
    ProgrammeCategory,
    ProgrammeKind,
    ProgrammeState,
    TranchePlanRow,
    TrancheTrigger,
)
from grants.schedule import tranches_for
from incubator.models import Organisation
from tests.factories import Actor, make_centre, make_user
from tests.incubator.helpers import make_org

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
