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
    centre = await make_centre(session, name="玉林街道社会组织孵化中心")
    await make_user(session, centre, Role.staff)
    await make_user(session, centre, Role.applicant)
    await add_events(session, centre, 200, action="organisation.admit")
    period = current_month(utcnow().astimezone(SHANGHAI))

    report = await generate(
        session, output, kind_code=KIND_CODE, scope_id=centre.id, period=period, generator=Generator.user
    )
    data = await read_pdf(output.store, report)
    pages = pdf_pages(data)

    assert report.version == 1
    assert report.size == len(data)
    assert len(pages) > 2, "200 rows must run over several pages"
    text = squash("".join(pages))
    assert squash(centre.name) in text
    assert "中心月度简报" in text
    # 200 admissions, the centre and its 2 users recorded this month
    assert "organisation.admit200" in text
    assert "合计203" in text
    assert "203本月操作次数" in text
    for number, page in enumerate(pages, start=1):
        flat = squash(page)
        assert squash(centre.name) in flat, f"page {number} has no header"
        assert "中心月度简报" in flat, f"page {number} has no header"
        assert f"第{number}页/共{len(pages)}页" in flat
    # the table's header row repeats on the continuation pages
    assert sum("时间操作人操作对象" in squash(p) for p in pages) >= 2
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
        await asyncio.gather(renderer.run(os.getpid), renderer.run(os.getpid))
        stuck, beside = await asyncio.gather(
            renderer.run(time.sleep, 60, timeout=1.0),
            renderer.run(time.sleep, 3.0, timeout=60),
            return_exceptions=True,
        )
        assert isinstance(stuck, pdf.RenderTimeout)
        assert beside is None  # the run beside it finished: the pool was not killed
        assert (await renderer.render(pdf.warm_up_html())).startswith(b"%PDF")
    finally:
        renderer.shutdown()


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
