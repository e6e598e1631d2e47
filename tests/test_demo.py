"""The demo centre: every role can log in, organisations at different stages, a grant cycle with awards."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.repository import get_user_by_email
from core.security import verify_password
from demo.loader import DEMO_PASSWORD, load_demo
from grants.applications.models import Application
from grants.awards.models import Award
from grants.programmes.models import Programme
from incubator.models import Organisation


async def test_demo_centre(session: AsyncSession) -> None:
    accounts = await load_demo(session)
    assert accounts is not None
    roles = {a.role for a in accounts}
    assert {"staff", "applicant", "finance", "evaluator", "admin"} <= roles
    staff = await get_user_by_email(session, "staff@yulin.demo")
    assert staff is not None
    assert verify_password(staff.password_hash, DEMO_PASSWORD)

    states = Counter(
        o.incubation_state.value if o.incubation_state else None
        for o in (await session.execute(select(Organisation))).scalars()
    )
    # the hub organisation and its resident teams are not incubated
    assert states == Counter({"incubating": 2, "applied": 1, "assessed": 1, "exited": 1, None: 8})
    programmes = {p.name: p.state.value for p in (await session.execute(select(Programme))).scalars()}
    assert sorted(programmes.values()) == ["open", "running"]
    applications = Counter(a.state.value for a in (await session.execute(select(Application))).scalars())
    assert applications == Counter({"awarded": 3, "draft": 1, "submitted": 1})
    awards = (await session.execute(select(Award))).scalars().all()
    assert len(awards) == 3
    for award in awards:
        assert sum(t.amount for t in await _tranches(session, award.id)) == award.amount

    await _money(session)
    await _network(session)

    assert await load_demo(session) is None  # a second load changes nothing


async def _network(session: AsyncSession) -> None:
    import datetime as dt

    from communities.models import Community
    from cultivation import service as cultivation
    from cultivation.models import Site
    from cultivation.progress import Standing

    names = {c.name for c in (await session.execute(select(Community))).scalars()}
    assert {"玉林北路社区", "芳草社区", "玉林东路社区", "玉林南路社区", "玉林西路社区"} <= names
    sites = {s.name: s.level.value for s in (await session.execute(select(Site))).scalars()}
    assert sites["玉林街道社会组织孵化中心"] == "hub"
    assert sites["玉林北路一院落友邻点"] == "point"
    station = await get_user_by_email(session, "station@yulin.demo")
    assert station is not None
    assert station.community_id is not None
    centre_id = station.centre_id
    assert centre_id is not None
    rows = await cultivation.centre_progress(session, centre_id, 2026, dt.date(2026, 11, 27))
    standings = {r.progress.standing for r in rows}
    assert standings == {Standing.met, Standing.behind}
    flagship = [r for r in rows if r.progress.metric.value == "flagship"]
    assert [(r.community, r.progress.standing) for r in flagship] == [("玉林北路社区", Standing.met)]


async def _money(session: AsyncSession) -> None:
    from grants.awards.models import ExpenseClaim, ExpenseReceipt, ProgressReport, Tranche
    from grants.contracts.models import Contract, ContractMilestone
    from grants.disbursements.models import Disbursement

    awards = list((await session.execute(select(Award).order_by(Award.id))).scalars())
    assert [a.signed_on is not None for a in awards] == [True, True, False]
    first = {
        t.award_id: t.state.value
        for t in (await session.execute(select(Tranche).where(Tranche.seq == 1))).scalars()
    }
    assert first == {awards[0].id: "requested", awards[1].id: "paid", awards[2].id: "planned"}
    assert awards[1].paid == awards[1].amount / 2

    disbursements = {d.award_id: d for d in (await session.execute(select(Disbursement))).scalars()}
    waiting, paid = disbursements[awards[0].id], disbursements[awards[1].id]
    assert waiting.state.value == "requested"
    assert waiting.requested_by_name == "李晓燕"
    assert paid.state.value == "paid"
    assert paid.voucher_no == "记-2025-0618"
    assert paid.decided_by_name == "陈静"
    assert paid.paid_amount == paid.amount

    [report] = (await session.execute(select(ProgressReport))).scalars().all()
    assert report.award_id == awards[0].id
    assert report.state.value == "submitted"
    [claim] = (await session.execute(select(ExpenseClaim))).scalars().all()
    assert (claim.award_id, claim.amount) == (awards[0].id, Decimal("1280.00"))
    [receipt] = (await session.execute(select(ExpenseReceipt))).scalars().all()
    assert receipt.claim_id == claim.id

    [contract] = (await session.execute(select(Contract))).scalars().all()
    assert contract.title == "玉林街道居家养老服务项目"
    assert contract.purchaser == "成都市武侯区玉林街道办事处"
    assert contract.procurement_method.value == "open_tender"
    assert contract.amount == Decimal("180000.00")
    assert contract.state.value == "in_service"
    provider = await session.get(Organisation, contract.provider_id)
    assert provider is not None
    assert provider.uscc == "91512081MA62K0260E"
    milestones = (
        await session.execute(
            select(ContractMilestone)
            .where(ContractMilestone.contract_id == contract.id)
            .order_by(ContractMilestone.seq)
        )
    ).scalars()
    assert [(m.amount, m.state.value) for m in milestones] == [
        (Decimal("72000.00"), "due"),
        (Decimal("54000.00"), "due"),
        (Decimal("54000.00"), "planned"),
    ]


async def _tranches(session: AsyncSession, award_id: int) -> list:  # type: ignore[type-arg]
    from grants.awards.models import Tranche

    return list((await session.execute(select(Tranche).where(Tranche.award_id == award_id))).scalars())
