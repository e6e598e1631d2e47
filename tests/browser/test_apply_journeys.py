"""The applicant's and the public's side through the pages only, in Chinese, against the demo
centre: the proposal form (login that returns to it, rows added and removed, a draft that
survives an expired session, checks before submitting shown on their fields and rows,
attachments uploaded, previewed and removed, the printable and PDF 申报书, submission); the
same form and the record on a phone; the public 公示 page with an objection, its reference
and the public lookup. Every page visited is checked with axe-core (no serious or critical
violation); screenshots go to ``test-artifacts/browser/apply/``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from core.settings import PROJECT_ROOT
from tests.browser.steps import login, logout, shot

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-artifacts" / "browser" / "apply"
PHONE = {"width": 390, "height": 844}
PROGRAMME = re.compile(r"\d{4}年玉林街道社区公益创投大赛")
ORGANISATION = "玉林社区邻里互助会"
TITLE = "“银龄课堂”社区长者数字生活互助"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A 1×1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082"
)


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
def axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]

    return Axe()


def check(page: Any, axe: Any, shots: Path, name: str, *, phone: bool = False) -> None:
    """Screenshot, no serious or critical axe violation, and on a phone no sideways scrolling."""
    page.wait_for_load_state()
    shot(page, shots, name)
    results = axe.run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert not bad, f"{name}: {bad}"
    if phone:
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{name}: scrolls sideways {width}"


def _run(coroutine: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _seed_publicity(database_url: str) -> str:
    """An approved project of the demo centre in publicity today (what staff's decision and the
    publicity start do; the steps before it are another journey's)."""
    from decimal import Decimal

    from sqlalchemy import select

    import api.models  # noqa: F401  (every table)
    from core.db import create_engine, session_factory
    from grants.applications.models import Application, ApplicationState
    from grants.programmes.models import Programme
    from incubator.models import Organisation

    engine = create_engine(database_url)
    title = "乐龄合唱团进社区公益演出"
    try:
        async with session_factory(engine)() as session:
            org = (
                await session.execute(select(Organisation).where(Organisation.name == "武侯区乐龄文体协会"))
            ).scalar_one()
            programme = (
                (
                    await session.execute(
                        select(Programme).where(Programme.year == 2025).order_by(Programme.id)
                    )
                )
                .scalars()
                .first()
            )
            assert programme is not None
            today = dt.date.today()
            session.add(
                Application(
                    centre_id=org.centre_id,
                    programme_id=programme.id,
                    organisation_id=org.id,
                    state=ApplicationState.approved,
                    title=title,
                    requested_amount=Decimal("18000.00"),
                    total_budget=Decimal("20000.00"),
                    cofunding_amount=Decimal("2000.00"),
                    approved_amount=Decimal("18000.00"),
                    publicity_starts_on=today - dt.timedelta(days=1),
                    publicity_ends_on=today + dt.timedelta(days=6),
                    activities=[],
                )
            )
            await session.commit()
            return programme.name
    finally:
        await engine.dispose()


@pytest.fixture
def phone_page(browser: Any, server: str, dialogs: list[str]) -> Iterator[Any]:
    context = browser.new_context(base_url=server, locale="zh-CN", viewport=PHONE, is_mobile=True)
    tab = context.new_page()

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    tab.on("dialog", accept)
    try:
        yield tab
    finally:
        context.close()


def _apply_url(page: Any) -> str:
    page.goto("/programmes")
    page.get_by_role("link", name=PROGRAMME).first.click()
    page.wait_for_url(re.compile(r".*/programmes/\d+$"))
    link = page.get_by_role("link", name=re.compile(ORGANISATION))
    href = link.get_attribute("href")
    assert href is not None
    return str(href)


def _fill_row(page: Any, n: int, category: str, item: str, price: str, qty: str, funded: str) -> None:
    row = page.locator("#budget-table tr.budget-row").nth(n)
    row.locator("select[name$='-category']").select_option(category)
    row.locator("input[name$='-item']").fill(item)
    row.locator("input[name$='-unit_price']").fill(price)
    row.locator("input[name$='-quantity']").fill(qty)
    row.locator("select[name$='-funded_by']").select_option(funded)


def test_applicant_files_a_proposal(
    page: Any, axe: Any, shots: Path, dialogs: list[str], tmp_path: Path
) -> None:
    login(page, "applicant@yulin.demo")
    url = _apply_url(page)
    logout(page)

    # The form asks for a login and comes back to itself, parameters included.
    page.goto(url)
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    check(page, axe, shots, "01-login-returns-to-form")
    page.fill("#email", "applicant@yulin.demo")
    page.fill("#password", __import__("demo.loader", fromlist=["DEMO_PASSWORD"]).DEMO_PASSWORD)
    page.click("#login")
    page.wait_for_url(re.compile(r".*/applications/new\?programme_id=\d+&organisation_id=\d+$"))
    form = page.locator("#application-form")
    labelled = page.evaluate(
        """() => [...document.querySelectorAll(
                 '#application-form input:not([type=hidden]), #application-form select, '
                 + '#application-form textarea')]
              .filter(el => !(el.labels && el.labels.length)).map(el => el.name)"""
    )
    assert labelled == [], f"inputs without a label: {labelled}"
    check(page, axe, shots, "02-empty-form")

    # Enter in a one-line field does not send the long form.
    form.locator("[name=title]").fill(TITLE)
    form.locator("[name=title]").press("Enter")
    page.wait_for_timeout(300)
    assert "/applications/new?" in page.url

    form.locator("[name=beneficiary_count]").fill("60")
    form.locator("[name=beneficiaries]").fill("玉林北路社区60岁以上不会使用智能手机的长者")
    form.locator("[name=needs]").fill("长者看病挂号、缴费、出行扫码困难")
    form.locator("[name='act-0-name']").fill("智能手机课堂")
    form.locator("[name='act-0-starts_on']").fill("2026-06-01")
    form.locator("[name='act-0-ends_on']").fill("2026-11-30")
    _fill_row(page, 0, "personnel", "志愿讲师补贴", "200", "40", "grant")
    page.click("#add-line")
    _fill_row(page, 1, "materials", "讲义印刷（多余的一行）", "5", "60", "grant")
    page.click("#add-line")
    _fill_row(page, 2, "venue", "活动室（自筹）", "300", "12", "cofunding")
    assert page.locator("#total-grant").inner_text() == "8,300.00"
    # a row can be removed; the totals follow
    page.locator("#budget-table tr.budget-row").nth(1).locator(".remove-row").click()
    assert page.locator("#budget-table tr.budget-row").count() == 2
    assert page.locator("#total-grant").inner_text() == "8,000.00"
    assert page.locator("#total-cofunding").inner_text() == "3,600.00"
    # the personnel line is the whole grant: the page says so before any save
    assert "人员费用超过" in page.locator("#budget-live").inner_text()
    form.locator("[name='ind-0-name']").fill("培训人次")
    form.locator("[name='ind-0-target']").fill("240")
    form.locator("[name='ind-0-unit']").fill("人次")
    check(page, axe, shots, "03-form-typed")

    # The session expires; saving leads to the login and back, and nothing typed is lost.
    page.wait_for_timeout(600)  # the draft is kept in the browser as one types
    logout(page)
    page.click("#save-draft")
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    page.fill("#email", "applicant@yulin.demo")
    page.fill("#password", __import__("demo.loader", fromlist=["DEMO_PASSWORD"]).DEMO_PASSWORD)
    page.click("#login")
    page.wait_for_url(re.compile(r".*/applications/new\?.*"))
    assert page.locator("#draft-restored").is_visible()
    assert form.locator("[name=title]").input_value() == TITLE
    assert page.locator("#budget-table tr.budget-row").count() == 2
    assert page.locator("#total-grant").inner_text() == "8,000.00"
    check(page, axe, shots, "04-draft-restored-after-login")

    # Check and submit: what is missing and what fails shows under its field and on its row.
    page.click("#submit-application")
    page.wait_for_load_state()
    assert any("提交" in d for d in dialogs)
    assert page.locator("#form-error").is_visible()
    assert "项目目标" in page.locator("label[for=f-objectives]").inner_text()
    assert page.locator("#f-objectives-error").inner_text() == "请填写项目目标"
    assert "人员" in page.locator("#budget_lines-0-error").inner_text()
    check(page, axe, shots, "05-checks-before-submitting")

    # Fix them: objectives, and a grant-funded activity line that brings personnel under 30%.
    page.locator("[name=objectives]").fill("每周两次课堂，一年内240人次长者学会常用应用")
    page.click("#add-line")
    _fill_row(page, 2, "activities", "课堂组织与交通", "1000", "20", "grant")
    page.click("#save-draft")
    page.wait_for_url(re.compile(r".*/applications/\d+\?msg=saved"))
    application_id = int(re.search(r"/applications/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    assert page.locator("#requested").inner_text() == "28,000.00"
    check(page, axe, shots, "06-draft-saved-full-proposal")

    # Attachments: a wrong file is refused, a PDF and a photo are added, previewed, one removed.
    page.click("#edit")
    fake = tmp_path / "伪装.pdf"
    fake.write_bytes(b"<html>not a pdf</html>")
    page.set_input_files("#f-file", str(fake))
    page.click("#upload-attachment")
    page.wait_for_load_state()
    assert "PDF" in page.locator("#attach-error").inner_text()
    for name, content, label in (("登记证书.pdf", PDF, "登记证书"), ("课堂照片.png", PNG, "去年课堂照片")):
        path = tmp_path / name
        path.write_bytes(content)
        page.set_input_files("#f-file", str(path))
        page.fill("#f-label", label)
        page.click("#upload-attachment")
        page.wait_for_url(re.compile(r".*msg=attached.*"))
    items = page.locator("#attachment-list li")
    assert items.count() == 2
    assert page.locator("#attachment-list img.thumb").count() == 1
    preview = page.locator("#attachment-list .preview-link").first
    href = preview.get_attribute("href")
    response = page.request.get(str(href))
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    check(page, axe, shots, "07-attachments")
    page.locator("#attachment-list li").nth(1).locator(".remove-attachment").click()
    page.wait_for_url(re.compile(r".*msg=detached.*"))
    assert "移除附件" in dialogs[-1]
    assert page.locator("#attachment-list li").count() == 1

    # The printable 申报书 and its PDF.
    page.goto(f"/applications/{application_id}")
    for section in (
        "#beneficiaries",
        "#needs",
        "#objectives",
        "#activities",
        "#budget",
        "#indicators",
        "#attachments",
    ):
        assert page.locator(section).count() == 1, section
    timeline = page.locator("#application-timeline").inner_text()
    assert "王建国" in timeline
    assert "@" not in timeline
    page.emulate_media(media="print")
    shot(page, shots, "08-print")
    assert not page.locator("#application-actions").is_visible()
    page.emulate_media(media="screen")
    with page.expect_download() as download_info:
        page.click("#download-pdf")
    pdf_path = tmp_path / "proposal.pdf"
    download_info.value.save_as(str(pdf_path))
    assert pdf_path.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "银龄课堂" in text
        assert "需求分析" in text
        assert "登记证书" in text
    if shutil.which("pdftoppm"):
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(pdf_path), str(shots / "09-pdf")],
            check=True,
        )

    # Submit from the form: it checks, asks, and submits.
    page.click("#edit")
    page.click("#submit-application")
    page.wait_for_url(re.compile(r".*msg=submitted"))
    assert "检查并提交" in dialogs[-1]
    assert page.locator("#application-state").inner_text() == "已提交"
    check(page, axe, shots, "10-submitted")

    # Withdrawing asks for a reason and says what happens (and leaves the call to the others).
    page.fill("#withdraw-reason", "合作场地未落实，本期暂不申报")
    page.locator("#withdraw-form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*msg=done"))
    assert "撤回" in dialogs[-1]
    assert page.locator("#application-state").inner_text() == "已撤回"


