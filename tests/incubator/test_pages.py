"""Incubator pages: list with filters, profile with timeline and actions, applicant portal, signup."""

from __future__ import annotations

import datetime as dt
import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.identity.models import Role
from tests.factories import PASSWORD, Actor, make_centre, make_user
from tests.incubator.helpers import make_org, make_owner
from tests.test_pages import csrf_of, page_login


async def logged_in(client: httpx.AsyncClient, actor: Actor) -> str:
    await page_login(client, actor.user.email, PASSWORD)
    return csrf_of((await client.get("/dashboard")).text)


async def test_staff_list_filters_and_links(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    await make_org(session, staff, name="玉林长者之家", service_fields=["elderly"])
    await make_org(session, staff, name="芳华青少年服务中心", service_fields=["youth"])
    await logged_in(client, staff)
    page = await client.get("/organisations?service_field=youth")
    assert page.status_code == 200
    assert "芳华青少年服务中心" in page.text
    assert "玉林长者之家" not in page.text
    assert "export.xlsx?service_field=youth" in page.text
    assert "待审核" in page.text


async def test_staff_see_the_barred_list_with_reasons_and_end_dates(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    barred = await make_org(session, staff, name="失信服务社")
    expired = await make_org(session, staff, name="已解除互助会")
    await make_org(session, staff, name="正常运营协会")
    until = today() + dt.timedelta(days=30)
    barred.barred_until, barred.bar_reason = until, "合同终止：服务中断"
    expired.barred_until, expired.bar_reason = today() - dt.timedelta(days=1), "旧的限制"
    await session.flush()
    await logged_in(client, staff)
    page = await client.get("/organisations")
    assert page.status_code == 200
    section = page.text[page.text.index('id="bars"') :]
    assert "限制名单" in page.text
    assert "失信服务社" in section
    assert until.isoformat() in section
    assert "合同终止：服务中断" in section
    assert "已解除互助会" not in section
    assert "正常运营协会" not in section


async def test_create_form_shows_field_errors_inline(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    token = await logged_in(client, staff)
    response = await client.post(
        "/organisations/new",
        data={
            "csrf_token": token,
            "name": "测试组织",
            "kind": "social_group",
            "legal_status": "registered",
            "uscc": "91350100M000100Y4Z",
            "service_fields": ["elderly"],
        },
    )
    assert response.status_code == 422
    error = re.search(r'data-field="uscc">([^<]+)<', response.text)
    assert error is not None
    assert "不允许的字符" in error.group(1)
    assert 'value="测试组织"' in response.text  # what was typed is kept


async def test_profile_actions_and_timeline(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    org_id = (await make_org(session, staff, name="邻里互助会")).id
    token = await logged_in(client, staff)
    applied = await client.post(
        f"/organisations/{org_id}/stays", data={"csrf_token": token, "applied_on": "2026-01-05"}
    )
    assert applied.status_code == 303
    profile = await client.get(applied.headers["location"])
    assert "入驻状态已更新" in profile.text
    # only "assess" and "exit" are possible now; "admit" is shown disabled with the reason
    admit_form = profile.text.split('data-action="admit"')[1].split("</details>")[0]
    assert "disabled" in admit_form
    assert "当前入驻状态为“已申请”" in admit_form
    stay_id = re.search(r'action="/stays/(\d+)/assess"', profile.text)
    assert stay_id is not None
    assessed = await client.post(
        f"/stays/{stay_id.group(1)}/assess",
        data={"csrf_token": token, "on": "2026-01-10", "note": "团队稳定"},
    )
    assert assessed.status_code == 303
    refused = await client.post(
        f"/stays/{stay_id.group(1)}/start", data={"csrf_token": token, "on": "2026-01-11"}
    )
    assert refused.status_code == 422
    assert "当前入驻状态为“已评估”" in refused.text
    profile = await client.get(f"/organisations/{org_id}")
    timeline = profile.text.split('id="timeline"')[1]
    assert "团队稳定" in timeline
    assert "已评估" in timeline


async def test_applicant_portal_isolation(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    owner, org = await make_owner(session, centre, staff, name="我的组织", contact_phone="13912345678")
    other_id = (await make_org(session, staff, name="别人的组织")).id
    org_id = org.id
    await logged_in(client, owner)
    mine = await client.get("/my/organisations")
    assert mine.status_code == 303
    assert mine.headers["location"] == f"/organisations/{org_id}"
    profile = await client.get(f"/organisations/{org_id}")
    assert "我的组织" in profile.text
    assert "13912345678" in profile.text
    assert 'id="verify"' not in profile.text
    assert (await client.get(f"/organisations/{other_id}")).status_code == 404
    assert (await client.get("/organisations")).headers["location"] == "/my/organisations"


async def test_signup_page(client: httpx.AsyncClient, session: AsyncSession) -> None:
    centre = await make_centre(session)
    page = await client.get(f"/signup?centre={centre.slug}")
    assert "组织注册" in page.text
    bad = await client.post(
        "/signup",
        data={
            "csrf_token": csrf_of(page.text),
            "centre": centre.slug,
            "full_name": "新用户",
            "email": "new@example.org",
            "password": "short",
            "name": "新组织",
            "kind": "community_group",
            "legal_status": "filed",
        },
    )
    assert bad.status_code == 422
    assert "过短" in bad.text
    good = await client.post(
        "/signup",
        data={
            "csrf_token": csrf_of(page.text),
            "centre": centre.slug,
            "full_name": "新用户",
            "email": "new@example.org",
            "password": "long-enough-1",
            "name": "新组织",
            "kind": "community_group",
            "legal_status": "filed",
        },
    )
    assert good.status_code == 303
    login = await client.get(good.headers["location"])
    assert "等待中心工作人员审核" in login.text
