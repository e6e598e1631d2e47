"""The street's network in the browser: a station officer records a resident team, its activity
and a need in their community; staff enter a cultivation plan and its targets. Every page is
checked with axe-core (no serious or critical violation)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.steps import login, shot

pytestmark = pytest.mark.browser


def accessible(page: Any, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, f"{name}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}" for v in bad
    )


def test_a_station_officer_works_in_their_community(page: Any, screenshots: Path) -> None:
    login(page, "station@yulin.demo")
    page.goto("/dashboard")
    assert page.locator(".role-card[data-role='station'] h2").inner_text() == "站点负责人"
    assert page.locator("[data-panel='cultivation']").count() == 1
    accessible(page, "station dashboard")
    shot(page, screenshots, "40-station-dashboard")

    page.goto("/network")
    network = page.content()
    assert "玉林北路友邻站" in network
    assert "玉林北路一院落友邻点" in network
    assert "芳草社工站" not in network
    accessible(page, "station network")
    shot(page, screenshots, "41-station-network")

    page.goto("/organisations/new")
    accessible(page, "station new organisation")
    page.fill("#f-name", "玉林北路象棋队")
    page.select_option("#f-kind", "community_group")
    page.select_option("#f-category", "association")
    page.fill("#f-founded_on", "2026-11-02")
    page.click("form[action='/organisations/new'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/organisations/\d+\?msg=created"))
    assert "玉林北路象棋队" in page.content()
    assert "玉林北路社区" in page.content()
    shot(page, screenshots, "42-station-team")

    page.locator("details:has(form[action$='/activities']) > summary").click()
    form = page.locator("form[action$='/activities']")
    form.locator("select[name='kind']").select_option("event")
    form.locator("input[name='hours']").fill("2")
    form.locator("input[name='topic']").fill("象棋友谊赛")
    form.locator("input[name='given_by']").fill("黄丽")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*msg=activity.*"))
    shot(page, screenshots, "43-station-activity")

    page.goto("/needs")
    page.fill("#f-description", "院坝照明需要维修")
    page.fill("#f-source", "院落议事会")
    page.click("form[action='/needs'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/needs\?msg=saved"))
    needs = page.locator("#needs").inner_text()
    assert "院坝照明需要维修" in needs
    assert "玉林北路社区" in needs
    accessible(page, "station needs")
    shot(page, screenshots, "44-station-needs")

    page.goto("/organisations")
    listed = page.locator("table").first.inner_text()
    assert "玉林北路象棋队" in listed
    assert "芳草社区邻里守望志愿队" not in listed


def test_staff_enter_a_cultivation_plan_and_its_targets(page: Any, screenshots: Path) -> None:
    login(page, "staff@yulin.demo")
    page.goto("/cultivation/plans")
    accessible(page, "plans")
    page.fill("#f-title", "玉林街道2028年社区社会组织培育计划")
    page.fill("#f-document", "玉林街办发〔2028〕2号")
    page.fill("#f-first_year", "2028")
    page.fill("#f-last_year", "2028")
    page.click("form[action='/cultivation/plans'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/cultivation/plans/\d+\?msg=saved"))
    shot(page, screenshots, "45-staff-plan")

    target = page.locator("#target-form")
    target.locator("#f-metric").select_option("new_service")
    target.locator("#f-minimum").fill("3")
    target.locator("#f-maximum").fill("1")
    with page.expect_navigation():  # the form is on the page before and after: wait for the answer
        target.locator("button[type=submit]").click()
    assert "最大值不能小于最小值" in page.locator("#target-form").inner_text()
    accessible(page, "plan with an error")

    target = page.locator("#target-form")
    target.locator("#f-minimum").fill("1")
    target.locator("#f-maximum").fill("3")
    target.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*msg=saved"))
    rows = page.locator("#progress tbody tr")
    assert rows.count() == 5  # every community of the demo street
    assert "落后" in page.locator("#progress").inner_text()
    assert "每个社区" in page.locator("#targets").inner_text()
    accessible(page, "plan")
    shot(page, screenshots, "46-staff-targets")

    page.goto("/network?year=2026")
    assert (
        page.locator("[data-community='玉林北路社区'] [data-metric='flagship'][data-standing='met']").count()
        == 1
    )
    accessible(page, "staff network")
    shot(page, screenshots, "47-staff-network")
