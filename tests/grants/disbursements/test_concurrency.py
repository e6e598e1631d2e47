"""Concurrency on PostgreSQL: 50 requests at once never overspend, never lose an update,
never pay a tranche twice. Each request has its own connection and commits for real, in
a throwaway database of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest
import pytest_asyncio
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit
from core.clock import today
from core.db import create_engine, session_factory
from core.errors import DomainError
from core.identity.principal import Principal
from grants.applications import review
from grants.awards import service as awards
from grants.awards.models import Award, Tranche, TrancheState
from grants.awards.schemas import SignIn
from grants.disbursements import service as disbursement_service
from grants.disbursements.models import Disbursement, DisbursementState
from grants.disbursements.payables import DisbursementFacts
from grants.disbursements.repository import Approved
from grants.disbursements.schemas import DisbursementCreate, PayIn
from grants.programmes.models import TrancheTrigger
from tests.conftest import TestDatabase, drop_pg_database, migrated_pg_database
from tests.grants.factories import Cast, make_award, make_cast

N = 50
pytestmark = pytest.mark.postgres_only


@pytest_asyncio.fixture
async def committed(database: TestDatabase) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if database.backend != "postgresql":
        pytest.skip("row locks under concurrency are proved on PostgreSQL")
    url = await migrated_pg_database("seedbed_money")
    engine = create_engine(url, pool=False, statement_timeout_ms=30_000)  # one connection per session
    factory = session_factory(engine)
    try:
        yield factory
        # Every committed money movement was sealed into one unbroken audit chain.
        async with factory() as session:
            checked, problems = await audit.verify(session)
        assert problems == []
        assert checked > 0
    finally:
        await engine.dispose()
        await drop_pg_database(url)


async def _attempt(
    factory: async_sessionmaker[AsyncSession], work: Callable[[AsyncSession], Awaitable[object]]
) -> bool:
    async with factory() as session:
        try:
            await work(session)
            await session.commit()
            return True
        except DomainError:
            await session.rollback()
            return False


async def _setup(factory: async_sessionmaker[AsyncSession], amount: Decimal, shares: int) -> tuple[Cast, int]:
    async with factory() as session:
        cast = await make_cast(session)
        plan = [(Decimal(100) / shares, TrancheTrigger.on_signing)] * shares
        award = await make_award(session, cast, amount=amount, plan=plan)
        await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
        await session.commit()
        return cast, award.id


async def _approved(
    factory: async_sessionmaker[AsyncSession], cast: Cast, tranche_ids: list[int]
) -> list[Approved]:
    done = []
    async with factory() as session:
        for tranche_id in tranche_ids:
            d = await disbursement_service.request_disbursement(
                session, cast.staff.principal, DisbursementCreate(tranche_id=tranche_id)
            )
            done.append(await disbursement_service.approve(session, cast.finance.principal, d.id))
        await session.commit()
    return done


async def _award(factory: async_sessionmaker[AsyncSession], award_id: int) -> tuple[Award, list[Tranche]]:
    async with factory() as session:
        award = await session.get(Award, award_id)
        assert award is not None
        tranches = list(
            (
                await session.execute(
                    select(Tranche).where(Tranche.award_id == award_id).order_by(Tranche.seq)
                )
            ).scalars()
        )
        return award, tranches


def _pay(
    principal: Principal, d: DisbursementFacts, voucher: str
) -> Callable[[AsyncSession], Awaitable[object]]:
    return lambda s: disbursement_service.pay(
        s, principal, d.id, PayIn(voucher_no=voucher, paid_on=today(), amount=d.amount)
    )


async def test_fifty_concurrent_payments_lose_no_update(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    """50 tranches of one award (2 % each of an awkward amount) paid at the same moment."""
    amount = Decimal("99999.99")
    cast, award_id = await _setup(committed, amount, N)
    _award_row, tranches = await _award(committed, award_id)
    assert sum(t.amount for t in tranches) == amount
    disbursements = await _approved(committed, cast, [t.id for t in tranches])
    results = await asyncio.gather(
        *(
            _attempt(committed, _pay(cast.finance2.principal, d, f"记-{i}"))
            for i, d in enumerate(disbursements)
        )
    )
    assert results.count(True) == N
    award, tranches = await _award(committed, award_id)
    assert award.paid == amount  # no lost update: every increment is there
    assert all(t.state is TrancheState.paid for t in tranches)


async def test_fifty_concurrent_attempts_on_one_tranche(committed: async_sessionmaker[AsyncSession]) -> None:
    """Requests, approvals and payments of the same tranche fired 50 at a time: one of each wins."""
    cast, award_id = await _setup(committed, Decimal("30000.00"), 2)
    _award_row, tranches = await _award(committed, award_id)
    tranche = tranches[0]
    requested = await asyncio.gather(
        *(
            _attempt(
                committed,
                lambda s: disbursement_service.request_disbursement(
                    s, cast.staff.principal, DisbursementCreate(tranche_id=tranche.id)
                ),
            )
            for _ in range(N)
        )
    )
    assert requested.count(True) == 1
    async with committed() as session:
        d = (
            await session.execute(select(Disbursement).where(Disbursement.tranche_id == tranche.id))
        ).scalar_one()
    approvers = [cast.finance.principal, cast.finance2.principal]

    def approval(approver: Principal) -> Callable[[AsyncSession], Awaitable[object]]:
        return lambda s: disbursement_service.approve(s, approver, d.id)

    approved = await asyncio.gather(*(_attempt(committed, approval(approvers[i % 2])) for i in range(N)))
    assert approved.count(True) == 1
    paid = await asyncio.gather(
        *(_attempt(committed, _pay(cast.finance.principal, d, f"记-{i}")) for i in range(N))
    )
    assert paid.count(True) == 1
    award, tranches = await _award(committed, award_id)
    assert award.paid == Decimal("15000.00")
    assert tranches[0].state is TrancheState.paid
    async with committed() as session:
        count = (
            await session.execute(
                select(func.count(Disbursement.id)).where(Disbursement.tranche_id == tranche.id)
            )
        ).scalar_one()
        final = await session.get(Disbursement, d.id)
    assert count == 1
    assert final is not None
    assert final.state is DisbursementState.paid


async def test_concurrent_payments_never_exceed_the_award(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    """Even if tranches were wrongly planned above the award, the conditional UPDATE stops at it:
    50 approved tranches of 100.00 on an award of 1,000.00, all paid at once: exactly 10 succeed."""
    cast, award_id = await _setup(committed, Decimal("5000.00"), N)
    async with committed() as session:
        award = await session.get(Award, award_id)
        assert award is not None
        await session.execute(
            update(Tranche).where(Tranche.award_id == award_id).values(amount=Decimal("100.00"))
        )
        award.amount = Decimal("1000.00")
        await session.commit()
    _award_row, tranches = await _award(committed, award_id)
    disbursements = await _approved(committed, cast, [t.id for t in tranches])
    results = await asyncio.gather(
        *(
            _attempt(committed, _pay(cast.finance.principal, d, f"记-{i}"))
            for i, d in enumerate(disbursements)
        )
    )
    assert results.count(True) == 10
    award, tranches = await _award(committed, award_id)
    assert award.paid == Decimal("1000.00")
    assert sum(1 for t in tranches if t.state is TrancheState.paid) == 10
    async with committed() as session:
        states = (
            await session.execute(
                select(Disbursement.state, func.count())
                .where(Disbursement.award_id == award_id)
                .group_by(Disbursement.state)
            )
        ).all()
    assert dict(states) == {DisbursementState.paid: 10, DisbursementState.approved: 40}


async def test_fifty_decisions_never_overspend_the_programme_or_category(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    """The decision commits each approved amount with ``committed + x <= budget`` in one UPDATE:
    50 concurrent commitments of 30,000.00 against a category of 500,000.00 (programme
    1,000,000.00) succeed exactly 16 times, and the totals are exact."""
    from types import SimpleNamespace

    pass
    from grants.programmes.models import Programme, ProgrammeCategory
    from tests.grants.factories import make_programme

    async with committed() as session:
        cast = await make_cast(session)
        programme = await make_programme(session, cast.centre, budget=Decimal("1000000.00"))
        category_id = programme.categories[0].id
        programme_id = programme.id
        await session.commit()
    application = SimpleNamespace(programme_id=programme_id, category_id=category_id)

    async def commit_one(session: AsyncSession) -> object:
        await review._commit_budget(session, application, Decimal("30000.00"))  # type: ignore[arg-type]
        return None

    results = await asyncio.gather(*(_attempt(committed, commit_one) for _ in range(N)))
    assert sum(results) == 16  # 16 × 30,000 = 480,000 ≤ 500,000 < 17 × 30,000
    async with committed() as session:
        programme_row = await session.get(Programme, programme_id)
        category_row = await session.get(ProgrammeCategory, category_id)
        assert programme_row is not None
        assert category_row is not None
        assert category_row.committed == Decimal("480000.00")
        assert programme_row.committed == Decimal("480000.00")


async def test_concurrent_approvals_of_spending_never_exceed_the_award(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    """Approving an expense claim checks that the award's approved spending stays within it;
    20 claims of 15,000.00 on an award of 100,000.00, approved at once, are approved exactly 6
    times (the award's row is held while each approval reads the spending)."""
    from grants.awards import reviews
    from grants.awards.models import ExpenseClaim, ReviewState
    from grants.awards.schemas import ExpenseClaimIn, ReviewIn
    from tests.grants.awards.test_awards import _receipt

    cast, award_id = await _setup(committed, Decimal("100000.00"), 2)
    claim_ids = []
    async with committed() as session:
        receipt = await _receipt(session, award_id, cast.centre.id)
        for n in range(20):
            claim = await reviews.submit_expense_claim(
                session,
                cast.grantee.principal,
                award_id,
                ExpenseClaimIn(
                    category="activities",
                    item=f"活动物资 {n}",
                    amount=Decimal("15000.00"),
                    spent_on=today(),
                    receipt_ids=[receipt],
                ),
            )
            claim_ids.append(claim.id)
        await session.commit()

    def approve(claim_id: int) -> Callable[[AsyncSession], Awaitable[object]]:
        return lambda s: reviews.review_expense_claim(
            s, cast.staff.principal, award_id, claim_id, ReviewIn(approve=True)
        )

    results = await asyncio.gather(*(_attempt(committed, approve(c)) for c in claim_ids))
    assert sum(results) == 6  # 6 × 15,000 = 90,000 ≤ 100,000 < 7 × 15,000
    async with committed() as session:
        approved = (
            await session.execute(
                select(func.count(), func.sum(ExpenseClaim.amount)).where(
                    ExpenseClaim.award_id == award_id, ExpenseClaim.state == ReviewState.approved
                )
            )
        ).one()
        assert approved == (6, Decimal("90000.00"))
