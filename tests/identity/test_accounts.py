"""Account administration through the pages: create with a one-time link, roles within the
separation of duties, disable/enable, lockouts, and 忘记密码 with and without email."""

from __future__ import annotations

import datetime as dt
import re
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditEvent
from core.identity.models import LoginFailure, OneTimeLink, Role, User
from tests.factories import PASSWORD, make_centre, make_user
from tests.test_pages import csrf_of, page_login

LINK = re.compile(r"/password-reset/([A-Za-z0-9_-]{20,})")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


async def _post(
    client: httpx.AsyncClient, path: str, form: dict[str, Any], page: str | None = None
) -> httpx.Response:
    html = (await client.get(page or path)).text
    return await client.post(path, data={**form, "csrf_token": csrf_of(html)})


async def _set_password(client: httpx.AsyncClient, token: str, password: str) -> httpx.Response:
    return await _post(client, f"/password-reset/{token}", {"password": password, "confirm": password})


async def _audit_actions(session: AsyncSession, user_id: int) -> list[str]:
    rows = await session.execute(
        select(AuditEvent.action).where(
            AuditEvent.subject_type == "user", AuditEvent.subject_id == str(user_id)
        )
    )
    return list(rows.scalars())


class TestCreateAndReset:
    async def test_anonymous_and_wrong_role(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        assert (await client.get("/users", follow_redirects=False)).status_code in (303, 401)
        await page_login(client, staff.user.email)
        assert (await client.get("/users")).status_code == 403

    async def test_created_account_sets_its_password_once_through_the_link(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        await page_login(client, admin.user.email)
        created = await _post(
            client,
            "/users/new",
            {
                "email": "new.person@example.org",
                "full_name": "新人",
                "roles": ["evaluator"],
                "centre_id": centre.id,
            },
        )
        assert created.status_code == 200
        assert "只显示这一次" in created.text
        token = LINK.search(created.text)
        assert token is not None
        again = await client.get(created.url.path if "/users/" in created.url.path else "/users")
        assert token.group(1) not in again.text  # shown once, never again
        client.cookies.clear()
        assert (await _set_password(client, token.group(1), "a-fresh-password-1")).status_code == 303
        assert (await page_login(client, "new.person@example.org", "a-fresh-password-1")).status_code == 303
        client.cookies.clear()
        used = await client.get(f"/password-reset/{token.group(1)}")
        assert used.status_code == 409
        assert "已使用" in used.text
        user = (
            await session.execute(select(User).where(User.email == "new.person@example.org"))
        ).scalar_one()
        actions = await _audit_actions(session, user.id)
        assert {"user.create", "user.reset_link", "user.password_reset"} <= set(actions)

    async def test_an_expired_link_sets_nothing(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        person = await make_user(session, centre, Role.applicant)
        await page_login(client, admin.user.email)
        made = await _post(client, f"/users/{person.user.id}/reset-link", {}, page=f"/users/{person.user.id}")
        token = LINK.search(made.text)
        assert token is not None
        await session.execute(
            update(OneTimeLink)
            .where(OneTimeLink.user_id == person.user.id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
        client.cookies.clear()
        page = await client.get(f"/password-reset/{token.group(1)}")
        assert page.status_code == 409
        assert "已过期" in page.text
        assert (await page_login(client, person.user.email, PASSWORD)).status_code == 303

    async def test_a_newer_link_retires_the_older(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        person = await make_user(session, centre, Role.applicant)
        await page_login(client, admin.user.email)
        first = LINK.search(
            (
                await _post(
                    client, f"/users/{person.user.id}/reset-link", {}, page=f"/users/{person.user.id}"
                )
            ).text
        )
        second = LINK.search(
            (
                await _post(
                    client, f"/users/{person.user.id}/reset-link", {}, page=f"/users/{person.user.id}"
                )
            ).text
        )
        assert first is not None
        assert second is not None
        assert first.group(1) != second.group(1)
        client.cookies.clear()
        assert (await client.get(f"/password-reset/{first.group(1)}")).status_code == 409
        assert (await client.get(f"/password-reset/{second.group(1)}")).status_code == 200

    async def test_mismatched_passwords_name_the_field(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        person = await make_user(session, centre, Role.applicant)
        await page_login(client, admin.user.email)
        token = LINK.search(
            (
                await _post(
                    client, f"/users/{person.user.id}/reset-link", {}, page=f"/users/{person.user.id}"
                )
            ).text
        )
        assert token is not None
        client.cookies.clear()
        response = await _post(
            client,
            f"/password-reset/{token.group(1)}",
            {"password": "long-enough-1", "confirm": "long-enough-2"},
        )
        assert response.status_code == 422
        assert 'data-field="confirm"' in response.text
        assert (await client.get(f"/password-reset/{token.group(1)}")).status_code == 200  # not spent


class TestRolesAndAccess:
    async def test_refused_combination_is_shown_with_its_reason(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        person = await make_user(session, centre, Role.finance)
        await page_login(client, admin.user.email)
        refused = await _post(
            client,
            f"/users/{person.user.id}/roles",
            {"roles": ["finance", "admin"]},
            page=f"/users/{person.user.id}",
        )
        assert refused.status_code == 422
        assert "系统管理员不能同时是财务人员或孵化中心工作人员" in refused.text
        changed = await _post(
            client,
            f"/users/{person.user.id}/roles",
            {"roles": ["finance", "evaluator"]},
            page=f"/users/{person.user.id}",
        )
        assert changed.status_code == 303
        page = await client.get(f"/users/{person.user.id}")
        assert "评审专家" in page.text
        assert "user.update" in await _audit_actions(session, person.user.id)

    async def test_history_names_people_not_emails_or_ids(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        person = await make_user(session, centre, Role.finance)
        await page_login(client, admin.user.email)
        changed = await _post(
            client,
            f"/users/{person.user.id}/roles",
            {"roles": ["finance", "evaluator"]},
            page=f"/users/{person.user.id}",
        )
        assert changed.status_code == 303
        page = await client.get(f"/users/{person.user.id}")
        found = re.search(r'<ul class="timeline" id="history">(.*?)</ul>', page.text, re.S)
        assert found is not None
        history = found.group(1)
        assert admin.user.full_name in history
        assert f"“{person.user.full_name}”" in history
        assert admin.user.email not in history
        assert f"#{person.user.id}" not in history
        assert "system" not in history  # the account was opened by no person: said in words
        assert "系统自动" in history

    async def test_own_roles_and_flag_are_not_ones_to_change(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        await page_login(client, admin.user.email)
        page = await client.get(f"/users/{admin.user.id}")
        assert "不能更改自己的角色" in page.text  # the disabled button's reason
        refused = await _post(client, f"/users/{admin.user.id}/disable", {}, page=f"/users/{admin.user.id}")
        assert refused.status_code == 403

    async def test_disable_ends_sessions_and_enable_restores(
        self, client: httpx.AsyncClient, session: AsyncSession, app: FastAPI
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        person = await make_user(session, centre, Role.staff)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as theirs:
            await page_login(theirs, person.user.email)
            assert (await theirs.get("/dashboard")).status_code == 200
            await page_login(client, admin.user.email)
            disabled = await _post(
                client, f"/users/{person.user.id}/disable", {}, page=f"/users/{person.user.id}"
            )
            assert disabled.status_code == 303
            assert (await theirs.get("/dashboard", follow_redirects=False)).status_code in (303, 401)
            assert (await page_login(theirs, person.user.email)).status_code == 401
            await _post(client, f"/users/{person.user.id}/enable", {}, page=f"/users/{person.user.id}")
            assert (await page_login(theirs, person.user.email)).status_code == 303

    async def test_search_finds_by_name_or_email_within_filters(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        await make_user(session, centre, Role.finance, email="cashier@example.org")
        await make_user(session, centre, Role.evaluator, email="reviewer@example.org")
        await page_login(client, admin.user.email)
        found = await client.get("/users", params={"q": "cashier"})
        assert 'data-user="cashier@example.org"' in found.text
        assert 'data-user="reviewer@example.org"' not in found.text
        by_role = await client.get("/users", params={"role": "evaluator"})
        assert 'data-user="reviewer@example.org"' in by_role.text
        assert 'data-user="cashier@example.org"' not in by_role.text


class TestLockouts:
    async def test_locked_account_is_listed_and_unlocked(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        person = await make_user(session, centre, Role.staff)
        for _attempt in range(5):
            assert (await page_login(client, person.user.email, "wrong-password")).status_code == 401
        locked = await page_login(client, person.user.email, PASSWORD)
        assert locked.status_code == 429
        client.cookies.clear()
        await page_login(client, admin.user.email)
        listing = await client.get("/users")
        assert f'data-locked="{person.user.email}"' in listing.text
        unlocked = await _post(client, f"/users/{person.user.id}/unlock", {}, page="/users")
        assert unlocked.status_code == 303
        assert f'data-locked="{person.user.email}"' not in (await client.get("/users")).text
        assert "user.unlock" in await _audit_actions(session, person.user.id)
        client.cookies.clear()
        assert (await page_login(client, person.user.email, PASSWORD)).status_code == 303


class TestForgotPassword:
    async def test_without_email_the_page_sends_you_to_the_admin(self, client: httpx.AsyncClient) -> None:
        login = await client.get("/login")
        assert 'href="/password-reset"' in login.text
        page = await client.get("/password-reset")
        assert "请向中心的系统管理员" in page.text
        assert 'name="email"' not in page.text

    async def test_by_email_no_enumeration_single_use(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        app: FastAPI,
        smtp_server: tuple[int, Inbox],
    ) -> None:
        port, inbox = smtp_server
        app.state.settings = app.state.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": port}
        )
        centre = await make_centre(session)
        person = await make_user(session, centre, Role.applicant, email="forgetful@example.org")
        known = await _post(client, "/password-reset", {"email": "forgetful@example.org"})
        unknown = await _post(client, "/password-reset", {"email": "nobody@example.org"})
        assert known.status_code == unknown.status_code == 200

        def words(html: str) -> str:
            return re.sub(r'name="csrf_token" value="[^"]+"', "", html)

        assert words(known.text) == words(unknown.text)
        assert len(inbox.messages) == 1
        message = message_from_bytes(inbox.messages[0].content, policy=policy.default)
        assert message["To"] == "forgetful@example.org"
        token = LINK.search(message.get_content())
        assert token is not None
        assert (await _set_password(client, token.group(1), "remembered-now-1")).status_code == 303
        assert (await _set_password(client, token.group(1), "and-again-2")).status_code == 409
        assert (await page_login(client, person.user.email, "remembered-now-1")).status_code == 303

    async def test_requests_are_limited_per_address_without_naming_accounts(
        self, client: httpx.AsyncClient, session: AsyncSession, app: FastAPI, smtp_server: tuple[int, Inbox]
    ) -> None:
        port, inbox = smtp_server
        app.state.settings = app.state.settings.model_copy(
            update={"smtp_host": "127.0.0.1", "smtp_port": port}
        )
        centre = await make_centre(session)
        await make_user(session, centre, Role.applicant, email="flooded@example.org")
        answers = [
            (await _post(client, "/password-reset", {"email": "flooded@example.org"})).status_code
            for _i in range(11)
        ]
        assert answers[:10] == [200] * 10
        assert answers[10] == 429
        assert len(inbox.messages) == 3  # the account's own quiet limit
        rows = await session.execute(select(LoginFailure))
        assert rows.first() is None


class TestAdminApi:
    async def test_lockouts_unlock_and_reset_link(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        person = await make_user(session, centre, Role.evaluator)
        for _attempt in range(5):
            await client.post(
                "/api/v1/auth/token", data={"username": person.user.email, "password": "wrong-one"}
            )
        locked = await client.get("/api/v1/users/locked", headers=admin.headers)
        assert [item["user"]["email"] for item in locked.json()["items"]] == [person.user.email]
        assert locked.json()["items"][0]["failures"] == 5
        unlocked = await client.post(f"/api/v1/users/{person.user.id}/unlock", headers=admin.headers)
        assert unlocked.status_code == 200
        again = await client.post(f"/api/v1/users/{person.user.id}/unlock", headers=admin.headers)
        assert again.status_code == 409
        assert (await client.get("/api/v1/users/locked", headers=admin.headers)).json()["items"] == []
        made = await client.post(f"/api/v1/users/{person.user.id}/reset-link", headers=admin.headers)
        assert made.status_code == 201
        token = LINK.search(made.json()["url"])
        assert token is not None
        assert (await _set_password(client, token.group(1), "api-made-link-1")).status_code == 303
        login = await client.post(
            "/api/v1/auth/token", data={"username": person.user.email, "password": "api-made-link-1"}
        )
        assert login.status_code == 200
        own = await client.post(f"/api/v1/users/{admin.user.id}/reset-link", headers=admin.headers)
        assert own.status_code == 403
