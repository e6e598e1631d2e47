"""The account grants are paid to, through the pages only, in Chinese: the owner of an
organisation with a payment waiting changes its bank account on the profile form on a
phone (390×844, no sideways scrolling), and the finance officer then reads, beside that
payment, that the account was changed after the organisation was verified, by whom.
Every page is checked with axe-core; screenshots go to ``test-artifacts/browser/bank/``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest

from core.settings import PROJECT_ROOT
from tests.browser.steps import login
from tests.browser.test_people import PHONE, check, fresh, no_horizontal_scroll
from tests.live_server import live_server

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-artifacts" / "browser" / "bank"
# The demo's organisation owners by the name their profile shows.
OWNERS = {"王建国": "applicant@yulin.demo", "张晓东": "fanghua@yulin.demo", "赵国庆": "leling@yulin.demo"}
NEW_ACCOUNT = "6217 0038 1000 2233"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A demo street of its own: this journey changes an account another journey may pay into."""
    with live_server(tmp_path_factory.mktemp("bank-browser"), demo=True) as running:
        yield running.base


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def test_owner_changes_the_account_on_a_phone_and_finance_is_told(
    browser: Any, server: str, shots: Path
) -> None:
    finance = fresh(browser, server, viewport={"width": 1280, "height": 900})
    login(finance, "finance@yulin.demo")
    finance.goto("/finance")
    row = finance.locator("#pending tr[data-disbursement]").first
    disbursement = row.get_attribute("data-disbursement")
    payee = row.locator(".payee").inner_text().strip()
    assert row.locator(".bank-changed").count() == 0
    assert NEW_ACCOUNT not in row.inner_text()

    staff = fresh(browser, server, viewport={"width": 1280, "height": 900})
    login(staff, "staff@yulin.demo")
    staff.goto(f"/organisations?q={quote(payee)}")
    staff.locator("#organisations a", has_text=payee).first.click()
    staff.wait_for_url(re.compile(r".*/organisations/\d+$"))
    profile = urlparse(staff.url).path
    members = staff.locator("#members").inner_text()
    owner = next(name for name in OWNERS if name in members)
    staff.context.close()

    phone = fresh(browser, server, viewport=PHONE)
    login(phone, OWNERS[owner])
    phone.goto(f"{profile}/edit")
    assert phone.locator("#bank-account legend").inner_text() == "收款账户（资助及合同款项）"
    no_horizontal_scroll(phone)
    check(phone, shots, "01-phone-owner-bank-account-form")
    phone.fill("#f-bank_account_no", "6217 0038")
    phone.fill("#f-bank_name", "")
    phone.click("#organisation-form button[type=submit]")
    assert phone.locator("#f-bank_name-error").inner_text() == "请同时填写开户银行、户名和账号"
    no_horizontal_scroll(phone)
    check(phone, shots, "02-phone-bank-account-incomplete")
    phone.fill("#f-bank_name", "成都农商银行玉林支行")
    phone.fill("#f-bank_account_no", NEW_ACCOUNT)
    phone.click("#organisation-form button[type=submit]")
    phone.wait_for_url(re.compile(r".*/organisations/\d+(\?.*)?$"))
    phone.context.close()

    finance.goto("/finance")
    row = finance.locator(f"#pending tr[data-disbursement='{disbursement}']")
    assert NEW_ACCOUNT in row.inner_text()
    assert "成都农商银行玉林支行" in row.inner_text()
    told = row.locator(".bank-changed").inner_text()
    assert told.startswith("该组织在通过审核后变更了收款账户")
    assert owner in told
    check(finance, shots, "03-finance-sees-the-changed-account")
    finance.set_viewport_size(PHONE)
    no_horizontal_scroll(finance)
    check(finance, shots, "04-phone-finance-sees-the-changed-account")
    finance.context.close()
