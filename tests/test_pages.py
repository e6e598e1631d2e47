"""The web shell: Chinese login page, CSRF on every form, dashboards per role, logout."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from tests.factories import PASSWORD, make_centre, make_user


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


async def page_login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text), "next": "/dashboard"},
    )


async def test_login_page_is_chinese(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert "登录" in response.text
    assert "邮箱" in response.text
    assert "密码" in response.text
    cookie = response.headers["set-cookie"]
    assert "seedbed_csrf=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie


async def test_login_without_csrf_is_refused(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    await client.get("/login")
    response = await client.post("/login", data={"email": staff.user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "表单已过期" in response.text


async def test_forged_csrf_is_refused(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    await client.get("/login")
    response = await client.post(
        "/login", data={"email": staff.user.email, "password": PASSWORD, "csrf_token": "abc.def"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("role", "heading"),
    [
        (Role.staff, "孵化中心工作人员"),
        (Role.applicant, "申报组织"),
        (Role.finance, "财务人员"),
        (Role.evaluator, "评审专家"),
        (Role.admin, "系统管理员"),
    ],
)
async def test_each_role_sees_its_dashboard(
    client: httpx.AsyncClient, session: AsyncSession, role: Role, heading: str
) -> None:
    user = await make_user(session, await make_centre(session), role)
    response = await page_login(client, user.user.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    session_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("seedbed_session=")
    )
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie
    assert "Secure" in session_cookie
    dashboard = await client.get("/dashboard")
    assert dashboard.status_code == 200
    assert f'data-role="{role.value}"' in dashboard.text
    assert heading in dashboard.text


async def test_wrong_password_shows_error_on_the_form(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, await make_centre(session), Role.staff)
    response = await page_login(client, user.user.email, "wrong-one")
    assert response.status_code == 401
    assert "邮箱或密码错误" in response.text
    assert user.user.email in response.text  # the form keeps what was typed


async def test_page_form_with_session_needs_csrf(client: httpx.AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, await make_centre(session), Role.staff)
    await page_login(client, user.user.email)
    assert (await client.post("/logout")).status_code == 403
    dashboard = await client.get("/dashboard")
    response = await client.post("/logout", data={"csrf_token": csrf_of(dashboard.text)})
    assert response.status_code == 303
    # the session was revoked: the cookie no longer logs anyone in
    assert (await client.get("/dashboard")).status_code == 303


async def test_anonymous_dashboard_redirects_to_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_language_switch_is_saved_for_the_user(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_user(session, await make_centre(session), Role.finance)
    await page_login(client, user.user.email)
    dashboard = await client.get("/dashboard")
    assert "工作台" in dashboard.text
    response = await client.post(
        "/lang", data={"lang": "en", "next": "/dashboard", "csrf_token": csrf_of(dashboard.text)}
    )
    assert response.status_code == 303
    english = await client.get("/dashboard")
    assert "Dashboard" in english.text
    assert "Finance officer" in english.text
    assert '<html lang="en">' in english.text
    me = await client.get("/api/v1/me", headers=user.headers)
    assert me.json()["locale"] == "en"


async def test_open_redirect_is_refused(client: httpx.AsyncClient, session: AsyncSession) -> None:
    user = await make_user(session, await make_centre(session), Role.staff)
    page = await client.get("/login")
    response = await client.post(
        "/login",
        data={
            "email": user.user.email,
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "https://evil.example/",
        },
    )
    assert response.headers["location"] == "/dashboard"


async def test_unknown_page_is_a_chinese_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/no-such-page")
    assert response.status_code == 404
    assert "未找到" in response.text


class TestCsrfIsBoundToTheSession:
    """A CSRF token works only with the session (or, before login, the browser) it was issued to."""

    async def test_token_of_one_session_is_refused_with_another(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        alice = await make_user(session, centre, Role.staff)
        bob = await make_user(session, centre, Role.staff)
        async with _browser(app) as a, _browser(app) as b:
            await page_login(a, alice.user.email)
            await page_login(b, bob.user.email)
            token_a = csrf_of((await a.get("/dashboard")).text)
            token_b = csrf_of((await b.get("/dashboard")).text)
            forged = await _post_with_cookies(
                app,
                "/logout",
                {"csrf_token": token_a},
                seedbed_session=b.cookies["seedbed_session"],
                seedbed_csrf=token_a,
            )
            assert forged.status_code == 403
            assert "表单已过期" in forged.text
            assert (await b.get("/dashboard")).status_code == 200  # bob is still logged in
            own = await b.post("/logout", data={"csrf_token": token_b})
            assert own.status_code == 303
            assert (await b.get("/dashboard")).status_code == 303

    async def test_login_form_token_of_another_browser_is_refused(
        self, app: FastAPI, session: AsyncSession
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        async with _browser(app) as mine, _browser(app) as theirs:
            their_token = csrf_of((await theirs.get("/login")).text)
            my_token = csrf_of((await mine.get("/login")).text)
            form = {"email": staff.user.email, "password": PASSWORD}
            refused = await _post_with_cookies(
                app,
                "/login",
                {**form, "csrf_token": their_token},
                seedbed_presession=mine.cookies["seedbed_presession"],
                seedbed_csrf=their_token,
            )
            assert refused.status_code == 403
            assert "表单已过期" in refused.text
            accepted = await mine.post("/login", data={**form, "csrf_token": my_token})
            assert accepted.status_code == 303

    async def test_login_rotates_the_token_and_forms_keep_working(
        self, app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        before = csrf_of((await client.get("/login")).text)
        response = await client.post(
            "/login", data={"email": staff.user.email, "password": PASSWORD, "csrf_token": before}
        )
        assert response.status_code == 303
        after = client.cookies["seedbed_csrf"]
        assert after != before
        assert csrf_of((await client.get("/dashboard")).text) == after
        stale = await _post_with_cookies(
            app,
            "/lang",
            {"lang": "en", "csrf_token": before},
            seedbed_session=client.cookies["seedbed_session"],
            seedbed_csrf=before,
        )
        assert stale.status_code == 403
        switched = await client.post("/lang", data={"lang": "en", "next": "/dashboard", "csrf_token": after})
        assert switched.status_code == 303
        api = await client.post("/api/v1/notifications/read-all", headers={"X-CSRF-Token": after})
        assert api.status_code == 200


def _browser(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver")


async def _post_with_cookies(app: FastAPI, path: str, data: dict[str, str], **cookies: str) -> httpx.Response:
    """A form posted with exactly these cookies (say, one session's with another's token)."""
    header = "; ".join(f"{name}={value}" for name, value in cookies.items())
    async with _browser(app) as http:
        return await http.post(path, data=data, headers={"cookie": header})


async def test_the_language_comes_from_the_cookie_then_the_browser_then_chinese(app: FastAPI) -> None:
    async def heading(headers: dict[str, str]) -> str:
        async with _browser(app) as http:
            page = (await http.get("/login", headers=headers)).text
        return page.split("<h1>", 1)[1].split("</h1>", 1)[0]

    assert await heading({}) == "登录"
    assert await heading({"accept-language": "en-GB,en;q=0.9"}) == "Log in"
    assert await heading({"cookie": "other=1; seedbed_lang=en; more=2"}) == "Log in"
    assert await heading({"cookie": "seedbed_lang=zh", "accept-language": "en"}) == "登录"
    assert await heading({"cookie": "not_seedbed_lang_at_all=en"}) == "登录"
