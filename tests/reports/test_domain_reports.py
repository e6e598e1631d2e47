"""The incubation and programme reports rendered from the demo centre: text, amounts, CJK font."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from demo.loader import load_demo
from grants.programmes.models import Programme
from incubator.models import Organisation
from reports.incubation import KIND_CODE as INCUBATION
from reports.models import Generator
from reports.programme import KIND_CODE as PROGRAMME
from reports.service import ReportOutput, generate, read_pdf
from tests.reports.conftest import pdf_fonts, pdf_pages, squash


async def test_incubation_report(session: AsyncSession, output: ReportOutput) -> None:
    await load_demo(session)
    org = (
        await session.execute(select(Organisation).where(Organisation.name == "玉林社区邻里互助会"))
    ).scalar_one()
    report = await generate(
        session, output, kind_code=INCUBATION, scope_id=org.id, period="2026-11", generator=Generator.user
    )
    data = await read_pdf(output.store, report)
    text = squash("".join(pdf_pages(data)))
    assert "孵化成长报告" in text
    assert "玉林社区邻里互助会" in text
    assert "孵化中" in text
    assert "7.5" in text  # support hours: 3.0 + 2.0 + 1.5 + 1.0
    assert "“银龄守望”独居长者邻里互助" in text
    assert "24,000.00" in text
    assert any("NotoSansCJK" in name.replace("-", "") for name in pdf_fonts(data))


async def test_programme_report(session: AsyncSession, output: ReportOutput) -> None:
    await load_demo(session)
    programme = (await session.execute(select(Programme).where(Programme.state == "running"))).scalar_one()
    report = await generate(
        session,
        output,
        kind_code=PROGRAMME,
        scope_id=programme.id,
        period="2026-11",
        generator=Generator.user,
    )
    data = await read_pdf(output.store, report)
    text = squash("".join(pdf_pages(data)))
    assert "公益创投年度报告" in text
    assert "2025年玉林街道微公益创投" in text
    assert "71,000.00" in text  # granted: 24,000 + 32,000 + 15,000
    assert "150,000.00" in text  # total budget
    assert "为老服务" in text
    assert "青少年服务" in text
    assert "优秀" in text  # grade distribution
    assert "第1页/共" in text
