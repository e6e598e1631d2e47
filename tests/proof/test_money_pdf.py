"""Money from the database to the API and into the PDF, exactly: an award of any amount, split
into tranches by any plan, reads back to the fen through the API and is printed to the fen in
the project assessment report (the text is extracted from the PDF and searched)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from grants.programmes.models import TrancheTrigger
from reports.archive import FilesystemReportStore
from reports.assessment import AWARD_KIND
from reports.models import Generator
from reports.pdf import PdfRenderer
from reports.registry import register_report_kinds
from reports.service import ReportOutput, generate, read_pdf
from tests.grants.factories import make_award, make_cast, make_programme
from tests.reports.conftest import pdf_pages

register_report_kinds()

# At least a fen per tranche (three at most here); smaller approvals are refused at the decision.
TOTALS = st.decimals(min_value=Decimal("0.03"), max_value=Decimal("99999999999.99"), places=2)
# Tranche shares in hundredths of a percent: up to two free ones, the last takes the rest.
CUTS = st.lists(st.integers(min_value=1, max_value=4900), min_size=0, max_size=2)
TRIGGERS = [TrancheTrigger.on_signing, TrancheTrigger.midterm_passed, TrancheTrigger.final_passed]


@pytest.fixture(scope="module")
def renderer() -> Iterator[PdfRenderer]:
    pool = PdfRenderer(1)
    try:
        yield pool
    finally:
        pool.shutdown()


def printed(amount: Decimal, text: str) -> bool:
    """The amount as the report prints it (thousands separators, two decimals), as a whole
    number: not the tail or head of a longer one."""
    return re.search(rf"(?<![\d,.]){re.escape(f'{amount:,.2f}')}(?![\d])", text) is not None


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(total=TOTALS, cuts=CUTS)
async def test_award_and_tranches_reach_the_pdf_exactly(
    client: httpx.AsyncClient,
    session: AsyncSession,
    renderer: PdfRenderer,
    tmp_path: Path,
    total: Decimal,
    cuts: list[int],
) -> None:
    shares = [Decimal(c) / 100 for c in cuts]
    shares.append(Decimal(100) - sum(shares, Decimal(0)))
    cast = await make_cast(session)
    programme = await make_programme(session, cast.centre, budget=total * 2)
    award = await make_award(
        session,
        cast,
        amount=total,
        programme=programme,
        plan=[(share, TRIGGERS[i]) for i, share in enumerate(shares)],
    )
    await session.commit()

    read = await client.get(f"/api/v1/awards/{award.id}", headers=cast.finance.headers)
    assert read.status_code == 200, read.text
    body = read.json()
    assert body["amount"] == f"{total:.2f}"
    answered = [Decimal(t["amount"]) for t in body["tranches"]]
    assert all(isinstance(t["amount"], str) for t in body["tranches"])
    assert sum(answered, Decimal(0)) == total  # the split loses and invents no fen
    assert len(answered) == len(shares)

    output = ReportOutput(store=FilesystemReportStore(tmp_path / f"r{award.id}"), renderer=renderer)
    report = await generate(
        session,
        output,
        kind_code=AWARD_KIND,
        scope_id=award.id,
        period="2026-11",
        generator=Generator.user,
    )
    # page text as extracted (table cells stay apart), so a number is matched whole
    text = "\n".join(pdf_pages(await read_pdf(output.store, report)))
    assert printed(total, text), f"{total:,.2f} not in the report"
    for amount in answered:
        assert printed(amount, text), f"tranche {amount:,.2f} not in the report"
