"""The demo street's fund: receipts of every source, an allocation approved through its steps,
one waiting for finance, the public accounts and the quarterly statement scheduled."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import service as identity
from core.identity.models import TokenKind
from core.identity.repository import get_user_by_email
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


async def test_360giving_names_the_fund_as_funder(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await load_demo(session)
    staff = await get_user_by_email(session, "staff@yulin.demo")
    assert staff is not None
    token = await identity.issue_token(session, staff, TokenKind.api, 60)
    answer = await client.get("/api/v1/exports/360giving.json", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    grants = {g["title"]: g for g in answer.json()["grants"]}
    elderly = next(g for title, g in grants.items() if "银龄" in title)
    assert [f["name"] for f in elderly["fundingOrganization"]] == ["玉林街道友邻基金"]
    others = [g for title, g in grants.items() if "银龄" not in title]
    assert others
    assert all(g["fundingOrganization"][0]["name"] == "成都市武侯区玉林街道社会组织孵化中心" for g in others)
