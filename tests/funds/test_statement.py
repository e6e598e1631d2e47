"""The quarterly statement: a PDF poster for the notice board, read back through its text, archived
with its SHA-256, made on a schedule like every report."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ValidationFailed
from funds import service as funds
from funds.models import Restriction, StepDecision
from funds.repository import pools_of
from funds.schemas import AllocationCreate, DecisionIn
from reports.fund_statement import KIND_CODE, previous_quarter, quarter_bounds
from reports.models import Generator
from reports.service import ReportOutput, generate, read_pdf
from tests.funds.factories import make_fund, receive
from tests.grants.factories import make_cast, make_programme
from tests.reports.conftest import pdf_fonts, pdf_pages, squash


def test_quarters() -> None:
    assert quarter_bounds("2026-Q3") == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert quarter_bounds("2026-Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert previous_quarter(dt.datetime(2026, 1, 5, 8, 0)) == "2025-Q4"
    assert previous_quarter(dt.datetime(2026, 10, 1, 8, 0)) == "2026-Q3"
    with pytest.raises(ValidationFailed):
        quarter_bounds("2026-Q5")


async def test_statement_pdf(session: AsyncSession, output: ReportOutput) -> None:
    cast = await make_cast(session)
    programme = await make_programme(session, cast.centre)
    fund = await make_fund(session, cast, approval_threshold=None, approval_steps=[])
    await receive(session, cast, fund, received_on="2026-07-02", amount="50000.00")
    await receive(
        session,
        cast,
        fund,
        received_on="2026-08-15",
        source="enterprise",
        donor_name="蜀汉物业公司",
        amount="12000.00",
    )
    await receive(
        session,
        cast,
        fund,
        received_on="2026-09-01",
        source="individual",
        donor_name="赵六",
        publish_donor=False,
        amount="666.00",
    )
    await receive(
        session,
        cast,
        fund,
        received_on="2026-09-20",
        source="in_kind",
        donor_name="红旗连锁",
        amount="2000.00",
        in_kind_items="书包50个",
        valuation_basis="采购价",
    )
    await receive(
        session, cast, fund, received_on="2026-10-03", source="residents", donor_name="居民", amount="100.00"
    )
    pool = next(p.id for p in await pools_of(session, fund.id) if p.restriction is Restriction.none)
    allocation = await funds.request_allocation(
        session,
        cast.staff.principal,
        fund.id,
        AllocationCreate.model_validate(
            {
                "pool_id": pool,
                "target": "programme",
                "programme_id": programme.id,
                "purpose": "cultivation",
                "title": "社区社会组织孵化培育计划",
                "amount": "31000.00",
            }
        ),
    )
    await funds.decide(
        session, cast.finance.principal, allocation.id, DecisionIn(decision=StepDecision.approved)
    )

    report = await generate(
        session, output, kind_code=KIND_CODE, scope_id=fund.id, period="2026-Q3", generator=Generator.schedule
    )
    assert report.sha256
    data = await read_pdf(output.store, report)
    text = squash("".join(pdf_pages(data)))
    assert "社区基金季度公示" in text
    assert "玉林街道友邻基金" in text
    assert "2026年第3季度" in text
    assert "64,666.00" in text  # received this quarter, in-kind included at its value
    assert "62,766.00" in text  # cash received to date (October's 100.00 included)
    assert "蜀汉物业公司" in text
    assert "赵六" not in text
    assert "爱心人士" in text
    assert "社区社会组织孵化培育计划" in text
    assert "0.25" in text  # leverage to the end of the quarter: (12,000 + 666) ÷ 50,000
    assert "100.0%" in text  # all allocated money went to cultivating organisations
    assert any("NotoSansCJK" in name.replace("-", "") for name in pdf_fonts(data))
    with pytest.raises(ValidationFailed):
        await generate(
            session, output, kind_code=KIND_CODE, scope_id=fund.id, period="2026-09", generator=Generator.user
        )