def test_on_a_phone(phone_page: Any, axe: Any, shots: Path) -> None:
    page = phone_page
    login(page, "applicant@yulin.demo")
    url = _apply_url(page)
    page.goto(url)
    check(page, axe, shots, "20-phone-form", phone=True)
    # every field of a budget row keeps a usable width (stacked cards, not squeezed columns)
    widths = page.evaluate(
        "[...document.querySelectorAll("
        "'#budget-table tr.budget-row input, #budget-table tr.budget-row select')]"
        ".map(el => el.getBoundingClientRect().width)"
    )
    assert widths
    assert min(widths) > 200, widths
    page.fill("[name=title]", "手机上填写的申报")
    page.click("#add-line")
    _fill_row(page, 1, "activities", "活动物料", "120", "5", "grant")
    assert page.locator("#budget-table tr.budget-row").nth(1).locator("label", has_text="单价").is_visible()
    check(page, axe, shots, "21-phone-form-typed", phone=True)
    page.goto("/applications")
    page.locator("#applications a").first.click()
    page.wait_for_load_state()
    check(page, axe, shots, "22-phone-application", phone=True)


def test_public_publicity_objection_and_lookup(
    page: Any, phone_page: Any, axe: Any, shots: Path, dialogs: list[str], server_database_url: str
) -> None:
    programme = _run(_seed_publicity(server_database_url))
    page.goto("/public/publicity")
    notice = page.locator("section.notice").filter(has_text="乐龄合唱团进社区公益演出")
    assert programme in notice.locator("h2").inner_text()
    assert "玉林" in notice.locator(".publisher").inner_text()
    assert "028" in notice.locator(".contact").inner_text()
    assert "异议如何处理" in page.locator("#objection-process").inner_text()
    check(page, axe, shots, "30-publicity")

    form = page.locator("#objection-form")
    options = form.locator("select[name=application_id] option").count()
    project = form.locator("select[name=application_id] option", has_text="乐龄合唱团").get_attribute("value")
    assert project
    form.locator("select[name=application_id]").select_option(project)
    form.locator("[name=content]").fill("太短")
    page.click("#submit-objection")
    page.wait_for_load_state()
    assert page.locator("#f-content-error").is_visible()
    assert form.locator("select[name=application_id] option").count() == options  # the list stays
    check(page, axe, shots, "31-objection-error")
    form.locator("select[name=application_id]").select_option(project)
    form.locator("[name=content]").fill("演出场地与去年项目重复，请核实预算")
    page.click("#submit-objection")
    page.wait_for_url(re.compile(r".*/public/objections\?reference=YY-.*"))
    assert "异议" in dialogs[-1]
    reference = re.search(r"YY-[A-Z2-9]{5}-[A-Z2-9]{5}", page.locator("#objection-lodged").inner_text())
    assert reference is not None
    check(page, axe, shots, "32-objection-reference")

    # Anyone with the reference looks it up, typed loosely.
    page.goto("/public/objections")
    page.fill("#f-reference", reference.group(0).lower().replace("-", " "))
    page.click("#lookup")
    page.wait_for_load_state()
    assert "乐龄合唱团进社区公益演出" in page.locator("#objection-status").inner_text()
    assert page.locator("#objection-state").inner_text() == "正在核查"
    assert "演出场地" not in page.content()  # the objection's text is not public
    check(page, axe, shots, "33-objection-lookup")

    phone_page.goto("/public/publicity")
    check(phone_page, axe, shots, "34-phone-publicity", phone=True)
    phone_page.goto(f"/public/objections?reference={reference.group(0)}")
    check(phone_page, axe, shots, "35-phone-lookup", phone=True)
