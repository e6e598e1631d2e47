"""Funds for tests: a street fund with approval steps, communities, receipts of every source."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from communities import service as communities
from communities.models import Community
from communities.schemas import CommunityIn
from funds import service as funds
from funds.models import Fund, FundReceipt
from funds.schemas import FundCreate, ReceiptCreate
from tests.grants.factories import Cast

STEPS = ["居民议事会", "社区两委", "第三方评估机构"]


async def make_community(session: AsyncSession, cast: Cast, name: str = "玉林北路社区") -> Community:
    """The centre's community of this name (the cast's organisations may have made it already)."""
    assert cast.staff.principal.centre_id is not None
    existing = await communities.id_named(session, cast.staff.principal.centre_id, name)
    if existing is not None:
        return await communities.get_community(session, cast.staff.principal, existing)
    return await communities.create_community(session, cast.staff.principal, CommunityIn(name=name))


async def make_fund(session: AsyncSession, cast: Cast, **overrides: Any) -> Fund:
    payload: dict[str, Any] = {
        "name": "玉林街道友邻基金",
        "scope": "street",
        "custodian": "成都市武侯区慈善会（专项基金）",
        "committee": "社区党委书记、居委会主任、居民代表3名",
        "approval_threshold": "20000.00",
        "approval_steps": STEPS,
    }
    payload.update(overrides)
    return await funds.create_fund(session, cast.staff.principal, FundCreate.model_validate(payload))


async def receive(session: AsyncSession, cast: Cast, fund: Fund, **overrides: Any) -> FundReceipt:
    payload: dict[str, Any] = {
        "received_on": dt.date(2026, 7, 1).isoformat(),
        "source": "fiscal",
        "donor_name": "玉林街道办事处",
        "publish_donor": True,
        "amount": "100000.00",
    }
    payload.update(overrides)
    return await funds.record_receipt(
        session, cast.staff.principal, fund.id, ReceiptCreate.model_validate(payload)
    )


def money(value: str) -> Decimal:
    return Decimal(value)
