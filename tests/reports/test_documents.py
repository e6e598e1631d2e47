"""Each report kind read as a centre director would: rendered from real data, the text taken
back out of the PDF, the charts' SVG checked for fractional count axes, and the pages kept as
PNG under test-artifacts/reports/ for a person to look at."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.db import utcnow
from core.identity.models import Role
from demo.loader import load_demo
from grants.contracts import service as contracts
from grants.contracts.schemas import DateIn
from grants.programmes.models import Programme, ProgrammeCategory
from incubator.models import Organisation
from reports import charts
from reports.assessment import AWARD_KIND, CONTRACT_KIND, build_contract_performance, build_project_assessment
from reports.briefing import KIND_CODE as BRIEFING
from reports.incubation import KIND_CODE as INCUBATION
from reports.kinds import SHANGHAI, current_month
from reports.models import GeneratedReport, Generator, LetterStyle
from reports.programme import KIND_CODE as PROGRAMME
from reports.programme import build_programme_report
from reports.schemas import ReportStyleIn
from reports.service import ReportOutput, generate, read_pdf
from reports.style import set_style
from tests.factories import Actor, make_user
from tests.grants.awards.test_award_journey import _award, _score_round
from tests.grants.factories import make_cast, make_contract
from tests.reports.conftest import add_events, pdf_pages, squash

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"


def y_axis_labels(uri: str) -> list[str]:
    svg = charts.svg_of(uri)
    start = svg.index('class="axis y')
    end = svg.index('class="axis x', start)
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg[start:end])


def assert_whole_axis(uri: str | None) -> None:
    assert uri is not None
    labels = y_axis_labels(uri)
    assert labels, "the chart has no y axis labels"
    for label in labels:
        assert re.fullmatch(r"\d[\d,]*", label), f"fractional or odd count axis label {label!r} in {labels}"


async def keep_pages(name: str, data: bytes) -> list[Path]:
    """The PDF and one PNG per page under test-artifacts/reports/NAME/."""
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / f"{name}.pdf").write_bytes(data)
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.fail("pdftoppm (poppler-utils) is needed to render report pages")
    await asyncio.to_thread(
        subprocess.run,
        [tool, "-r", "70", "-png", str(folder / f"{name}.pdf"), str(folder / "page")],
        check=True,
    )
    pages = sorted(folder.glob("page-*.png"))
    assert pages
    return pages


async def official(session: AsyncSession, staff: Actor, *, body: str = "成都社会组织评估研究中心") -> None:
    await set_style(
        session,
        staff.principal,
        ReportStyleIn(
            style=LetterStyle.official,
            issuing_unit="玉林街道社会组织孵化中心",
            doc_prefix="玉林孵",
            evaluating_body=body,
            signatories=["中心主任", "评估组组长"],
            prefixes={AWARD_KIND: "玉林孵评"},
        ),
    )


async def test_project_assessment_report_is_a_document(
    client: httpx.AsyncClient, session: AsyncSession, output: ReportOutput
) -> None:
    staff, _finance, evaluators, award = await _award(session)
    award_id, award_title = award.id, award.title
    expert_name = evaluators[0].user.full_name
    signed = await client.post(
        f"/api/v1/awards/{award_id}/sign", json={"signed_on": "2026-10-20"}, headers=staff.headers
    )
    assert signed.status_code == 200, signed.text
    opened = await client.post(
        f"/api/v1/awards/{award_id}/evaluation-rounds", json={"purpose": "midterm"}, headers=staff.headers
    )
    assert opened.status_code == 201, opened.text
    await _score_round(session, staff, evaluators, opened.json()["id"], 55)
    closed = await client.post(f"/api/v1/review-rounds/{opened.json()['id']}/close", headers=staff.headers)
    assert closed.status_code == 200, closed.text
    session.expire_all()  # the API changed the award in its own session
    await official(session, staff)

    context = await build_project_assessment(session, award_id, "2026-11")
    evaluation = context["evaluations"][-1]
    assert len(evaluation["criteria"]) >= 3
    assert all(
        len(row["marks"]) == 3 for row in evaluation["criteria"]
    )  # one row per criterion, a column per expert

    first = await generate(
        session, output, kind_code=AWARD_KIND, scope_id=award_id, period="2026-11", generator=Generator.user
    )
    second = await generate(
        session, output, kind_code=AWARD_KIND, scope_id=award_id, period="2026-11", generator=Generator.user
    )
    year = utcnow().astimezone(SHANGHAI).year
    assert first.doc_number == f"玉林孵评〔{year}〕1号"
    assert second.doc_number == f"玉林孵评〔{year}〕2号"
    numbered = (
        (await session.execute(select(AuditEvent).where(AuditEvent.action == "report.number")))
        .scalars()
        .all()
    )
    assert len(numbered) == 2

    data = await read_pdf(output.store, first)
    pages = pdf_pages(data)
    cover = squash(pages[0])
    assert "玉林街道社会组织孵化中心" in cover
    assert f"玉林孵评〔{year}〕1号" in cover
    assert squash(award_title) in cover
    assert "玉林社区邻里互助会" in cover
    assert "中期评估" in cover
    assert "成都社会组织评估研究中心" in cover  # the evaluating body
    text = squash("".join(pages))
    assert "专家意见" in text
    assert text.count("执行规范，建议通过") == 3  # each expert's overall comment, once
    assert "专家A" in text
    assert "专家C" in text
    assert expert_name not in text
    assert "中心主任" in text
    assert "盖章" in text
    assert "整改" in text  # a failed mid-term: the next tranche is held back, with the reason
    held = [t for t in context["tranches"] if t["withheld"] > 0]
    assert held
    assert f"{held[0]['withheld']:,.2f}" in text
    assert_whole_axis(charts.bar_chart("t", ["a"], {"n": [3]}, counts=True))
    await keep_pages("project_assessment", data)


async def test_project_assessment_plain_style_has_no_number(
    session: AsyncSession, output: ReportOutput
) -> None:
    _staff, _finance, _evaluators, award = await _award(session)
    report = await generate(
        session, output, kind_code=AWARD_KIND, scope_id=award.id, period="2026-11", generator=Generator.user
    )
    assert report.doc_number is None
    text = squash("".join(pdf_pages(await read_pdf(output.store, report))))
    assert "〔" not in text
    assert "盖章" not in text


async def test_programme_report_lists_every_category(session: AsyncSession, output: ReportOutput) -> None:
    await load_demo(session)
    programme = (await session.execute(select(Programme).where(Programme.state == "running"))).scalar_one()
    session.add(
        ProgrammeCategory(
            programme_id=programme.id, code="culture", name="社区文化", budget=Decimal("20000.00")
        )
    )
    await session.flush()
    context = await build_programme_report(session, programme.id, "2026-11")
    assert_whole_axis(context["grade_chart"])
    assert_whole_axis(context["community_chart"])
    by_name = {c["name"]: c for c in context["categories"]}
    assert by_name["社区文化"]["awards"] == 0

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
    for category in ("为老服务", "青少年服务", "社区治理", "社区文化"):
        assert category in text, category
    assert "20,000.00" in text  # the new category's budget, although it awarded nothing
    assert "类别排名" in text or "按类别排名" in text
    assert "71,000.00" in text
    assert "申请金额" in text  # the amount asked for, not a tranche "requested" for payment
    assert "已申请拨付" not in text
    await keep_pages("programme_annual", data)


async def test_contract_report_states_the_yuan_withheld(session: AsyncSession, output: ReportOutput) -> None:
    cast = await make_cast(session, uscc="52440106MJL0K3T50W")
    contract = await make_contract(session, cast)
    await contracts.sign(session, cast.staff.principal, contract.id, DateIn(on=dt.date(2026, 1, 5)))
    await contracts.start(session, cast.staff.principal, contract.id, DateIn(on=dt.date(2026, 1, 10)))
    await contracts.record_contract_evaluation(session, cast.staff.principal, contract.id, Decimal("75.00"))
    await official(session, cast.staff)
    context: dict[str, Any] = await build_contract_performance(session, contract.id, "2026-11")
    final = [m for m in context["milestones"] if m["withheld"] > 0]
    assert final, "the pro-rata milestone withholds money"
    withheld = final[0]["withheld"]
    assert withheld == final[0]["amount"] - final[0]["amount"] * Decimal("0.75")

    report = await generate(
        session,
        output,
        kind_code=CONTRACT_KIND,
        scope_id=contract.id,
        period="2026-11",
        generator=Generator.user,
    )
    data = await read_pdf(output.store, report)
    text = squash("".join(pdf_pages(data)))
    assert f"{withheld:,.2f}" in text
    assert "75%" in text
    assert report.doc_number is not None
    assert squash(report.doc_number) in text
    assert "玉林孵履" in report.doc_number  # the kind's own series
    await keep_pages("contract_performance", data)


async def test_incubation_and_briefing_pages(session: AsyncSession, output: ReportOutput) -> None:
    await load_demo(session)
    org = (
        await session.execute(select(Organisation).where(Organisation.name == "玉林社区邻里互助会"))
    ).scalar_one()
    report = await generate(
        session, output, kind_code=INCUBATION, scope_id=org.id, period="2026-11", generator=Generator.user
    )
    data = await read_pdf(output.store, report)
    assert "玉林社区邻里互助会" in squash(pdf_pages(data)[0])
    await keep_pages("incubation_growth", data)

    centre_id = org.centre_id
    from core.identity.models import Centre

    centre = await session.get(Centre, centre_id)
    assert centre is not None
    await make_user(session, centre, Role.staff)
    await add_events(session, centre, 30, action="organisation.admit")
    period = current_month(utcnow().astimezone(SHANGHAI))
    briefing = await generate(
        session, output, kind_code=BRIEFING, scope_id=centre_id, period=period, generator=Generator.user
    )
    await keep_pages("centre_monthly", await read_pdf(output.store, briefing))


async def test_doc_numbers_are_unique_in_the_archive(session: AsyncSession) -> None:
    """The archive itself refuses a second report with the same number in a centre."""
    from sqlalchemy.exc import IntegrityError

    cast = await make_cast(session)
    for version in (1, 2):
        session.add(
            GeneratedReport(
                centre_id=cast.centre.id,
                kind=BRIEFING,
                scope_type="centre",
                scope_id=cast.centre.id,
                period="2026-10",
                version=version,
                title="t",
                generator=Generator.user,
                size=1,
                sha256="0" * 64,
                storage_key=f"k{version}",
                doc_number="玉林孵〔2026〕1号",
            )
        )
    with pytest.raises(IntegrityError):
        await session.flush()
