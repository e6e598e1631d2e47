"""The grant cycle of issue 8 through the real UI, in Chinese, against the demo centre.

An applicant files a proposal with a budget table and submits it; staff check eligibility,
start the expert review and assign the three demo evaluators; each evaluator declares no
conflict and scores; staff close the round, collect the results, decide and start the
publicity, which the public page shows to anyone. When the publicity period ends the
scheduled job awards the project (called here as the job does, on the server's database);
staff sign the agreement and request the first tranche, finance approve and pay it; a
mid-term evaluation is scored and closed, and its assessment report is a PDF that names the
project. Then a short pass in English. Screenshots of every step go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.steps import login, logout, shot

pytestmark = pytest.mark.browser

TITLE = "“邻里守望”独居长者互助探访"
ORGANISATION = "玉林社区邻里互助会"
EVALUATORS = [
    ("evaluator@yulin.demo", "张明"),
    ("evaluator2@yulin.demo", "赵丽"),
    ("evaluator3@yulin.demo", "孙海峰"),
]
# (category, item, unit price, quantity, funded by, the amount the page must show)
BUDGET = [
    ("personnel", "项目社工劳务补贴", "150", "30", "grant", "4,500.00"),
    ("activities", "探访活动组织", "1500", "8", "grant", "12,000.00"),
    ("venue", "活动场地（自筹）", "800", "3.5", "cofunding", "2,800.00"),
]
GRANT_TOTAL, COFUNDING_TOTAL, BUDGET_TOTAL = "16,500.00", "2,800.00", "19,300.00"


def _run(coroutine: Any) -> Any:
    """Run a coroutine outside Playwright's event loop (its sync API keeps one in this thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _finalise_publicity(database_url: str, title: str) -> int:
    """What the scheduled job ``grants.finalise_publicity`` does, on the day after the period."""
    from sqlalchemy import select

    import api.models  # noqa: F401  (every table)
    from core.db import create_engine, session_factory
    from grants.applications import publicity
    from grants.applications.models import Application

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            application = (
                await session.execute(select(Application).where(Application.title == title))
            ).scalar_one()
            assert application.publicity_ends_on is not None
            awards = await publicity.finalise_publicity(
                session, application.publicity_ends_on + dt.timedelta(days=1)
            )
            await session.commit()
            (award,) = [a for a in awards if a.application_id == application.id]
            return award.id
    finally:
        await engine.dispose()


def _id_from(url: str, pattern: str) -> int:
    match = re.search(pattern, url)
    assert match, url
    return int(match.group(1))


def _evaluate(page: Any, screenshots: Path, email: str, share: float, comment: str, name: str) -> None:
    """An evaluator opens the assignment, declares no conflict, scores every criterion at about
    ``share`` of its maximum (watching the running total) and submits the locked sheet."""
    logout(page)
    login(page, email)
    page.goto("/evaluations")
    page.get_by_role("link", name=TITLE).first.click()
    page.wait_for_url(re.compile(r".*/evaluations/assignments/\d+$"))
    page.locator("#no-conflict").check()  # no conflict is a choice, never pre-selected
    page.locator("#declaration button[type=submit]").click()
    page.wait_for_load_state()
    inputs = page.locator("#sheet-form .score-input")
    total = 0.0
    for k in range(inputs.count()):
        score = round(float(inputs.nth(k).get_attribute("max") or "0") * share * 2) / 2
        inputs.nth(k).fill(f"{score:g}")
        total += score
    assert inputs.count() >= 2
    assert float(page.locator("#running-total").inner_text()) == total
    page.fill("#comment", comment)
    shot(page, screenshots, f"{name}-scoring")
    page.locator("#sheet-form button[value=submit]").click()
    page.wait_for_load_state()
    assert page.locator("#sheet-form input.score-input").count() == 0  # locked
    shot(page, screenshots, f"{name}-submitted")


