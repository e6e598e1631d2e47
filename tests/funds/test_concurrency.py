"""Allocations racing on PostgreSQL: 25 at once from one pool never commit more than it
received, per restriction and for the fund; two decisions on one step have one winner. Each
request has its own connection and commits for real, in a throwaway database of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import audit
from core.db import create_engine, session_factory
from core.errors import DomainError
from core.identity.principal import Principal
from funds import service as funds
from funds.models import AllocationState, FundAllocation, Restriction, StepDecision
from funds.repository import fresh_fund, pools_of
from funds.schemas import AllocationCreate, DecisionIn
from tests.conftest import TestDatabase, drop_pg_database, migrated_pg_database
from tests.funds.factories import make_fund, receive
from tests.grants.factories import Cast, make_cast, make_programme

N = 25  # per burst: the server is shared with the rest of the suite (max_connections 100)
pytestmark = pytest.mark.postgres_only


@pytest_asyncio.fixture
async def committed(database: TestDatabase) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if database.backend != "postgresql":
        pytest.skip("row locks under concurrency are proved on PostgreSQL")
    url = await migrated_pg_database("seedbed_funds")
    engine = create_engine(url, pool=False, statement_timeout_ms=30_000)
    factory = session_factory(engine)
    try:
        yield factory
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


async def _setup(factory: async_sessionmaker[AsyncSession]) -> tuple[Cast, int, int, int, int]:
    """A fund holding 10,000.00 unrestricted and 5,000.00 restricted to elder care."""
    async with factory() as session:
        cast = await make_cast(session)
        programme = await make_programme(session, cast.centre)
        fund = await make_fund(session, cast, approval_threshold=None, approval_steps=[])
        await receive(session, cast, fund, amount="10000.00")
        await receive(
            session,
            cast,
            fund,
            source="enterprise",
            donor_name="蜀汉物业公司",
            amount="5000.00",
            restriction="purpose",
            purpose="elderly",
        )
        by_kind = {p.restriction: p.id for p in await pools_of(session, fund.id)}
        await session.commit()
        return cast, fund.id, programme.id, by_kind[Restriction.none], by_kind[Restriction.purpose]


def _request(
    cast: Cast, fund_id: int, programme_id: int, pool_id: int, amount: str
) -> Callable[[AsyncSession], Awaitable[FundAllocation]]:
    data = AllocationCreate.model_validate(
        {
            "pool_id": pool_id,
            "target": "programme",
            "programme_id": programme_id,
            "purpose": "elderly",
            "title": "长者助餐",
            "amount": amount,
        }
    )
    return lambda s: funds.request_allocation(s, cast.staff.principal, fund_id, data)


async def test_allocations_at_once_never_exceed_what_was_received(
    committed: async_sessionmaker[AsyncSession],
) -> None:
    cast, fund_id, programme_id, free_pool, elderly_pool = await _setup(committed)
    # 50 × 300.00 against 10,000.00 unrestricted, and 50 × 150.00 against 5,000.00 restricted.
    results = await asyncio.gather(
        *(_attempt(committed, _request(cast, fund_id, programme_id, free_pool, "500.00")) for _ in range(N)),
        *(
            _attempt(committed, _request(cast, fund_id, programme_id, elderly_pool, "250.00"))
            for _ in range(N)
        ),
    )
    free, restricted = results[:N], results[N:]
    assert free.count(True) == 20  # 20 × 500 = 10,000: exactly what was received
    assert restricted.count(True) == 20  # 20 × 250 = 5,000
    async with committed() as session:
        fund = await fresh_fund(session, fund_id)
        pools = {p.id: p for p in await pools_of(session, fund_id)}
    assert pools[free_pool].committed == Decimal("10000.00")
    assert pools[elderly_pool].committed == Decimal("5000.00")
    assert fund.committed == Decimal("15000.00")
    assert fund.received == Decimal("15000.00")


async def test_one_step_decided_once_under_a_race(committed: async_sessionmaker[AsyncSession]) -> None:
    cast, fund_id, programme_id, free_pool, _elderly = await _setup(committed)
    async with committed() as session:
        allocation = await _request(cast, fund_id, programme_id, free_pool, "8000.00")(session)
        await session.commit()
    deciders = [cast.finance.principal, cast.finance2.principal, cast.both.principal] * 5

    def decision(principal: Principal, i: int) -> Callable[[AsyncSession], Awaitable[object]]:
        verdict = StepDecision.approved if i % 2 else StepDecision.rejected
        return lambda s: funds.decide(s, principal, allocation.id, DecisionIn(decision=verdict, note="理由"))

    results = await asyncio.gather(*(_attempt(committed, decision(p, i)) for i, p in enumerate(deciders)))
    assert results.count(True) == 1
    async with committed() as session:
        decided = await funds.get_allocation(session, cast.staff.principal, allocation.id)
        fund = await fresh_fund(session, fund_id)
    assert len(decided.decisions) == 1
    if decided.state is AllocationState.rejected:
        assert fund.committed == Decimal("0.00")
    else:
        assert decided.state is AllocationState.approved
        assert fund.committed == Decimal("8000.00")
