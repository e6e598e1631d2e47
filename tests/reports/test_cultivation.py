"""社区社会组织培育目标完成情况, per quarter and per year, for a centre and a community, read
back from the archived PDF's text; and the district roll-up PDF."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from reports.cultivation import CENTRE_KIND, COMMUNITY_KIND, previous_quarter
from reports.models import Generator
from reports.service import ReportOutput, generate, read_pdf
from tests.communities.street import build_street
from tests.factories import make_user
from tests.incubator.test_pages import logged_in
from tests.reports.conftest import pdf_pages, squash


async def test_the_centre_report_for_the_year(session: AsyncSession, output: ReportOutput) -> None:
    street = await build_street(session)
    report = await generate(
        session,
        output,
        kind_code=CENTRE_KIND,
        scope_id=street.centre.id,
        period="2026",
        generator=Generator.user,
    )
    text = squash("".join(pdf_pages(await read_pdf(output.store, report))))
    assert "社区社会组织培育目标完成情况" in text
    assert "2026年度" in text
    assert "玉林街办发〔2024〕12号" in text
    # 玉林: two new volunteer teams against exactly one (above range); 向阳村 met its service target
    assert "新增志愿队1–12高于区间" in text
    assert "新增为民服务类组织1–31已达标" in text
    assert "新增社团5+2落后" in text
    assert "玉林跨年志愿队" in text
    assert "2026-01-01" in text
    assert "一院落友邻点" in text
    assert "620.00" in text


async def test_a_quarter_reads_the_year_so_far_and_a_community_report_only_its_community(
    session: AsyncSession, output: ReportOutput
) -> None:
    street = await build_street(session)
    report = await generate(
        session,
        output,
        kind_code=COMMUNITY_KIND,
        scope_id=street.yulin.id,
        period="2026-Q1",
        generator=Generator.user,
    )
    text = squash("".join(pdf_pages(await read_pdf(output.store, report))))
    assert "2026年第1季度" in text
    assert "截至2026-03-31" in text
    # by 31 March only 合唱团 (1 March) of 玉林's two new associations was founded
    assert "新增社团5+1落后" in text
    assert "玉林舞蹈队" not in text
    assert "芳草读书会" not in text
    assert report.scope_type.value == "community"


def test_scheduled_runs_report_on_the_quarter_just_ended() -> None:
    import datetime as dt

    from core.clock import SHANGHAI

    assert previous_quarter(dt.datetime(2026, 10, 1, 8, tzinfo=SHANGHAI)) == "2026-Q3"
    assert previous_quarter(dt.datetime(2027, 1, 2, 8, tzinfo=SHANGHAI)) == "2026-Q4"


async def test_the_district_reads_the_roll_up_as_a_pdf(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    street = await build_street(session)
    district = await make_user(session, None, Role.staff, district=True)
    await logged_in(client, district)
    page = await client.get("/district/cultivation?year=2026")
    assert page.status_code == 200
    assert street.centre.name in page.text
    pdf = await client.get("/district/cultivation.pdf?year=2026")
    assert pdf.status_code == 200
    text = squash("".join(pdf_pages(pdf.content)))
    assert "全区社区社会组织培育目标汇总" in text
    assert street.centre.name in text
    assert "玉林北路社区" in text


async def test_staff_schedule_the_community_report_each_quarter(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    street = await build_street(session)
    created = await client.post(
        "/api/v1/report-schedules",
        json={"kind": COMMUNITY_KIND, "scope_id": street.yulin.id, "cron": "0 8 1 1,4,7,10 *"},
        headers=street.staff.headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["scope_type"] == "community"
    other = await make_user(session, None, Role.staff, district=True)
    refused = await client.post(
        "/api/v1/report-schedules",
        json={"kind": COMMUNITY_KIND, "scope_id": street.yulin.id, "cron": "0 8 1 1,4,7,10 *"},
        headers=other.headers,
    )
    assert refused.status_code == 403
