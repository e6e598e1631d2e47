"""Community funds as deployed: clients racing the two-worker server on PostgreSQL.

Allocations from one pool never commit more than it received (every refusal a 409 naming the
figures); an approval step and a payment out each happen once; the audit chain verifies.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import pytest_asyncio

from core.clock import today
from funds import repository as fund_repository
from funds.models import AllocationState, Restriction
from tests.funds.factories import make_fund, receive
from tests.grants.factories import Cast, make_cast, make_programme
from tests.served.conftest import Deployment, race

pytestmark = pytest.mark.postgres_only

N = 40


@pytest_asyncio.fixture(scope="module")
async def cast(deployment: Deployment) -> AsyncIterator[Cast]:
    async with deployment.session() as session:
        people = await make_cast(session)
    yield people
    assert await deployment.audit_problems() == []


async def test_allocations_never_exceed_the_pool_and_are_decided_and_paid_once(
    deployment: Deployment, cast: Cast
) -> None:
    async with deployment.session() as session:
        programme = await make_programme(session, cast.centre)
        fund = await make_fund(session, cast, approval_threshold=None, approval_steps=[])
        await receive(session, cast, fund, amount="10000.00")
        pool = next(
            p.id
            for p in await fund_repository.pools_of(session, fund.id)
            if p.restriction is Restriction.none
        )
    body = {
        "pool_id": pool,
        "target": "programme",
        "programme_id": programme.id,
        "purpose": "elderly",
        "title": "长者助餐",
        "amount": "300.00",
    }
    async with deployment.server.client(cast.staff.token, max_connections=N) as client:
        result = await race(client.post(f"/api/v1/funds/{fund.id}/allocations", json=body) for _ in range(N))
    assert result.count(lambda s: s >= 500) == 0, result.describe()
    assert len(result.successes) == 33, result.describe()  # 33 × 300 = 9,900 ≤ 10,000 < 34 × 300
    refused = [r for r in result.responses if not r.is_success]
    assert all(r.status_code == 409 for r in refused), result.describe()
    assert all(
        "10,000.00" in r.json()["error"]["message"]
        for r in refused
        if r.json()["error"]["code"] == "conflict"
    )
    async with deployment.session() as session:
        stored = await fund_repository.fresh_fund(session, fund.id)
    assert stored.committed == Decimal("9900.00")

    allocation_id = result.successes[0].json()["id"]
    async with deployment.server.client(cast.finance.token, max_connections=N) as client:
        decided = await race(
            client.post(f"/api/v1/fund-allocations/{allocation_id}/decide", json={"decision": "approved"})
            for _ in range(N)
        )
    assert decided.assert_one_winner().json()["state"] == AllocationState.approved.value
    async with deployment.server.client(cast.finance2.token, max_connections=N) as client:
        paid = await race(
            client.post(
                f"/api/v1/fund-allocations/{allocation_id}/pay",
                json={"voucher_no": "付-2026-001", "paid_on": today().isoformat()},
            )
            for _ in range(N)
        )
    assert paid.assert_one_winner().json()["state"] == AllocationState.paid.value
    async with deployment.session() as session:
        stored = await fund_repository.fresh_fund(session, fund.id)
    assert stored.spent == Decimal("300.00")
