"""The monthly briefing as a user sees it: Chinese, numbered pages, headers on every page."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.identity.models import Role
from reports import pdf
from reports.briefing import KIND_CODE
from reports.kinds import SHANGHAI, current_month
from reports.models import Generator
from reports.service import ReportOutput, generate, read_pdf
from tests.factories import make_centre, make_user
from tests.reports.conftest import add_events, pdf_fonts, pdf_pages, squash


async def test_monthly_briefing_pdf(session: AsyncSession, output: ReportOutput) -> None:
    """The street's briefing: admissions, cultivation progress, support, needs (200 of them,
    to run over several pages), not account counts or audit codes."""
    from decimal import Decimal

    from cultivation import service as cultivation
    from cultivation.models import Metric
    from cultivation.schemas import PlanIn, TargetIn
    from grants.programmes.models import CommunityNeed
    from incubator import service as incubator
    from incubator.schemas import ActivityCreate, StayAdmit, StayAssess, StayCreate
    from tests.incubator.helpers import make_org

    centre = await make_centre(session, name="玉林街道社会组织孵化中心")
    staff = await make_user(session, centre, Role.staff)
    await make_user(session, centre, Role.applicant)
    await add_events(session, centre, 50, action="organisation.admit")
    local_today = utcnow().astimezone(SHANGHAI).date()
    period = current_month(utcnow().astimezone(SHANGHAI))
    org = await make_org(session, staff, name="玉林银龄互助会", founded_on=local_today.isoformat())
    stay = await incubator.create_stay(
        session, staff.principal, StayCreate(organisation_id=org.id, applied_on=local_today)
    )
    await incubator.assess_stay(
        session, staff.principal, stay.id, StayAssess(on=local_today, note="评估通过")
    )
    await incubator.admit_stay(
        session,
        staff.principal,
        stay.id,
        StayAdmit(start_date=local_today, planned_months=12, mentor="王敏老师", workspace="A-201"),
    )
    await incubator.add_activity(
        session,
        staff.principal,
        ActivityCreate(
            organisation_id=org.id, kind="training", held_on=local_today, hours=Decimal("2.5"),
            topic="财务制度培训", given_by="王老师", participants=12,
        ),
    )  # fmt: skip
    plan = await cultivation.create_plan(
        session,
        staff.principal,
        PlanIn(title="培育计划", first_year=local_today.year, last_year=local_today.year),
    )
    await cultivation.set_target(
        session,
        staff.principal,
        plan.id,
        TargetIn(year=local_today.year, metric=Metric.new_association, minimum=5),
    )
    assert org.community_id is not None
    for n in range(200):
        session.add(
            CommunityNeed(
                centre_id=centre.id, community="玉林北路社区", community_id=org.community_id,
                description=f"需求{n:03d}", source="走访",
            )
        )  # fmt: skip
    await session.flush()

    report = await generate(
        session, output, kind_code=KIND_CODE, scope_id=centre.id, period=period, generator=Generator.user
    )
    data = await read_pdf(output.store, report)
    pages = pdf_pages(data)

    assert report.version == 1
    assert report.size == len(data)
    assert len(pages) > 2, "200 needs must run over several pages"
    text = squash("".join(pages))
    assert squash(centre.name) in text
    assert "中心月度简报" in text
    assert "玉林银龄互助会已入壳" in text
    assert "玉林北路社区新增社团05" in text  # behind: none of five
    assert "开展支持活动1次，共2.5小时，12人次参与" in text
    assert "需求000" in text
    assert "需求199" in text
    assert "organisation.admit" not in text  # audit codes are not the street's business
    for number, page in enumerate(pages, start=1):
        flat = squash(page)
        assert squash(centre.name) in flat, f"page {number} has no header"
        assert "中心月度简报" in flat, f"page {number} has no header"
        assert f"第{number}页/共{len(pages)}页" in flat
    # the needs table's header row repeats on the continuation pages
    assert sum("社区需求已转化为选题" in squash(p) for p in pages) >= 2
    fonts = pdf_fonts(data)
    assert any("NotoSansCJK" in name.replace("-", "") for name in fonts), fonts


def test_missing_cjk_font_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "fc_families", _no_fonts)
    monkeypatch.setattr(pdf, "_font_found", False)
    with pytest.raises(pdf.CJKFontMissing, match="Noto Sans CJK SC"):
        pdf.ensure_cjk_font()


def _no_fonts() -> str:
    return "DejaVu Sans\n"


def test_fetcher_refuses_outside_resources() -> None:
    fetcher = pdf._make_fetcher(str(pdf.REPORT_ASSETS))
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch("http://example.org/tracker.png")
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch("file:///etc/passwd")
    own = fetcher.fetch((pdf.REPORT_ASSETS / "report.css").as_uri())
    own.close()


def test_templates_are_autoescaped() -> None:
    html = pdf.render_html(
        "reports/base.html",
        {"title": "<script>x</script>", "centre_name": "A&B", "period_label": "", "generated_at": utcnow()},
    )
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;" in html
    assert re.search(r'content: "第 " counter\(page\) " 页 / 共 " counter\(pages\) " 页"', html)


async def test_a_render_over_its_time_is_stopped_and_the_pool_goes_on() -> None:
    renderer = pdf.PdfRenderer(1, timeout_seconds=0.01)
    try:
        with pytest.raises(pdf.RenderTimeout):
            await renderer.render("<p>" + "长" * 200_000 + "</p>")
        renderer.timeout_seconds = 120
        assert (await renderer.render(pdf.warm_up_html())).startswith(b"%PDF")
    finally:
        renderer.shutdown()


async def test_the_time_limit_counts_from_the_start_of_a_run_not_from_submission() -> None:
    """Three one-second runs queued on one worker all finish under a 2.5 s limit: the third
    waits two seconds before it starts, which a limit counted from submission would cut."""
    renderer = pdf.PdfRenderer(1)
    try:
        await renderer.run(os.getpid)  # the worker is up and warm
        results = await asyncio.gather(*(renderer.run(time.sleep, 1.0, timeout=2.5) for _ in range(3)))
        assert results == [None, None, None]
    finally:
        renderer.shutdown()


async def test_an_overrunning_run_kills_only_its_own_worker() -> None:
    renderer = pdf.PdfRenderer(2)
    try:
        renderer.start()
        ran_on = await asyncio.gather(renderer.run(os.getpid), renderer.run(os.getpid))
        before = set(renderer.worker_pids())
        assert len(before) == 2
        assert set(ran_on) <= before
        stuck, beside = await asyncio.gather(
            renderer.run(time.sleep, 60, timeout=1.0),
            renderer.run(time.sleep, 3.0, timeout=60),
            return_exceptions=True,
        )
        assert isinstance(stuck, pdf.RenderTimeout)
        assert beside is None  # the run beside it finished: the pool was not killed
        assert (await renderer.render(pdf.warm_up_html())).startswith(b"%PDF")
        assert len(before & set(renderer.worker_pids())) == 1  # one worker replaced, one kept
    finally:
        renderer.shutdown()
    assert renderer.worker_pids() == []


def test_font_configuration_is_made_once_per_thread() -> None:
    """One per thread, reused: a new one per document reloads the fonts and grew the worker."""
    first = pdf._font_config()
    assert pdf._font_config() is first
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(pdf._font_config()))
    thread.start()
    thread.join()
    assert len(other) == 1
    assert other[0] is not first


def test_warm_up_page_uses_the_report_fonts() -> None:
    data = pdf.html_to_pdf(pdf.warm_up_html())
    pages = pdf_pages(data)
    assert len(pages) == 2
    assert "预热" in pages[1]
    assert "第2页/共2页" in squash(pages[1])
    assert any("NotoSansCJK" in name.replace("-", "") for name in pdf_fonts(data))


def test_failed_warm_up_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(html: str, allowed_root: str = "") -> bytes:
        raise OSError("no fonts today")

    monkeypatch.setattr(pdf, "html_to_pdf", broken)
    pdf.warm_worker()
    assert "warm-up failed" in caplog.text


async def test_started_pool_renders_after_warm_up() -> None:
    renderer = pdf.PdfRenderer(1, tasks_per_child=2)
    try:
        renderer.start()
        assert renderer._pool is not None
        # Three renders with recycling every two tasks: the replacement worker warms up too.
        for _ in range(3):
            data = await renderer.render(pdf.warm_up_html())
            assert data.startswith(b"%PDF")
    finally:
        renderer.shutdown()
