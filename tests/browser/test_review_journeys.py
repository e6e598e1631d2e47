"""The evaluator's, staff's and finance's side of a call, through the pages only, in Chinese.

Staff confirm the open call's submitted proposal, start the review before the deadline
(the confirmation says so) and add a second subject; each demo evaluator declares no
conflict as a deliberate choice, reads the proposal with Chinese labels and a real budget
table, scores, sees the submitted total, goes on to the next assignment and prints or
downloads the score sheet (one of them on a 390×844 phone, without horizontal scrolling);
staff close the round, collect the results and decide with the category budgets in view;
finance approve the demo's waiting tranche with a confirmation that names the payee, pay it,
and a second submission of the same payment form pays nothing more. Every page is checked
with axe-core; screenshots go to ``test-artifacts/browser/review/``.
"""

from __future__ import annotations

import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import PROJECT_ROOT
from tests.browser.steps import login, logout, shot
from tests.live_server import live_server

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-artifacts" / "browser" / "review"
PROPOSAL = "青少年社区议事会"
EXTRA = "社区议事厅试点"
EVALUATORS = [
    ("evaluator@yulin.demo", "张明"),
    ("evaluator2@yulin.demo", "赵丽"),
    ("evaluator3@yulin.demo", "孙海峰"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo centre of its own: these journeys move the open call and the waiting tranche."""
    with live_server(tmp_path_factory.mktemp("review"), demo=True) as running:
        yield running.base


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def check(page: Any, shots: Path, name: str) -> None:
    """Screenshot the step and run axe-core: no serious or critical violation."""
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    shot(page, shots, name)
    results = Axe().run(page)
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"


def no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert width[0] <= width[1], f"page scrolls sideways: {width}"


def declare_no_conflict(page: Any) -> None:
    page.locator("#no-conflict").check()
    page.locator("#declaration button[type=submit]").click()
    page.wait_for_load_state()


def score_and_submit(page: Any, shots: Path, name: str, share: float, *, declare: bool = True) -> float:
    if declare:
        declare_no_conflict(page)
    inputs = page.locator("#sheet-form .score-input")
    total = 0.0
    for k in range(inputs.count()):
        score = round(float(inputs.nth(k).get_attribute("max") or "0") * share * 2) / 2
        inputs.nth(k).fill(f"{score:g}")
        total += score
    page.fill("#comment", "需求清楚，执行计划可行")
    assert float(page.locator("#running-total").inner_text()) == total
    check(page, shots, f"{name}-scoring")
    page.locator("#sheet-form button[value=submit]").click()
    page.wait_for_load_state()
    banner = page.locator("#submitted-total").inner_text()
    assert f"{total:.2f}" in banner, banner
    assert page.locator("#running-total").inner_text() == f"{total:.2f}"
    check(page, shots, f"{name}-submitted")
    return total


def test_review_decide_and_pay(page: Any, browser: Any, server: str, shots: Path, dialogs: list[str]) -> None:
    # --- staff: eligibility, start the review before the deadline, a second subject --------
    login(page, "staff@yulin.demo")
    page.goto("/programmes")
    page.get_by_role("link", name=re.compile(r"\d{4}年玉林街道社区公益创投大赛")).click()
    page.wait_for_url(re.compile(r".*/programmes/\d+$"))
    programme_url = page.url
    page.locator("#programme-applications").get_by_role("link", name=PROPOSAL).click()
    page.click("#confirm-eligibility")
    page.wait_for_url(re.compile(r".*msg=done"))
    page.goto(programme_url)
    page.locator("form[data-action='start-review'] button").click()
    page.wait_for_load_state()
    assert "提前截止" in dialogs[-1]  # the call is still open: the confirmation says so
    page.get_by_role("link", name="打开评审轮次").click()
    page.wait_for_url(re.compile(r".*/evaluations/rounds/\d+$"))
    round_url = page.url
    page.fill("#title", EXTRA)
    page.fill("#subject_id", "9001")
    page.fill("#summary", "在社区议事厅试行青少年议事日")
    page.locator("form[action$='/subjects'] button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/evaluations/rounds/\d+$"))
    for subject in (PROPOSAL, EXTRA):
        for _email, name in EVALUATORS:
            page.select_option("#assign-subject", label=subject)
            page.select_option("#assign-evaluator", label=name)
            page.locator("form[action$='/assignments'] button[type=submit]").click()
            page.wait_for_load_state()
    check(page, shots, "01-staff-round-assigned")

    # --- the first evaluator, on a desktop ----------------------------------------------------
    logout(page)
    login(page, EVALUATORS[0][0])
    page.goto("/evaluations")
    page.get_by_role("link", name=PROPOSAL).first.click()
    page.wait_for_url(re.compile(r".*/evaluations/assignments/\d+$"))
    proposal = page.locator("#proposal").inner_text()
    for label in ("需求分析", "项目目标", "申请金额（元）", "预算科目", "单价（元）"):
        assert label in proposal, label
    for raw in ("uscc", "needs", "budget", "requested_amount"):
        assert raw not in proposal
    assert page.locator("#proposal-budget tbody tr").count() >= 2
    assert not page.locator("#no-conflict").is_checked()
    assert not page.locator("#has-conflict").is_checked()
    check(page, shots, "02-evaluator-proposal-and-declaration")
    score_and_submit(page, shots, "03-evaluator1-first", 0.86)
    response = page.request.get(page.locator("#sheet-pdf").get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf"
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages).replace(" ", "")
    assert "专家签字" in text
    assert "需求清楚" in text
    page.emulate_media(media="print")
    assert page.locator("#sheet-form").is_visible()
    assert page.locator("#running-total").is_visible()
    assert page.locator(".signature").is_visible()
    shot(page, shots, "04-evaluator1-print-preview")
    page.emulate_media(media="screen")
    page.click("#next-assignment")
    page.wait_for_url(re.compile(r".*/evaluations/assignments/\d+$"))
    assert page.locator("h1").inner_text() == EXTRA
    assert "摘要" in page.locator("#proposal").inner_text()
    score_and_submit(page, shots, "05-evaluator1-next", 0.8)

    # --- the other two evaluators, on a phone ---------------------------------------------
    phone = browser.new_context(base_url=server, locale="zh-CN", viewport={"width": 390, "height": 844})
    mobile = phone.new_page()
    mobile.on("dialog", lambda dialog: dialog.accept())
    try:
        for n, (email, _name) in enumerate(EVALUATORS[1:], start=2):
            mobile.context.clear_cookies()
            login(mobile, email)
            for subject in (PROPOSAL, EXTRA):
                mobile.goto("/evaluations")
                mobile.get_by_role("link", name=subject).first.click()
                mobile.wait_for_url(re.compile(r".*/evaluations/assignments/\d+$"))
                no_horizontal_scroll(mobile)
                declare_no_conflict(mobile)
                no_horizontal_scroll(mobile)
                first = mobile.locator("#sheet-form .score-input").first
                assert first.bounding_box()["width"] > 150  # not collapsed
                tag = "a" if subject == PROPOSAL else "b"
                total = score_and_submit(mobile, shots, f"06-evaluator{n}-phone-{tag}", 0.84, declare=False)
                assert total > 0
                no_horizontal_scroll(mobile)
    finally:
        phone.close()

    # --- staff: close, collect, decide with the category budgets ----------------------------
    logout(page)
    login(page, "staff@yulin.demo")
    page.goto(round_url)
    page.click("#close-round")
    page.wait_for_load_state()
    assert page.locator("#round-state").inner_text() == "已结束"
    page.goto(programme_url)
    page.locator("form[data-action='collect-results'] button").click()
    page.wait_for_load_state()
    assert "排名" in dialogs[-1]
    page.click("#decide-link")
    page.wait_for_url(re.compile(r".*/decide$"))
    budgets = page.locator("#category-budgets").inner_text()
    assert "剩余预算（元）" in budgets
    row = page.locator("#decide-form tr[data-application]", has_text=PROPOSAL)
    assert "青少年" in row.inner_text()
    row.locator("select").select_option("yes")
    check(page, shots, "07-staff-decide")
    page.locator("#decide-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/programmes/\d+.*"))
    assert "类别预算" in dialogs[-1]
    assert page.locator("#programme-state").inner_text() == "已决定"

    # --- finance: payee and account, approve, pay, the same form again pays nothing ---------
    logout(page)
    login(page, "finance@yulin.demo")
    page.goto("/finance")
    pending = page.locator("#pending tr[data-disbursement]").first
    payee = pending.locator(".payee").inner_text()
    assert payee
    assert "成都银行玉林支行" in pending.locator(".bank-account").inner_text()
    assert re.search(r"第 1/\d 期", pending.inner_text())
    assert "项目 #" not in page.locator("main").inner_text()
    check(page, shots, "08-finance-queue")
    disbursement = pending.get_attribute("data-disbursement")
    pending.get_by_role("button", name="批准").click()
    page.wait_for_load_state()
    assert payee in dialogs[-1]
    approved = page.locator(f"#approved tr[data-disbursement='{disbursement}']")
    approved.locator("[name=voucher_no]").fill("记-2026-0901")
    form = approved.locator("form")
    fields = {
        name: form.locator(f"[name={name}]").input_value()
        for name in ("csrf_token", "idempotency_key", "voucher_no", "paid_on", "amount")
    }
    check(page, shots, "09-finance-approved")
    approved.get_by_role("button", name="登记付款").click()
    page.wait_for_url(re.compile(r".*msg=paid"))
    assert payee in dialogs[-1]
    again = page.request.post(f"/finance/disbursements/{disbursement}/pay", form=fields)
    assert "msg=already" in again.url
    page.goto("/finance")
    assert page.locator("#paid").inner_text().count("记-2026-0901") == 1
    check(page, shots, "10-finance-paid-once")
