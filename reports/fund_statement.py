"""Quarterly statement of a community fund (社区基金季度公示): a printable poster for the
community notice board (宣传栏) — receipts of the quarter by source, the donors who agreed to be
named, allocations by project, the balance, leverage and the share spent on cultivating
organisations. Reads the funds domain through its service; archived like every report."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import NotFound, ValidationFailed
from core.i18n import N_, _
from funds import repository as fund_repository
from funds import service as funds
from reports.kinds import ReportKind, register_kind
from reports.models import ScopeType

KIND_CODE = "fund_statement"
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


def quarter_bounds(period: str) -> tuple[dt.date, dt.date]:
    """``2026-Q3`` → 1 July 2026 … 30 September 2026."""
    match = QUARTER.match(period)
    if match is None:
        raise ValidationFailed.field("period", _("A quarter such as 2026-Q3"))
    year, quarter = int(match.group(1)), int(match.group(2))
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end - dt.timedelta(days=1)


def previous_quarter(local: dt.datetime) -> str:
    quarter = (local.month - 1) // 3 + 1
    if quarter == 1:
        return f"{local.year - 1}-Q4"
    return f"{local.year}-Q{quarter - 1}"


async def fund_centre(session: AsyncSession, fund_id: int) -> int | None:
    fund = await fund_repository.fund_by_id(session, fund_id)
    return fund.centre_id if fund is not None else None


async def build_fund_statement(session: AsyncSession, fund_id: int, period: str) -> dict[str, Any]:
    fund = await fund_repository.fund_by_id(session, fund_id)
    if fund is None:
        raise NotFound(_("Fund not found"))
    start, end = quarter_bounds(period)
    quarter = await funds.accounts(session, fund, start=start, end=end)
    to_date = await funds.accounts(session, fund, end=end)
    from core.identity.models import Centre

    centre = await session.get(Centre, fund.centre_id)
    assert centre is not None
    return {
        "title": _("Community fund statement"),
        "centre_name": centre.name,
        "period": period,
        "period_label": _("{year}, quarter {quarter}").format(year=start.year, quarter=start.month // 3 + 1),
        "generated_at": utcnow(),
        "fund": {
            "name": fund.name,
            "custodian": fund.custodian,
            "committee": fund.committee,
            "received": fund.received,
            "in_kind_value": fund.in_kind_value,
            "committed": fund.committed,
            "spent": fund.spent,
            "available": fund.available,
            "returned": fund.returned,
        },
        "quarter_by_source": quarter.by_source,
        "quarter_received": sum((amount for _label, amount in quarter.by_source), Decimal("0.00")),
        "donors": quarter.receipts,
        "all_allocations": to_date.allocations,
        "leverage": to_date.leverage,
        "fiscal": to_date.fiscal,
        "non_fiscal": to_date.non_fiscal,
        "cultivation": to_date.cultivation,
        "cultivation_pct": to_date.cultivation_pct,
        "allocated": to_date.allocated,
    }


FUND_STATEMENT = ReportKind(
    code=KIND_CODE,
    label=N_("Community fund statement"),
    scope_type=ScopeType.fund,
    builder=build_fund_statement,
    template="reports/fund_statement.html",
    centre_of=fund_centre,
    period_for=previous_quarter,
    period_pattern=QUARTER.pattern,
    period_hint="2026-Q3",
    number_mark=N_("FS"),
)


def register() -> None:
    register_kind(FUND_STATEMENT)
