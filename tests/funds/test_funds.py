"""Community funds on both databases: receipts of every source into their pools, restrictions,
the bound on allocations, in-kind value never payable, approval steps and maker-checker, a
programme financed by two funds, and a clawback returned to the fund it came from."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.errors import Conflict, Forbidden, ValidationFailed
from core.identity.models import Role
from funds import service as funds
from funds.models import AllocationState, Fund, Restriction, StepDecision
from funds.repository import fresh_fund, pools_of
from funds.schemas import AllocationCreate, AllocationPayIn, DecisionIn, ReturnIn
from grants.awards import service as awards
from grants.awards.schemas import SignIn, TerminateIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate, PayIn
from grants.programmes.models import Programme
from tests.factories import make_user
from tests.funds.factories import STEPS, make_community, make_fund, receive
from tests.grants.factories import Cast, make_award, make_cast, make_programme


def _allocation(pool_id: int, **overrides: object) -> AllocationCreate:
    payload: dict[str, object] = {
        "pool_id": pool_id,
        "target": "programme",
        "programme_id": 1,
        "purpose": "elderly",
        "title": "长者助餐点运营补贴",
        "amount": "10000.00",
    }
    payload.update(overrides)
    return AllocationCreate.model_validate(payload)


async def _pool(session: AsyncSession, fund: Fund, restriction: Restriction = Restriction.none) -> int:
    return next(p.id for p in await pools_of(session, fund.id) if p.restriction is restriction)


async def _approve_all(session: AsyncSession, cast: Cast, allocation_id: int) -> None:
    allocation = await funds.get_allocation(session, cast.staff.principal, allocation_id)
    for seq in range(allocation.next_step, allocation.step_count + 1):
        decider = cast.finance if seq == allocation.step_count else cast.both
        await funds.decide(
            session, decider.principal, allocation_id, DecisionIn(decision=StepDecision.approved)
        )


async def test_receipts_of_every_source(session: AsyncSession) -> None:
    cast = await make_cast(session)
    fund = await make_fund(session, cast)
    community = await make_community(session, cast)
    await receive(session, cast, fund, source="fiscal", amount="100000.00", receipt_no="财-2026-001")
    await receive(session, cast, fund, source="paired_unit", donor_name="武侯区税务局", amount="20000.00")
    await receive(
        session,
        cast,
        fund,
        source="enterprise",
        donor_name="蜀汉物业公司",
        amount="30000.00",
        receipt_no="捐-2026-0007",
    )
    await receive(
        session, cast, fund, source="individual", donor_name="张三", publish_donor=False, amount="500.50"
    )
    await receive(
        session,
        cast,
        fund,
        source="residents",
        donor_name="玉林北路社区居民",
        amount="3200.00",
        restriction="community",
        community_id=community.id,
    )
    await receive(
        session,
        cast,
        fund,
        source="in_kind",
        donor_name="红旗连锁",
        amount="8000.00",
        in_kind_items="大米200袋、食用油100桶",
        valuation_basis="按捐赠方出具的发票价格",
    )
    fund = await fresh_fund(session, fund.id)
    assert fund.received == Decimal("153700.50")  # cash only
    assert fund.in_kind_value == Decimal("8000.00")
    assert fund.available == Decimal("153700.50")
    by_key = {p.key: p for p in await pools_of(session, fund.id)}
    assert by_key["none"].received == Decimal("150500.50")
    assert by_key[f"community:{community.id}"].received == Decimal("3200.00")

    accounts = await funds.accounts(session, fund)
    assert dict(accounts.by_source)["实物捐赠"] == Decimal("8000.00")
    donors = [r["donor"] for r in accounts.receipts]
    assert "张三" not in donors
    assert "爱心人士" in donors
    assert "蜀汉物业公司" in donors
    assert accounts.leverage == Decimal("0.54")  # (20000 + 30000 + 500.50 + 3200) / 100000

    with pytest.raises(ValidationFailed) as refused:
        await receive(
            session, cast, fund, source="enterprise", donor_name="另一家", receipt_no="捐-2026-0007"
        )
    assert refused.value.details[0].field == "receipt_no"


async def test_in_kind_value_is_never_payable(session: AsyncSession) -> None:
    cast = await make_cast(session)
    programme = await make_programme(session, cast.centre)
    fund = await make_fund(session, cast, approval_threshold=None, approval_steps=[])
    await receive(session, cast, fund, source="individual", donor_name="李四", amount="1000.00")
    await receive(
        session,
        cast,
        fund,
        source="in_kind",
        donor_name="红旗连锁",
        amount="50000.00",
        in_kind_items="轮椅20台",
        valuation_basis="市场价",
    )
    with pytest.raises(Conflict, match=r"1,000\.00"):
        await funds.request_allocation(
            session,
            cast.staff.principal,
            fund.id,
            _allocation(await _pool(session, fund), programme_id=programme.id, amount="1000.01"),
        )
    fund = await fresh_fund(session, fund.id)
    assert (fund.received, fund.in_kind_value, fund.committed) == (
        Decimal("1000.00"),
        Decimal("50000.00"),
        Decimal("0.00"),
    )


async def test_an_allocation_beyond_what_was_received_is_refused_with_the_figures(
    session: AsyncSession,
) -> None:
    cast = await make_cast(session)
    programme = await make_programme(session, cast.centre)
    fund = await make_fund(session, cast)
    await receive(session, cast, fund, amount="30000.00")
    pool = await _pool(session, fund)
    await funds.request_allocation(
        session,
        cast.staff.principal,
        fund.id,
        _allocation(pool, programme_id=programme.id, amount="18000.00"),
    )
    with pytest.raises(Conflict) as refused:
        await funds.request_allocation(
            session,
            cast.staff.principal,
            fund.id,
            _allocation(pool, programme_id=programme.id, amount="12000.01"),
        )
    message = refused.value.message
    for figure in ("12,000.01", "30,000.00", "18,000.00", "12,000.00"):  # asked, received, committed, left
        assert figure in message
    fund = await fresh_fund(session, fund.id)
    assert fund.committed == Decimal("18000.00")


async def test_restricted_money_pays_only_for_its_restriction(session: AsyncSession) -> None:
    cast = await make_cast(session)
    programme = await make_programme(session, cast.centre)
    fund = await make_fund(session, cast)
    await receive(
        session,
        cast,
        fund,
        source="enterprise",
        donor_name="蜀汉物业公司",
        amount="20000.00",
        restriction="purpose",
        purpose="elderly",
    )
    pool = await _pool(session, fund, Restriction.purpose)
    with pytest.raises(ValidationFailed) as refused:
        await funds.request_allocation(
            session,
            cast.staff.principal,
            fund.id,
            _allocation(pool, programme_id=programme.id, purpose="youth", amount="5000.00"),
        )
    assert refused.value.details[0].field == "pool_id"
    assert "养老" in refused.value.message
    # Nor can it be drawn through the unrestricted pool, which holds nothing.
    with pytest.raises(Conflict):
        await funds.request_allocation(
            session,
            cast.staff.principal,
            fund.id,
            _allocation(
                await _pool(session, fund), programme_id=programme.id, purpose="youth", amount="5000.00"
            ),
        )
    allowed = await funds.request_allocation(
        session, cast.staff.principal, fund.id, _allocation(pool, programme_id=programme.id, amount="5000.00")
    )
    assert allowed.state is AllocationState.pending


async def test_approval_steps_above_the_threshold_and_maker_checker(session: AsyncSession) -> None:
    cast = await make_cast(session)
    programme = await make_programme(session, cast.centre)
    fund = await make_fund(session, cast)
    await receive(session, cast, fund, amount="100000.00")
    pool = await _pool(session, fund)
    small = await funds.request_allocation(
        session,
        cast.staff.principal,
        fund.id,
        _allocation(pool, programme_id=programme.id, amount="20000.00"),
    )
    assert small.step_count == 1  # at the threshold: only the finance check
    big = await funds.request_allocation(
        session,
        cast.staff.principal,
        fund.id,
        _allocation(pool, programme_id=programme.id, amount="20000.01"),
    )
    assert big.step_count == len(STEPS) + 1
    with pytest.raises(Forbidden, match="须由他人审批"):
        await funds.decide(session, cast.staff.principal, big.id, DecisionIn(decision=StepDecision.approved))
    colleague = await make_user(session, cast.centre, Role.staff)
    with pytest.raises(Forbidden, match="财务审核"):
        await funds.decide(session, colleague.principal, small.id, DecisionIn(decision=StepDecision.approved))
    for name in STEPS:
        assert await funds.step_name(session, big) == name
        big = await funds.decide(
            session,
            cast.both.principal,
            big.id,
            DecisionIn(decision=StepDecision.approved, note=f"{name}同意"),
        )
    assert big.state is AllocationState.pending
    big = await funds.decide(
        session, cast.finance.principal, big.id, DecisionIn(decision=StepDecision.approved)
    )
    assert big.state is AllocationState.approved
    assert [(d.step_name, d.decision) for d in big.decisions] == [
        *((name, StepDecision.approved) for name in STEPS),
        ("财务审核", StepDecision.approved),
    ]
    with pytest.raises(Conflict):
        await funds.decide(
            session, cast.finance2.principal, big.id, DecisionIn(decision=StepDecision.approved)
        )

    rejected = await funds.decide(
        session, cast.finance.principal, small.id, DecisionIn(decision=StepDecision.rejected, note="预算重复")
    )
    assert rejected.state is AllocationState.rejected
    fund = await fresh_fund(session, fund.id)
    assert fund.committed == Decimal("20000.01")  # the rejected one gave its money back

    with pytest.raises(Forbidden):
        await funds.pay_allocation(
            session, cast.staff.principal, big.id, AllocationPayIn(voucher_no="付-1", paid_on=today())
        )
    paid = await funds.pay_allocation(
        session, cast.finance.principal, big.id, AllocationPayIn(voucher_no="付-1", paid_on=today())
    )
    assert paid.state is AllocationState.paid
    fund = await fresh_fund(session, fund.id)
    assert (fund.committed, fund.spent, fund.available) == (
        Decimal("20000.01"),
        Decimal("20000.01"),
        Decimal("79999.99"),
    )


async def test_a_programme_financed_by_two_funds(session: AsyncSession) -> None:
    cast = await make_cast(session)
    programme = await make_programme(session, cast.centre, budget=Decimal("1.00"))
    street = await make_fund(session, cast, approval_threshold=None, approval_steps=[])
    community = await make_community(session, cast)
    neighbourhood = await make_fund(
        session,
        cast,
        name="玉林北路社区友邻基金",
        scope="community",
        community_id=community.id,
        approval_threshold=None,
        approval_steps=[],
    )
    await receive(session, cast, street, amount="60000.00")
    await receive(session, cast, neighbourhood, source="residents", donor_name="居民", amount="15000.00")
    for fund, amount in ((street, "50000.00"), (neighbourhood, "12345.67")):
        allocation = await funds.request_allocation(
            session,
            cast.staff.principal,
            fund.id,
            _allocation(await _pool(session, fund), programme_id=programme.id, amount=amount),
        )
        await _approve_all(session, cast, allocation.id)
    refreshed = await session.get(Programme, programme.id, populate_existing=True)
    assert refreshed is not None
    assert refreshed.total_budget == Decimal("62345.67")
    fundings = await funds.programme_fundings(session, cast.staff.principal, programme.id)
    assert sorted(f.name for _a, f in fundings) == ["玉林北路社区友邻基金", "玉林街道友邻基金"]


async def test_a_clawback_goes_back_to_its_fund(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, amount=Decimal("40000.00"))
    fund = await make_fund(session, cast, approval_threshold=None, approval_steps=[])
    other = await make_fund(session, cast, name="另一只基金", approval_threshold=None, approval_steps=[])
    await receive(session, cast, fund, amount="50000.00")
    await receive(session, cast, other, amount="50000.00")
    allocation = await funds.request_allocation(
        session,
        cast.staff.principal,
        fund.id,
        _allocation(
            await _pool(session, fund),
            target="award",
            programme_id=None,
            award_id=award.id,
            amount="40000.00",
        ),
    )
    await _approve_all(session, cast, allocation.id)
    await funds.pay_allocation(
        session, cast.finance.principal, allocation.id, AllocationPayIn(voucher_no="付-9", paid_on=today())
    )
    with pytest.raises(Conflict, match="未终止"):
        await funds.return_clawback(
            session, cast.staff.principal, ReturnIn(award_id=award.id, returned_on=today())
        )
    await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    signed = await awards.get_award(session, cast.staff.principal, award.id)
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=signed.tranches[0].id)
    )
    await disbursements.approve(session, cast.finance.principal, d.id)
    await disbursements.pay(
        session, cast.finance2.principal, d.id, PayIn(voucher_no="记-1", paid_on=today(), amount=d.amount)
    )
    await awards.terminate(session, cast.staff.principal, award.id, TerminateIn(reason="违规使用资金"))
    returns = await funds.return_clawback(
        session, cast.finance.principal, ReturnIn(award_id=award.id, returned_on=today(), note="追回到账")
    )
    assert [(r.fund_id, r.amount) for r in returns] == [(fund.id, d.amount)]
    fund = await fresh_fund(session, fund.id)
    assert fund.committed == Decimal("40000.00") - d.amount
    assert fund.spent == Decimal("40000.00") - d.amount
    assert fund.returned == d.amount
    assert fund.available == Decimal("10000.00") + d.amount
    assert (await fresh_fund(session, other.id)).returned == Decimal("0.00")
    with pytest.raises(Conflict, match="已退回"):
        await funds.return_clawback(
            session, cast.finance.principal, ReturnIn(award_id=award.id, returned_on=today())
        )


async def test_funds_of_another_centre_are_not_found(session: AsyncSession) -> None:
    cast = await make_cast(session)
    stranger = await make_cast(session)
    fund = await make_fund(session, cast)
    from core.errors import NotFound

    with pytest.raises(NotFound):
        await funds.get_fund(session, stranger.staff.principal, fund.id)
    with pytest.raises(Forbidden):
        await funds.get_fund(session, cast.grantee.principal, fund.id)


async def test_a_funding_below_what_the_programme_committed_is_refused(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, amount=Decimal("71000.00"))  # commits 71,000 of its programme
    fund = await make_fund(session, cast, approval_threshold=None, approval_steps=[])
    await receive(session, cast, fund, amount="100000.00")
    allocation = await funds.request_allocation(
        session,
        cast.staff.principal,
        fund.id,
        _allocation(await _pool(session, fund), programme_id=award.programme_id, amount="30000.00"),
    )
    with pytest.raises(Conflict) as refused:
        await funds.decide(
            session, cast.finance.principal, allocation.id, DecisionIn(decision=StepDecision.approved)
        )
    assert "71,000.00" in refused.value.message
    assert "30,000.00" in refused.value.message
    pending = await funds.get_allocation(session, cast.staff.principal, allocation.id)
    assert pending.state is AllocationState.pending
    assert pending.decisions == []