def test_grant_cycle_in_chinese(
    page: Any, screenshots: Path, server: str, server_database_url: str, dialogs: list[str]
) -> None:
    # --- the applicant files a proposal -------------------------------------------------
    login(page, "applicant@yulin.demo")
    page.goto("/programmes")
    shot(page, screenshots, "20-applicant-programmes")
    page.get_by_role("link", name=re.compile(r"\d{4}年玉林街道社区公益创投大赛")).click()
    page.wait_for_url(re.compile(r".*/programmes/\d+$"))
    programme_id = _id_from(page.url, r"/programmes/(\d+)$")
    assert page.locator("#programme-state").inner_text() == "申报中"
    page.get_by_role("link", name=re.compile(ORGANISATION)).click()
    page.wait_for_url(re.compile(r".*/applications/new\?.*"))
    form = page.locator("#application-form")
    form.locator("[name=title]").fill(TITLE)
    form.locator("[name=category_id]").select_option(label="为老服务")
    form.locator("[name=beneficiary_count]").fill("120")
    form.locator("[name=beneficiaries]").fill("玉林北路社区80岁以上独居长者")
    form.locator("[name=needs]").fill("独居高龄长者日常照护和精神慰藉不足")
    form.locator("[name=objectives]").fill("组建邻里探访队，每周探访一次")
    form.locator("[name='act-0-name']").fill("邻里探访")
    form.locator("[name='act-0-starts_on']").fill("2026-06-01")
    form.locator("[name='act-0-ends_on']").fill("2026-12-31")
    table = page.locator("#budget-table")
    for n, (category, item, price, quantity, funded_by, amount) in enumerate(BUDGET):
        if n:
            page.click("#add-line")
        row = table.locator("tr.budget-row").nth(n)
        row.locator("select[name$='-category']").select_option(category)
        row.locator("input[name$='-item']").fill(item)
        row.locator("select[name$='-funded_by']").select_option(funded_by)
        row.locator("input[name$='-quantity']").fill("")
        row.locator("input[name$='-unit_price']").press_sequentially(price)
        row.locator("input[name$='-quantity']").press_sequentially(quantity)
        assert row.locator(".line-amount").inner_text() == amount
    assert page.locator("#total-grant").inner_text() == GRANT_TOTAL
    assert page.locator("#total-cofunding").inner_text() == COFUNDING_TOTAL
    assert page.locator("#total-all").inner_text() == BUDGET_TOTAL
    form.locator("[name='ind-0-name']").fill("探访人次")
    form.locator("[name='ind-0-target']").fill("1200")
    form.locator("[name='ind-0-unit']").fill("人次")
    shot(page, screenshots, "21-applicant-budget-typed")
    page.click("#save-draft")
    page.wait_for_load_state()
    assert "msg=saved" in page.url, page.locator(".field-error, .error").all_inner_texts()
    application_id = _id_from(page.url, r"/applications/(\d+)")
    assert page.locator("#requested").inner_text() == GRANT_TOTAL  # the server's totals
    assert page.locator("#budget tfoot").inner_text().count(BUDGET_TOTAL) == 1
    assert page.locator("#application-state").inner_text() == "草稿"
    shot(page, screenshots, "22-applicant-draft-saved")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url(re.compile(r".*msg=submitted"))
    assert dialogs, "submitting asks for confirmation"
    assert "提交" in dialogs[-1]
    assert page.locator("#application-state").inner_text() == "已提交"
    shot(page, screenshots, "23-applicant-submitted")

    # --- staff: eligibility, review round, evaluators ---------------------------------------
    logout(page)
    login(page, "staff@yulin.demo")
    page.goto(f"/applications/{application_id}")
    shot(page, screenshots, "24-staff-eligibility-checks")
    page.click("#confirm-eligibility")
    page.wait_for_url(re.compile(r".*msg=done"))
    assert page.locator("#application-state").inner_text() == "资格审核通过"
    # The demo's other submitted proposal is held ineligible, with the reason staff give.
    page.goto(f"/programmes/{programme_id}")
    page.locator("#programme-applications").get_by_role("link", name="青少年社区议事会").click()
    page.wait_for_url(re.compile(r".*/applications/\d+$"))
    first_check = page.locator("#eligibility-form tr[data-check]").first
    first_check.locator("select").select_option("fail")
    first_check.locator("input").fill("申报材料缺少理事会决议，不予受理")
    page.click("#confirm-eligibility")
    page.wait_for_url(re.compile(r".*msg=done"))
    assert page.locator("#application-state").inner_text() == "资格审核未通过"
    shot(page, screenshots, "25-staff-other-ineligible")

    page.goto(f"/programmes/{programme_id}")
    page.locator("form[data-action='start-review'] button").click()
    page.wait_for_load_state()
    assert page.locator("#programme-state").inner_text() == "评审中"
    shot(page, screenshots, "26-staff-review-started")
    page.get_by_role("link", name="打开评审轮次").click()
    page.wait_for_url(re.compile(r".*/evaluations/rounds/\d+$"))
    round_id = _id_from(page.url, r"/rounds/(\d+)$")
    for _email, name in EVALUATORS:
        page.select_option("#assign-subject", label=TITLE)
        page.select_option("#assign-evaluator", label=name)
        page.locator("form[action$='/assignments'] button[type=submit]").click()
        page.wait_for_url(re.compile(rf".*/evaluations/rounds/{round_id}.*"))
    progress = page.locator("#progress").inner_text()
    assert all(name in progress for _email, name in EVALUATORS)
    assert "0 / 3" in progress
    shot(page, screenshots, "27-staff-evaluators-assigned")

    # --- three evaluators score -------------------------------------------------------------
    for n, ((email, _name), share) in enumerate(zip(EVALUATORS, (0.88, 0.9, 0.84), strict=True)):
        _evaluate(
            page, screenshots, email, share, "需求调研扎实，探访机制清晰，建议立项", f"28-evaluator{n + 1}"
        )

    # --- staff: close, collect, decide, publicise ------------------------------------------
    logout(page)
    login(page, "staff@yulin.demo")
    page.goto(f"/evaluations/rounds/{round_id}")
    assert "3 / 3" in page.locator("#progress").inner_text()
    page.click("#close-round")
    page.wait_for_load_state()
    assert page.locator("#round-state").inner_text() == "已结束"
    assert TITLE in page.locator("#results").inner_text()
    shot(page, screenshots, "29-staff-round-closed")
    page.goto(f"/programmes/{programme_id}")
    page.locator("form[data-action='collect-results'] button").click()
    page.wait_for_load_state()
    row = page.locator("#programme-applications tr", has_text=TITLE)
    assert "推荐" in row.inner_text()
    shot(page, screenshots, "30-staff-results-collected")
    page.click("#decide-link")
    page.wait_for_url(re.compile(rf".*/programmes/{programme_id}/decide$"))
    decision = page.locator(f"#decide-form tr[data-application='{application_id}']")
    assert decision.locator("select").input_value() == "yes"
    decision.locator(f"[name='reason-{application_id}']").fill("评审平均分87，需求明确，同意立项")
    shot(page, screenshots, "31-staff-decision-screen")
    page.locator("#decide-form button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/programmes/{programme_id}.*"))
    assert page.locator("#programme-state").inner_text() == "已决定"
    shot(page, screenshots, "32-staff-decided")
    page.locator("form[data-action='publicise'] button").click()
    page.wait_for_load_state()
    assert page.locator("#programme-state").inner_text() == "公示中"
    shot(page, screenshots, "33-staff-publicity-started")

    logout(page)
    page.goto("/public/publicity")
    assert TITLE in page.content()
    assert ORGANISATION in page.content()
    shot(page, screenshots, "34-public-publicity")

    # --- the publicity period ends: the scheduled job awards the project ------------------
    award_id = _run(_finalise_publicity(server_database_url, TITLE))

    # --- staff sign and request the first tranche; finance approve and pay -----------------
    login(page, "staff@yulin.demo")
    page.goto(f"/awards/{award_id}")
    assert page.locator("h1").inner_text() == TITLE
    assert page.locator("#award-state").inner_text() == "执行中"
    assert page.locator("#staff-actions h2").first.inner_text() == "操作"
    shot(page, screenshots, "35-staff-award")
    sign = page.locator("#staff-actions details", has=page.locator("form[action$='/sign']"))
    sign.locator("summary").click()
    sign.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/awards/{award_id}.*"))
    first = page.locator("#tranches tr[data-tranche]").first
    assert "8,250.00" in first.inner_text()  # 50 % of 16,500.00 on signing
    first.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/awards/{award_id}.*"))
    assert "已申请拨付" in page.locator("#tranches tr[data-tranche]").first.inner_text()
    shot(page, screenshots, "36-staff-tranche-requested")

    logout(page)
    login(page, "finance@yulin.demo")
    page.goto("/finance")
    pending = page.locator("#pending tr[data-disbursement]", has_text="8,250.00")
    shot(page, screenshots, "37-finance-pending")
    pending.get_by_role("button", name="批准").first.click()
    page.wait_for_load_state()
    assert "8,250.00" in dialogs[-1]
    approved = page.locator("#approved tr[data-disbursement]", has_text="8,250.00")
    approved.locator("[name=voucher_no]").fill("YL-2026-0815")
    approved.get_by_role("button", name="登记付款").click()
    page.wait_for_load_state()
    assert "YL-2026-0815" in page.locator("#paid").inner_text()
    shot(page, screenshots, "38-finance-paid")

    # --- mid-term evaluation, scored and closed; the assessment report ----------------------
    logout(page)
    login(page, "staff@yulin.demo")
    page.goto(f"/awards/{award_id}")
    assert page.locator("#paid").inner_text() == "8,250.00"
    page.select_option("#start-evaluation select[name=purpose]", "midterm")
    page.locator("#start-evaluation button").click()
    page.wait_for_url(re.compile(r".*/evaluations/rounds/\d+$"))
    midterm_id = _id_from(page.url, r"/rounds/(\d+)$")
    required = int(page.locator("#progress td.num").first.inner_text().split("/")[1])
    for _email, name in EVALUATORS[:required]:
        page.select_option("#assign-evaluator", label=name)
        page.locator("form[action$='/assignments'] button[type=submit]").click()
        page.wait_for_url(re.compile(rf".*/evaluations/rounds/{midterm_id}.*"))
    shot(page, screenshots, "39-staff-midterm-round")
    for n, (email, _name) in enumerate(EVALUATORS[:required]):
        _evaluate(
            page, screenshots, email, 0.85, "中期进展良好，探访台账完整", f"40-midterm-evaluator{n + 1}"
        )
    logout(page)
    login(page, "staff@yulin.demo")
    page.goto(f"/evaluations/rounds/{midterm_id}")
    page.click("#close-round")
    page.wait_for_load_state()
    assert page.locator("#round-state").inner_text() == "已结束"
    shot(page, screenshots, "41-staff-midterm-closed")

    page.goto("/reports?kind=project_assessment")
    link = page.get_by_role("link", name="下载 PDF").first
    shot(page, screenshots, "42-staff-report-archive")
    href = link.get_attribute("href")
    assert href
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    response = httpx.get(server + href, cookies=cookies, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert TITLE.strip("“”") in text.replace("\n", "")


def test_english_labels_on_the_grant_pages(page: Any, screenshots: Path) -> None:
    login(page, "staff@yulin.demo")
    page.goto("/programmes")
    page.click("form[action='/lang'] button[value='en']")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").first.inner_text() == "Programmes"
    page.get_by_role("link", name=re.compile(r"\d{4}年玉林街道社区公益创投大赛")).click()
    page.wait_for_url(re.compile(r".*/programmes/\d+$"))
    assert page.get_by_role("heading", name="Tranche plan").count() == 1
    assert page.get_by_role("heading", name="Applications").count() == 1
    shot(page, screenshots, "50-english-programme")
    page.goto("/finance")
    assert page.locator("h1").first.inner_text() == "Finance"
    assert page.get_by_role("heading", name=re.compile(r"Awaiting approval")).count() == 1
    shot(page, screenshots, "51-english-finance")
    page.click("form[action='/lang'] button[value='zh']")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
