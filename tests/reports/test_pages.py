"""The report pages in Chinese: archive, schedules (with inline cron errors), notifications, bell."""

from __future__ import annotations

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
