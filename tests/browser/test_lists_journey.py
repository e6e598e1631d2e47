"""Staff's lists through the real UI, in Chinese, against the demo centre: filter and sort the
applications, search an organisation from the top bar, confirm eligibility of a ticked
batch, download a closed round's review summary (评审汇总表). Every page is checked with
axe-core (no serious or critical violations), and the lists are read at 390×844 without the
page scrolling sideways. Screenshots go to ``test-artifacts/browser/lists/``.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from core.settings import PROJECT_ROOT
from tests.browser.steps import login, shot
from tests.live_server import live_server

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-artifacts" / "browser" / "lists"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo street of its own: the bulk confirmation here decides the demo's submitted
    applications, which the grant journey decides one by one on the shared street."""
    with live_server(tmp_path_factory.mktemp("lists-browser"), demo=True) as running:
        yield running.base


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def _axe(page: Any, name: str) -> None:
    """No serious or critical accessibility violation on the page as it stands."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"


def _no_sideways_scroll(page: Any, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page is {width}px wide at {PHONE['width']}px"


def _amounts(page: Any) -> list[Decimal]:
    cells = page.locator("#applications tbody tr td:nth-child(9)").all_inner_texts()
    return [Decimal(c.replace(",", "")) for c in cells if c.strip()]


def test_staff_filter_sort_search_bulk_confirm_and_review_summary(page: Any, shots: Path) -> None:
    login(page, "staff@yulin.demo")

    # Filter the applications by the 2026 call, then sort by the requested amount.
    page.click("nav.mainnav a[href='/applications']")
    page.wait_for_url(re.compile(r".*/applications$"))
    _axe(page, "applications")
    shot(page, shots, "01-applications")
    programme = page.locator("#flt-programme_id option").nth(1)
    programme_id = programme.get_attribute("value")
    page.select_option("#flt-programme_id", programme_id)
    page.click("#filters button[type=submit]")
    page.wait_for_url(re.compile(rf".*programme_id={programme_id}.*"))
    state = page.locator("#listing-state").inner_text()
    assert "筛选条件" in state
    assert programme.inner_text() in state
    header = page.locator("th[aria-sort] a[data-sort='requested']")
    header.click()
    page.wait_for_url(re.compile(r".*sort=requested.*"))
    assert page.locator("th:has(a[data-sort='requested'])").get_attribute("aria-sort") == "ascending"
    page.locator("th[aria-sort] a[data-sort='requested']").click()
    page.wait_for_url(re.compile(r".*sort=-requested.*"))
    assert f"programme_id={programme_id}" in page.url  # the filter survives the sort
    assert page.locator("th:has(a[data-sort='requested'])").get_attribute("aria-sort") == "descending"
    amounts = _amounts(page)
    assert amounts == sorted(amounts, reverse=True)
    assert len(amounts) >= 2
    assert "按 申请金额 降序排列" in page.locator("#listing-state").inner_text()
    _axe(page, "applications filtered and sorted")
    shot(page, shots, "02-applications-filtered-sorted")

    # Search an organisation from the top bar and open it.
    page.fill("#top-search", "芳华")
    page.press("#top-search", "Enter")
    page.wait_for_url(re.compile(r".*/search\?q=.*"))
    found = page.locator("#results-organisations a", has_text="芳华青少年服务中心")
    assert found.count() == 1
    _axe(page, "search")
    shot(page, shots, "03-search")
    found.click()
    page.wait_for_url(re.compile(r".*/organisations/\d+$"))
    assert "芳华青少年服务中心" in page.locator("h1").inner_text()

    # Confirm eligibility of the submitted applications as one batch.
    page.goto("/applications?state=submitted")
    boxes = page.locator("input[name=ids]")
    ticked = boxes.count()
    assert ticked >= 1
    titles = page.locator("#applications tbody tr td:nth-child(3)").all_inner_texts()
    for i in range(ticked):
        boxes.nth(i).check()
    shot(page, shots, "04-applications-ticked")
    page.click("#bulk-confirm-eligibility")
    page.wait_for_url(re.compile(r".*/applications/bulk/confirm-eligibility$"))
    message = page.locator("#bulk-message").inner_text()
    assert f"确认 {ticked} 份申报书的资格审查" in message
    assert "资格合格" in message
    _axe(page, "bulk confirmation")
    shot(page, shots, "05-bulk-confirm")
    page.click("#bulk-go")
    page.wait_for_selector("#bulk-summary")
    summary = page.locator("#bulk-summary").inner_text()
    assert f"{ticked} 项已完成，0 项被拒绝" in summary, page.locator("#bulk-refused").inner_text()
    for title in titles:
        assert title in page.locator("#bulk-done").inner_text()
    _axe(page, "bulk result")
    shot(page, shots, "06-bulk-result")
    page.goto("/applications?state=submitted")
    assert page.locator("input[name=ids]").count() == 0

    # Download the review summary of the closed 2025 round.
    page.click("nav.mainnav a[href='/evaluations']")
    page.wait_for_url(re.compile(r".*/evaluations$"))  # the links are read from the new page, not the old
    rounds = [
        href
        for href in page.locator("a[href^='/evaluations/rounds/']").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        if re.fullmatch(r"/evaluations/rounds/\d+", href)
    ]
    for href in rounds:
        page.goto(href)
        if page.locator("#review-summary").count():
            break
    else:
        pytest.fail("no closed round with a review summary in the demo centre")
    _axe(page, "closed round")
    shot(page, shots, "07-round-results")
    with page.expect_download() as download_info:
        page.click("#review-summary")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    assert sheet is not None
    assert str(sheet["A1"].value).startswith("评审汇总表")
    headers = [c.value for c in sheet[2]]
    assert headers[:4] == ["类别", "类别内排名", "编号", "项目名称"]
    assert headers[-5:] == ["评分表数", "平均分", "去极值平均分", "最终得分", "等级"]
    evaluator_columns = [h for h in headers if str(h).endswith("（总分）")]
    assert len(evaluator_columns) >= 3
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert rows
    for row in rows:
        scores = [row[i] for i in range(4, 4 + len(evaluator_columns)) if row[i] is not None]
        assert row[-5] == len(scores)
        mean = sum((Decimal(str(s)) for s in scores), Decimal(0)) / len(scores)
        assert abs(Decimal(str(row[-4])) - mean) <= Decimal("0.01")
        assert row[-1] in {"优秀", "良好", "合格", "不合格"}


@pytest.mark.parametrize(
    ("path", "table"),
    [
        ("/applications", "#applications"),
        ("/organisations", "#organisations"),
        ("/awards", "#awards"),
        ("/disbursements", "#disbursements"),
        ("/contracts", "#contracts"),
        ("/tranches/due", "#due-tranches"),
        ("/search?q=玉林", "#results-organisations"),
    ],
)
def test_lists_on_a_phone(page: Any, shots: Path, path: str, table: str) -> None:
    login(page, "staff@yulin.demo")
    page.set_viewport_size(PHONE)
    page.goto(path)
    assert page.locator(table).count() == 1
    name = "phone-" + re.sub(r"[^a-z]+", "-", path.split("?")[0]).strip("-")
    _no_sideways_scroll(page, path)
    _axe(page, path)
    shot(page, shots, name)
    page.set_viewport_size(DESKTOP)
