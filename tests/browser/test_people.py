"""People journeys through the pages only, in headless Chromium, in Chinese.

An administrator creates a user, changes roles (a refused combination is shown with its
reason), resets a password that is then used to log in, and unlocks a locked-out account;
staff register an organisation and invite its owner, who accepts through the link and lands
on their dashboard; 忘记密码 with and without email; staff's and finance's dashboards open
on their to-do lists. Every page visited is checked with axe-core (no serious or critical
violation); screenshots go to ``test-artifacts/browser/people/``, also at 390×844 for the
login page and the dashboard (no horizontal scroll).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller

from core.settings import PROJECT_ROOT
from tests.browser.steps import login, shot
from tests.identity.test_accounts import Inbox, _free_port
from tests.live_server import live_server

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-artifacts" / "browser" / "people"
PHONE = {"width": 390, "height": 844}
LINK = re.compile(r"https?://[^\s\"<]+/(password-reset|invitations)/[A-Za-z0-9_-]{20,}")


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def check(page: Any, shots: Path, name: str) -> None:
    """Screenshot, then axe-core: no serious or critical violation on this page."""
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
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at 390 wide"


def path_of(link: str) -> str:
    """The link's path: the servers here run on a free port, not on the configured base URL."""
    return urlparse(link).path


def fresh(browser: Any, base: str, **options: Any) -> Any:
    context = browser.new_context(base_url=base, locale="zh-CN", **options)
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())
    return tab


def log_in_with(page: Any, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login")


def test_admin_manages_a_user(page: Any, browser: Any, server: str, shots: Path) -> None:
    login(page, "admin@yulin.demo")
    check(page, shots, "01-admin-dashboard")
    page.get_by_role("link", name="用户管理", exact=True).first.click()
    page.wait_for_url(re.compile(r".*/users$"))
    check(page, shots, "02-users-list")

    page.click("#new-user")
    page.fill("#f-email", "chen.jing@yulin.demo")
    page.fill("#f-full_name", "林可欣")
    page.locator("#f-centre_id").select_option(index=1)
    page.check("input[name=roles][value=finance]")
    page.click("#create-user")
    link_box = page.locator("#reset-link")
    assert link_box.is_visible()
    first_link = path_of(link_box.input_value())
    assert "只显示这一次" in page.locator("#one-time-link").inner_text()
    check(page, shots, "03-user-created-link-shown-once")
    user_url = page.locator("#roles-form").get_attribute("action").removesuffix("/roles")

    # a refused combination, with the reason the API gives
    page.check("input[name=roles][value=admin]")
    with page.expect_navigation():
        page.locator("#roles-form button[type=submit]").click()
    error = page.locator("[data-field=roles]")
    assert "系统管理员不能同时是财务人员或孵化中心工作人员" in error.inner_text()
    check(page, shots, "04-roles-refused-with-reason")
    page.uncheck("input[name=roles][value=admin]")
    page.check("input[name=roles][value=evaluator]")
    page.locator("#roles-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*msg=roles"))
    assert "评审专家" in page.locator("#user-roles").inner_text()
    assert "财务人员" in page.locator("#user-roles").inner_text()

    # reset: a new one-time link; the first no longer works
    with page.expect_navigation():
        page.get_by_role("button", name="生成重置密码链接").click()
    reset_link = path_of(page.locator("#reset-link").input_value())
    assert reset_link != first_link
    check(page, shots, "05-reset-link")
    person = fresh(browser, server)
    person.goto(first_link)
    assert "此链接已使用" in person.content()
    person.goto(reset_link)
    check(person, shots, "06-choose-new-password")
    person.fill("#f-password", "chenjing-2026-new")
    person.fill("#f-confirm", "chenjing-2026-new")
    person.click("#set-password")
    person.wait_for_url(re.compile(r".*/login\?msg=password"))
    check(person, shots, "07-login-after-reset")
    log_in_with(person, "chen.jing@yulin.demo", "chenjing-2026-new")
    person.wait_for_url(re.compile(r".*/dashboard"))
    assert person.locator(".role-card[data-role='finance']").count() == 1

    # five wrong passwords lock the account; the administrator sees it and unlocks it
    person.context.clear_cookies()
    for _attempt in range(6):
        log_in_with(person, "chen.jing@yulin.demo", "not-the-password")
    assert "登录失败次数过多" in person.locator(".error").inner_text()
    page.goto("/users")
    locked = page.locator("tr[data-locked='chen.jing@yulin.demo']")
    assert locked.count() == 1
    check(page, shots, "08-users-locked-out")
    locked.get_by_role("button", name="解锁").click()
    page.wait_for_url(re.compile(r".*msg=unlocked"))
    assert "账号已解锁" in page.content()
    check(page, shots, "09-unlocked")
    log_in_with(person, "chen.jing@yulin.demo", "chenjing-2026-new")
    person.wait_for_url(re.compile(r".*/dashboard"))
    page.goto(user_url)
    history = page.locator("#history").inner_text()
    assert "解锁了账号" in history
    assert "生成了重置密码链接" in history
    person.context.close()


