"""Journeys through the real UI in headless Chromium: in Chinese, with one pass in English.

Every demo role logs in and sees its dashboard; staff open an organisation, move its
incubation stay a step and record a support activity; an evaluator opens the assignments
page; the language switch. The grant cycle from proposal to payment and assessment report
is ``test_grant_journey.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.steps import login, shot

pytestmark = pytest.mark.browser

ACCOUNTS = [
    ("staff", "staff@yulin.demo", "孵化中心工作人员"),
    ("applicant", "applicant@yulin.demo", "申报组织"),
    ("finance", "finance@yulin.demo", "财务人员"),
    ("evaluator", "evaluator@yulin.demo", "评审专家"),
    ("admin", "admin@yulin.demo", "系统管理员"),
]


@pytest.mark.parametrize(("role", "email", "heading"), ACCOUNTS, ids=[a[0] for a in ACCOUNTS])
def test_each_demo_role_sees_its_dashboard(
    page: Any, screenshots: Path, role: str, email: str, heading: str
) -> None:
    login(page, email)
    page.goto("/dashboard")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator(f".role-card[data-role='{role}'] h2").inner_text() == heading
    shot(page, screenshots, f"01-dashboard-{role}")


def test_staff_move_a_stay_and_record_support(page: Any, screenshots: Path) -> None:
    login(page, "staff@yulin.demo")
    page.goto("/organisations?incubation_state=applied")
    shot(page, screenshots, "02-staff-organisations-applied")
    page.locator("table a[href^='/organisations/']").first.click()
    page.wait_for_url(re.compile(r".*/organisations/\d+$"))
    shot(page, screenshots, "03-staff-profile")

    assess = page.locator("details[data-action='assess']")
    assess.locator("summary").click()
    assess.locator("input[name='on']").fill("2026-03-02")
    assess.locator("textarea[name='note']").fill("现场走访：骨干稳定，同意入驻评估")
    assess.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*msg=stay.*"))
    assert "现场走访：骨干稳定，同意入驻评估" in page.content()
    shot(page, screenshots, "04-staff-stay-assessed")

    page.locator("details:has(form[action$='/activities']) > summary").click()
    form = page.locator("form[action$='/activities']")
    form.locator("select[name='kind']").select_option("consultation")
    form.locator("input[name='hours']").fill("1.5")
    form.locator("input[name='topic']").fill("年度检查材料辅导")
    form.locator("input[name='given_by']").fill("李晓燕")
    form.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*msg=activity.*"))
    assert "年度检查材料辅导" in page.content()
    shot(page, screenshots, "05-staff-activity-recorded")


def test_evaluator_opens_assignments(page: Any, screenshots: Path) -> None:
    login(page, "evaluator@yulin.demo")
    page.goto("/evaluations")
    assert page.locator("h1").first.inner_text() == "评审"
    assert page.get_by_role("heading", name="我的评审任务").count() == 1
    shot(page, screenshots, "06-evaluator-assignments")


def test_one_pass_in_english(page: Any, screenshots: Path) -> None:
    login(page, "staff@yulin.demo")
    page.goto("/dashboard")
    page.click("form[action='/lang'] button[value='en']")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").first.inner_text() == "Dashboard"
    shot(page, screenshots, "07-english-dashboard")
    page.goto("/organisations")
    assert page.locator("h1").first.inner_text() == "Organisations"
    shot(page, screenshots, "08-english-organisations")
    page.click("form[action='/lang'] button[value='zh']")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
