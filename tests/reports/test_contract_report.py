"""The contract performance report: provider, score, payment rule applied to the milestones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from grants.contracts import service as contracts
from grants.contracts.schemas import DateIn
from reports.assessment import CONTRACT_KIND
from reports.models import Generator
from reports.service import ReportOutput, generate, read_pdf
from tests.grants.factories import make_cast, make_contract
from tests.reports.conftest import pdf_fonts, pdf_pages, squash


async def test_contract_performance_report(session: AsyncSession, output: ReportOutput) -> None:
    cast = await make_cast(session, uscc="52440106MJL0K3T50W")
    contract = await make_contract(session, cast)
    await contracts.sign(session, cast.staff.principal, contract.id, DateIn(on=dt.date(2026, 1, 5)))
    await contracts.start(session, cast.staff.principal, contract.id, DateIn(on=dt.date(2026, 1, 10)))
    await contracts.record_contract_evaluation(session, cast.staff.principal, contract.id, Decimal("75.00"))
    report = await generate(
        session,
        output,
        kind_code=CONTRACT_KIND,
        scope_id=contract.id,
        period="2026-11",
        generator=Generator.user,
    )
    text = squash("".join(pdf_pages(await read_pdf(output.store, report))))
    assert "政府购买服务履约评估报告" in text
    assert "玉林社区邻里互助会" in text
    assert "75.00" in text
    assert "52440106MJL0K3T50W" in text
    assert any("NotoSansCJK" in f.replace("-", "") for f in pdf_fonts(await read_pdf(output.store, report)))