def test_staff_invite_an_organisation_owner(page: Any, browser: Any, server: str, shots: Path) -> None:
    login(page, "staff@yulin.demo")
    page.goto("/organisations/new")
    page.fill("#f-name", "玉林二巷邻里守望队")
    page.locator("#f-kind").select_option("community_group")
    page.locator("#f-legal_status").select_option("unregistered")
    page.locator("form button[type=submit].primary").first.click()
    page.wait_for_url(re.compile(r".*/organisations/\d+.*"))
    organisation_url = page.url.split("?")[0]
    page.fill("#f-owner_email", "shouwang@yulin.demo")
    page.get_by_role("button", name="邀请负责人").click()
    invitation = path_of(page.locator("#owner-link").input_value())
    assert "/invitations/" in invitation
    check(page, shots, "10-owner-invitation-shown-once")
    page.goto(organisation_url)
    assert page.locator("#owner-link").count() == 0

    invitee = fresh(browser, server)
    invitee.goto(invitation)
    assert "成为「玉林二巷邻里守望队」的负责人" in invitee.content()
    check(invitee, shots, "11-invitee-accepts")
    invitee.fill("#f-full_name", "王守望")
    invitee.fill("#f-password", "shouwang-2026")
    invitee.click("#accept-invitation")
    invitee.wait_for_url(re.compile(r".*/dashboard$"))
    assert "玉林二巷邻里守望队" in invitee.content()
    check(invitee, shots, "12-owner-dashboard")
    invitee.context.close()

    page.goto(organisation_url)
    assert "王守望" in page.locator("#members").inner_text()
    assert page.get_by_role("button", name="邀请负责人").is_disabled()


def test_forgot_password_without_email(page: Any, shots: Path) -> None:
    page.goto("/login")
    page.get_by_role("link", name="忘记密码？").click()
    page.wait_for_url(re.compile(r".*/password-reset$"))
    assert "请向中心的系统管理员求助" in page.locator("#ask-admin").inner_text()
    check(page, shots, "13-forgot-password-ask-admin")


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Inbox]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    root = tmp_path_factory.mktemp("people-mail")
    try:
        with live_server(root, demo=True, smtp_host="127.0.0.1", smtp_port=str(port)) as running:
            yield running.base, inbox
    finally:
        controller.stop()


def test_forgot_password_by_email(browser: Any, mail_server: tuple[str, Inbox], shots: Path) -> None:
    base, inbox = mail_server
    tab = fresh(browser, base)
    tab.goto("/login")
    tab.get_by_role("link", name="忘记密码？").click()
    check(tab, shots, "14-forgot-password-email-form")
    tab.fill("#email", "nobody@yulin.demo")
    tab.click("#send-reset")
    unknown = tab.locator("#reset-sent").inner_text()
    tab.goto("/password-reset")
    tab.fill("#email", "evaluator3@yulin.demo")
    with tab.expect_navigation():
        tab.click("#send-reset")
    assert tab.locator("#reset-sent").inner_text() == unknown  # nothing says whether it exists
    check(tab, shots, "15-forgot-password-sent")
    for _wait in range(50):
        if inbox.messages:
            break
        tab.wait_for_timeout(100)
    assert len(inbox.messages) == 1
    message = message_from_bytes(inbox.messages[0].content, policy=policy.default)
    assert message["To"] == "evaluator3@yulin.demo"
    found = LINK.search(message.get_content())
    assert found is not None
    tab.goto(path_of(found.group(0)))
    tab.fill("#f-password", "evaluator3-new-pass")
    tab.fill("#f-confirm", "evaluator3-new-pass")
    tab.click("#set-password")
    tab.wait_for_url(re.compile(r".*/login\?msg=password"))
    tab.goto(path_of(found.group(0)))
    assert "此链接已使用" in tab.content()
    log_in_with(tab, "evaluator3@yulin.demo", "evaluator3-new-pass")
    tab.wait_for_url(re.compile(r".*/dashboard"))
    tab.context.close()


def test_staff_and_finance_dashboards_open_on_their_to_do(
    page: Any, browser: Any, server: str, shots: Path
) -> None:
    login(page, "staff@yulin.demo")
    page.goto("/dashboard")
    first_panel = page.locator("main section.card").first
    assert first_panel.get_attribute("data-panel") == "todo"
    kinds = page.locator("#todo li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert {"review_progress_report", "review_expense_claim"} <= set(kinds)
    check(page, shots, "16-staff-dashboard-todo")
    page.locator("#todo li[data-kind=review_progress_report] a").first.click()
    page.wait_for_url(re.compile(r".*/awards/\d+.*"))

    finance = fresh(browser, server)
    login(finance, "finance@yulin.demo")
    finance.goto("/dashboard")
    assert finance.locator("main section.card").first.get_attribute("data-panel") == "todo"
    kinds = finance.locator("#todo li").evaluate_all("items => items.map(i => i.dataset.kind)")
    assert "approve_disbursement" in kinds
    check(finance, shots, "17-finance-dashboard-todo")
    finance.locator("#todo li[data-kind=approve_disbursement] a").first.click()
    finance.wait_for_url(re.compile(r".*/finance#pending"))
    finance.context.close()


def test_district_view(page: Any, shots: Path) -> None:
    login(page, "district@wuhou.demo")
    page.goto("/dashboard")
    assert page.locator(".topbar .roles").inner_text() == "区级查阅（只读）"
    assert page.locator("#district-centres article").count() >= 1
    check(page, shots, "18-district-dashboard")


def test_phone_width_login_and_dashboard(browser: Any, server: str, shots: Path) -> None:
    phone = fresh(browser, server, viewport=PHONE)
    phone.goto("/login")
    no_horizontal_scroll(phone)
    check(phone, shots, "19-phone-login")
    for email, name in (
        ("staff@yulin.demo", "staff"),
        ("finance@yulin.demo", "finance"),
        ("admin@yulin.demo", "admin"),
    ):
        phone.context.clear_cookies()
        login(phone, email)
        phone.goto("/dashboard")
        no_horizontal_scroll(phone)
        check(phone, shots, f"20-phone-dashboard-{name}")
    phone.goto("/users")
    no_horizontal_scroll(phone)
    check(phone, shots, "21-phone-users")
    phone.context.close()
