"""The demo street's fund: receipts of every source, an allocation approved through its steps,
one waiting for finance, the public accounts and the quarterly statement scheduled."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from demo.loader import load_demo
from funds import service as funds
from reports.fund_statement import KIND_CODE


async def test_demo_fund(session: AsyncSession) -> None:
    await load_demo(session)
    fund = (await funds.public_funds(session))[0]
    assert fund.name == "玉林街道友邻基金"
    assert fund.received == Decimal("153760.50")
    assert fund.in_kind_value == Decimal("8000.00")
    assert fund.committed == Decimal("32000.00")
    accounts = await funds.public_accounts(session, fund.id)
    assert "刘女士" not in [r["donor"] for r in accounts.receipts]
    states = sorted(a["state"] for a in accounts.allocations)
    assert states == ["已批准", "待审批"]
    assert accounts.leverage == Decimal("0.54")  # 53,760.50 ÷ 100,000
    from sqlalchemy import select

    from reports.models import ReportSchedule

    schedule = (
        await session.execute(select(ReportSchedule).where(ReportSchedule.kind == KIND_CODE))
    ).scalar_one()
    assert schedule.scope_id == fund.id
