"""The report pages in Chinese: archive, schedules (with inline cron errors), notifications, bell."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core import notifications
from core.identity.models import Role
from reports.briefing import KIND_CODE
from tests.factories import make_centre, make_user
from tests.test_pages import csrf_of, page_login


async def test_staff_pages(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    await session.commit()
    assert (await page_login(client, staff.user.email)).status_code == 303

    archive = await client.get("/reports")
    assert archive.status_code == 200
    assert "报告归档" in archive.text
    assert "暂无报告" in archive.text
    assert 'href="/notifications"' in archive.text  # the bell

    generated = await client.post(
        "/reports/generate",
        data={"kind": KIND_CODE, "period": "2026-10", "csrf_token": csrf_of(archive.text)},
    )
    assert generated.status_code == 303
    listing = await client.get(generated.headers["location"])
    assert "报告已生成：中心月度简报 2026-10，第 1 版" in listing.text
    assert "/download" in listing.text

    schedules = await client.get("/report-schedules")
    assert "报告定时任务" in schedules.text
    bad = await client.post(
        "/report-schedules",
        data={"kind": KIND_CODE, "cron": "0 99 * * *", "csrf_token": csrf_of(schedules.text)},
    )
    assert bad.status_code == 422
    assert 'id="cron-error"' in bad.text
    assert "运行时间不是有效的 cron 表达式" in bad.text

    good = await client.post(
        "/report-schedules",
        data={
            "kind": KIND_CODE,
            "cron": "0 8 1 * *",
            "recipients": str(staff.user.id),
            "csrf_token": csrf_of(schedules.text),
        },
    )
    assert good.status_code == 303
    page = await client.get(good.headers["location"])
    assert "定时任务已保存" in page.text
    assert "0 8 1 * *" in page.text
    assert "暂停" in page.text


async def test_applicant_sees_no_report_pages_but_has_notifications(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    applicant = await make_user(session, await make_centre(session), Role.applicant)
    await notifications.remind(
        session, [applicant.user.id], "deadline", "申报截止提醒", "还剩 3 天", "/dashboard"
    )
    await session.commit()
    await page_login(client, applicant.user.email)
    assert (await client.get("/reports")).status_code == 403
    page = await client.get("/notifications")
    assert page.status_code == 200
    assert "申报截止提醒" in page.text
    assert "1 条未读" in page.text
    opened = await client.post(
        _read_action(page.text),
        data={"csrf_token": csrf_of(page.text)},
    )
    assert opened.status_code == 303
    assert opened.headers["location"] == "/dashboard"
    assert "1 条未读" not in (await client.get("/notifications")).text


def _read_action(html: str) -> str:
    import re

    match = re.search(r'action="(/notifications/\d+/read)"', html)
    assert match
    return match.group(1)


async def test_choosing_what_a_report_is_about(client: httpx.AsyncClient, session: AsyncSession) -> None:
    """孵化成长报告 names its organisation in the form instead of ending on a bare 422."""
    from sqlalchemy import select

    from demo.loader import load_demo
    from incubator.models import Organisation
    from reports.incubation import KIND_CODE as INCUBATION

    await load_demo(session)
    org = (
        await session.execute(select(Organisation).where(Organisation.name == "玉林社区邻里互助会"))
    ).scalar_one()
    org_id = org.id
    await session.commit()
    await page_login(client, "staff@yulin.demo", "seedbed-demo-2026")
    archive = await client.get("/reports")
    assert 'name="scope_organisation"' in archive.text
    assert 'name="scope_award"' in archive.text
    assert 'name="scope_contract"' in archive.text
    assert "玉林社区邻里互助会" in archive.text
    assert "玉林街道居家养老服务项目" in archive.text  # the demo contract
    assert "data-busy=" in archive.text  # the button is disabled while it runs
    token = csrf_of(archive.text)
    missing = await client.post("/reports/generate", data={"kind": INCUBATION, "csrf_token": token})
    assert missing.status_code == 422
    generated = await client.post(
        "/reports/generate",
        data={
            "kind": INCUBATION,
            "scope_organisation": str(org_id),
            "period": "2026-11",
            "csrf_token": token,
        },
    )
    assert generated.status_code == 303, generated.text
    listing = await client.get(generated.headers["location"])
    assert "孵化成长报告" in listing.text
    # the archive names what the report is about, not its number
    row = re.search(r"<td>孵化成长报告</td>\s*<td>(.*?)</td>", listing.text, re.S)
    assert row is not None, listing.text
    assert "玉林社区邻里互助会" in row.group(1)
    assert f"#{org_id}" not in row.group(1)


async def test_schedule_by_month_shows_the_next_three_runs(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    await session.commit()
    await page_login(client, staff.user.email)
    page = await client.get("/report-schedules")
    assert "每季度" in page.text
    assert "每周" in page.text
    form = {
        "kind": KIND_CODE,
        "frequency": "monthly",
        "day": "5",
        "time": "09:30",
        "csrf_token": csrf_of(page.text),
    }
    preview = await client.post("/report-schedules", data={**form, "action": "preview"})
    assert preview.status_code == 200
    assert "30 9 5 * *" in preview.text
    assert preview.text.count("-05 09:30") >= 3  # three fifths of the month at 09:30
    bad = await client.post("/report-schedules", data={**form, "day": "31"})
    assert bad.status_code == 422
    assert "1 至 28 日" in bad.text
    saved = await client.post("/report-schedules", data=form)
    assert saved.status_code == 303
    listed = await client.get(saved.headers["location"])
    assert "30 9 5 * *" in listed.text
    assert listed.text.count("-05 09:30") >= 3


async def test_report_style_page_and_api(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    await session.commit()
    await page_login(client, staff.user.email)
    page = await client.get("/report-style")
    assert page.status_code == 200
    assert "报告样式" in page.text
    token = csrf_of(page.text)
    refused = await client.post(
        "/report-style", data={"style": "official", "issuing_unit": "", "csrf_token": token}
    )
    assert refused.status_code == 422
    assert "正式文件须填写发文单位" in refused.text
    clash = await client.post(
        "/report-style",
        data={
            "style": "official",
            "issuing_unit": "玉林街道社会组织孵化中心",
            "doc_prefix": "玉林孵",
            "prefix_project_assessment": "玉林孵",
            "prefix_contract_performance": "玉林孵",
            "csrf_token": token,
        },
    )
    assert clash.status_code == 422
    assert "请为每类报告设置不同代字" in clash.text
    saved = await client.post(
        "/report-style",
        data={
            "style": "official",
            "issuing_unit": "玉林街道社会组织孵化中心",
            "doc_prefix": "玉林孵",
            "signatories": "中心主任\n评估组组长",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 303
    shown = await client.get(saved.headers["location"])
    assert "报告样式已保存" in shown.text
    assert "玉林孵评〔2026〕12号" in shown.text  # the example number of the assessment series
    read = await client.get("/api/v1/report-style", headers=staff.headers)
    assert read.status_code == 200
    assert read.json()["style"] == "official"
    assert read.json()["signatories"] == ["中心主任", "评估组组长"]
    bad = await client.put(
        "/api/v1/report-style", json={"style": "official", "issuing_unit": ""}, headers=staff.headers
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "issuing_unit"
