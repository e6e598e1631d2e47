"""The community fund in headless Chromium, in Chinese: staff record a donation and allocate
from the demo street's fund, finance records the finance check, and anyone reads the fund's
public accounts without logging in. Each page passes axe-core with no serious or critical
violation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.steps import login, logout, shot
from tests.live_server import live_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo street of its own: the other journeys commit programme money (a decision), and a
    programme that has committed more than its fundings would total refuses a new funding."""
    with live_server(tmp_path_factory.mktemp("funds-browser"), demo=True) as running:
        yield running.base


def assert_accessible(page: Any) -> None:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page)
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []


def test_staff_record_a_receipt_and_allocate_then_the_public_reads_it(
    page: Any, screenshots: Path, dialogs: list[str]
) -> None:
    login(page, "staff@yulin.demo")
    page.goto("/funds")
    assert_accessible(page)
    page.locator("#funds a", has_text="玉林街道友邻基金").click()
    page.wait_for_url(re.compile(r".*/funds/\d+$"))
    fund_url = page.url
    assert page.locator("#available").inner_text() == "121,760.50"
    assert_accessible(page)
    shot(page, screenshots, "fund-01-staff")

    form = page.locator("#receipt-form")
    form.locator("#r-received_on").fill("2026-11-20")
    form.locator("#r-source").select_option("individual")
    form.locator("#r-donor_name").fill("陈先生")
    form.locator("#r-amount").fill("1000.00")
    form.locator("#r-receipt_no").fill("捐-2026-0101")
    form.locator("#r-publish_donor").check()
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*msg=receipt.*"))
    assert page.locator("#available").inner_text() == "122,760.50"
    assert "陈先生" in page.locator("#receipts").inner_text()

    form = page.locator("#allocation-form")
    form.locator("#a-pool_id").select_option(index=1)  # the unrestricted money
    form.locator("#a-title").fill("邻里节活动经费")
    form.locator("#a-target").select_option("programme")
    form.locator("#a-programme_id").select_option(index=1)
    form.locator("#a-purpose").select_option("community_governance")
    form.locator("#a-amount").fill("999999.00")
    form.locator("button[type=submit]").click()
    error = page.locator("#allocation-form .field-error").first
    assert "超出该笔资金的余额" in error.inner_text()
    assert_accessible(page)
    form = page.locator("#allocation-form")
    form.locator("#a-amount").fill("5000.00")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*msg=allocation.*"))
    row = page.locator("#allocations tr", has_text="邻里节活动经费")
    assert "待审批" in row.inner_text()
    assert row.locator("button[type=submit]").is_disabled()  # the requester cannot decide it
    assert page.locator("#available").inner_text() == "117,760.50"
    shot(page, screenshots, "fund-02-allocated")

    logout(page)
    login(page, "finance@yulin.demo")
    page.goto(fund_url)
    row = page.locator("#allocations tr", has_text="邻里节活动经费")
    row.locator("input[name='note']").fill("财务审核通过")
    row.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*msg=decided.*"))
    assert any("不可撤销" in message for message in dialogs)
    row = page.locator("#allocations tr", has_text="邻里节活动经费")
    assert "已批准" in row.inner_text()
    assert "财务审核" in row.inner_text()

    logout(page)
    page.goto(fund_url.replace("/funds/", "/public/funds/"))
    assert page.locator("h1").inner_text() == "玉林街道友邻基金"
    text = page.locator("main").inner_text() if page.locator("main").count() else page.content()
    assert "陈先生" in text
    assert "刘女士" not in text
    assert "爱心人士" in text
    assert "邻里节活动经费" in text
    assert page.locator("#available").inner_text() == "117,760.50"
    assert_accessible(page)
    shot(page, screenshots, "fund-03-public")
