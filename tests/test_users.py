"""Separation of duties on accounts (SPEC §1): an administrator never holds ``finance`` or
``staff``, nobody changes their own roles, and granting ``finance`` is seen by others."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from api.cli import upgrade_database
from core.db import create_engine, session_factory
from core.errors import ValidationFailed
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.models import Role
from core.identity.schemas import UserUpdate
from core.settings import PROJECT_ROOT
from tests.conftest import drop_pg_database, migrated_pg_database
from tests.factories import Actor, make_centre, make_user

REFUSED_TOGETHER = "系统管理员不能同时是财务人员或孵化中心工作人员，请分别使用不同账号"
DB_REFUSAL = "never holds finance or staff"


async def _patch(client: httpx.AsyncClient, admin: Actor, user_id: int, **body: Any) -> httpx.Response:
    return await client.patch(f"/api/v1/users/{user_id}", json=body, headers=admin.headers)


async def _create_puppet(
    client: httpx.AsyncClient, admin: Actor, centre_id: int | None, roles: list[str]
) -> httpx.Response:
    body = {
        "email": "puppet@example.org",
        "password": "long-enough-1",
        "full_name": "傀儡",
        "roles": roles,
        "centre_id": centre_id,
    }
    return await client.post("/api/v1/users", json=body, headers=admin.headers)


async def _roles(client: httpx.AsyncClient, admin: Actor, user_id: int) -> list[str]:
    response = await client.get(f"/api/v1/users/{user_id}", headers=admin.headers)
    assert response.status_code == 200
    roles: list[str] = response.json()["roles"]
    return roles


async def _told(client: httpx.AsyncClient, actor: Actor, about: str) -> list[dict[str, Any]]:
    """The finance grants ``actor`` was told of that name the account ``about``."""
    response = await client.get("/api/v1/notifications", headers=actor.headers)
    assert response.status_code == 200
    return [n for n in response.json()["items"] if n["kind"] == "user.grant_finance" and about in n["body"]]


async def _events(client: httpx.AsyncClient, admin: Actor, user_id: int, action: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/audit-events?subject_type=user&subject_id={user_id}", headers=admin.headers
    )
    assert response.status_code == 200
    return [e for e in response.json()["items"] if e["action"] == action]


class TestOwnAccount:
    async def test_admin_cannot_grant_themselves_roles(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, await make_centre(session), Role.admin)
        response = await _patch(client, admin, admin.user.id, roles=["admin", "evaluator"])
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "不能修改自己的角色，请由其他管理员操作"
        assert await _roles(client, admin, admin.user.id) == ["admin"]

    async def test_the_reproduction_admin_adds_finance_and_staff_to_themselves(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, await make_centre(session), Role.admin)
        response = await _patch(client, admin, admin.user.id, roles=["admin", "finance", "staff"])
        assert response.status_code == 403
        assert await _roles(client, admin, admin.user.id) == ["admin"]
        # …nor can they give them up to become finance: their roles are another's decision
        response = await client.patch(
            f"/api/v1/users/{admin.user.id}",
            json={"roles": ["finance"]},
            headers={**admin.headers, "Accept-Language": "en"},
        )
        assert response.status_code == 403
        assert (
            response.json()["error"]["message"]
            == "You cannot change your own roles; ask another administrator"
        )

    async def test_admin_cannot_deactivate_themselves(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, await make_centre(session), Role.admin)
        response = await _patch(client, admin, admin.user.id, is_active=False)
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "不能停用或启用自己的账号"
        assert (await client.get("/api/v1/me", headers=admin.headers)).status_code == 200

    async def test_own_name_and_unchanged_roles_may_be_sent(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        admin = await make_user(session, await make_centre(session), Role.admin)
        response = await _patch(
            client, admin, admin.user.id, full_name="刘洋", roles=["admin"], is_active=True, locale="en"
        )
        assert response.status_code == 200
        assert response.json()["full_name"] == "刘洋"

    async def test_own_centre_and_district_flag_stay(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        """No one moves an account between centres or makes it district-level through PATCH."""
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        other = await make_centre(session)
        await _patch(client, admin, admin.user.id, centre_id=other.id, is_district=True)
        response = await client.get(f"/api/v1/users/{admin.user.id}", headers=admin.headers)
        assert (response.json()["centre_id"], response.json()["is_district"]) == (centre.id, False)


class TestAdminApart:
    @pytest.mark.parametrize("other", ["finance", "staff"])
    async def test_create_refused(self, client: httpx.AsyncClient, session: AsyncSession, other: str) -> None:
        admin = await make_user(session, await make_centre(session), Role.admin)
        response = await _create_puppet(client, admin, admin.user.centre_id, ["admin", other])
        assert response.status_code == 422
        assert response.json()["error"]["details"] == [{"field": "roles", "message": REFUSED_TOGETHER}]
        listed = (await client.get("/api/v1/users", headers=admin.headers)).json()["items"]
        assert "puppet@example.org" not in {u["email"] for u in listed}

    @pytest.mark.parametrize(
        ("held", "wanted"),
        [
            (Role.admin, ["admin", "finance"]),
            (Role.admin, ["admin", "staff"]),
            (Role.finance, ["finance", "admin"]),
            (Role.staff, ["staff", "admin", "evaluator"]),
        ],
    )
    async def test_update_refused(
        self, client: httpx.AsyncClient, session: AsyncSession, held: Role, wanted: list[str]
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        other = await make_user(session, centre, held)
        response = await _patch(client, admin, other.user.id, roles=wanted)
        assert response.status_code == 422
        assert response.json()["error"]["details"][0]["field"] == "roles"
        assert await _roles(client, admin, other.user.id) == [held.value]

    async def test_an_admin_may_become_a_finance_officer_instead(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        other_admin = await make_user(session, centre, Role.admin, Role.evaluator)
        response = await _patch(client, admin, other_admin.user.id, roles=["finance", "evaluator"])
        assert response.status_code == 200
        assert await _roles(client, admin, other_admin.user.id) == ["evaluator", "finance"]

    async def test_factory_refuses_too(self, session: AsyncSession) -> None:
        with pytest.raises(ValidationFailed):
            await make_user(session, await make_centre(session), Role.admin, Role.finance)


class TestDatabaseRefuses:
    """What the service refuses, the database refuses too, for writers that go around it."""

    async def test_insert_admin_beside_finance(self, session: AsyncSession) -> None:
        finance = await make_user(session, await make_centre(session), Role.finance)
        with pytest.raises(DBAPIError, match=DB_REFUSAL):
            async with session.begin_nested():
                await session.execute(
                    text("INSERT INTO user_roles (user_id, role) VALUES (:id, 'admin')"),
                    {"id": finance.user.id},
                )

    @pytest.mark.parametrize("other", ["finance", "staff"])
    async def test_insert_beside_admin(self, session: AsyncSession, other: str) -> None:
        admin = await make_user(session, await make_centre(session), Role.admin)
        with pytest.raises(DBAPIError, match=DB_REFUSAL):
            async with session.begin_nested():
                await session.execute(
                    text("INSERT INTO user_roles (user_id, role) VALUES (:id, :role)"),
                    {"id": admin.user.id, "role": other},
                )

    async def test_update_a_role_into_admin(self, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff, Role.evaluator)
        with pytest.raises(DBAPIError, match=DB_REFUSAL):
            async with session.begin_nested():
                await session.execute(
                    text("UPDATE user_roles SET role = 'admin' WHERE user_id = :id AND role = 'evaluator'"),
                    {"id": staff.user.id},
                )

    async def test_other_combinations_pass(self, session: AsyncSession) -> None:
        staff = await make_user(session, await make_centre(session), Role.staff)
        async with session.begin_nested():
            await session.execute(
                text("INSERT INTO user_roles (user_id, role) VALUES (:id, 'finance')"), {"id": staff.user.id}
            )
        held = await session.execute(
            text("SELECT role FROM user_roles WHERE user_id = :id ORDER BY role"), {"id": staff.user.id}
        )
        assert list(held.scalars()) == ["finance", "staff"]


class TestFinanceGrant:
    async def test_create_is_audited_and_told(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        finance = await make_user(session, centre, Role.finance)
        finance_en = await make_user(session, centre, Role.finance, locale="en")
        admin = await make_user(session, centre, Role.admin)
        other_admin = await make_user(session, centre, Role.admin)
        staff = await make_user(session, centre, Role.staff)
        elsewhere = await make_user(session, await make_centre(session), Role.finance)
        response = await _create_puppet(client, admin, centre.id, ["finance"])
        assert response.status_code == 201
        puppet_id = response.json()["id"]

        [event] = await _events(client, admin, puppet_id, "user.grant_finance")
        assert event["actor"] == admin.user.email
        assert event["before"] == {"roles": []}
        assert event["after"]["roles"] == ["finance"]

        granter = admin.user.full_name
        for watcher in (finance, other_admin):
            [note] = await _told(client, watcher, "puppet@example.org")
            assert note["title"] == "傀儡 已被授予财务人员角色"
            assert note["body"] == f"{granter} 为 傀儡（puppet@example.org）授予了财务人员角色。"
        [note] = await _told(client, finance_en, "puppet@example.org")
        assert note["body"] == f"{granter} gave 傀儡 (puppet@example.org) the finance officer role."
        for bystander in (admin, staff, elsewhere):
            assert await _told(client, bystander, "puppet@example.org") == []

    async def test_update_is_audited_and_told(self, client: httpx.AsyncClient, session: AsyncSession) -> None:
        centre = await make_centre(session)
        finance = await make_user(session, centre, Role.finance)
        admin = await make_user(session, centre, Role.admin)
        evaluator = await make_user(session, centre, Role.evaluator)
        response = await _patch(client, admin, evaluator.user.id, roles=["evaluator", "finance"])
        assert response.status_code == 200
        [event] = await _events(client, admin, evaluator.user.id, "user.grant_finance")
        assert (event["before"], event["after"]["roles"]) == (
            {"roles": ["evaluator"]},
            ["evaluator", "finance"],
        )
        [note] = await _told(client, finance, evaluator.user.email)
        assert admin.user.full_name in note["body"]
        assert await _told(client, evaluator, evaluator.user.email) == []

        # keeping finance is no new grant
        assert (await _patch(client, admin, evaluator.user.id, roles=["finance"])).status_code == 200
        assert len(await _events(client, admin, evaluator.user.id, "user.grant_finance")) == 1
        assert len(await _told(client, finance, evaluator.user.email)) == 1


def _cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SEEDBED_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "SEEDBED_ENV": "development"}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "users", "create", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )


def test_cli_refuses_admin_with_finance(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    upgrade_database(f"sqlite+aiosqlite:///{db}")
    args = ["--email", "boss@example.org", "--password", "long-enough", "--centre", "jinjiang"]
    refused = _cli(db, *args, "--role", "admin", "--role", "finance")
    assert refused.returncode == 2
    assert REFUSED_TOGETHER in refused.stderr
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("SELECT count(*) FROM users").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM centres").fetchone() == (0,)
    finally:
        connection.close()


# --- PostgreSQL: two grants at the same moment -------------------------------------------


@pytest_asyncio.fixture
async def committed_engine() -> AsyncIterator[AsyncEngine]:
    url = await migrated_pg_database("seedbed_duties")
    engine = create_engine(url, pool=False, statement_timeout_ms=30_000)
    try:
        yield engine
    finally:
        await engine.dispose()
        await drop_pg_database(url)


async def _committed_users(engine: AsyncEngine) -> tuple[Actor, Actor]:
    async with session_factory(engine)() as session:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        evaluator = await make_user(session, centre, Role.evaluator)
        await session.commit()
    return admin, evaluator


async def _still_waiting(task: asyncio.Task[Any]) -> bool:
    await asyncio.sleep(0.5)
    return not task.done()


@pytest.mark.postgres_only
async def test_racing_inserts_are_refused_by_the_database(committed_engine: AsyncEngine) -> None:
    _, evaluator = await _committed_users(committed_engine)
    insert = text("INSERT INTO user_roles (user_id, role) VALUES (:id, :role)")
    async with committed_engine.connect() as first, committed_engine.connect() as second:
        await first.begin()
        await second.begin()
        await first.execute(insert, {"id": evaluator.user.id, "role": "admin"})
        racing = asyncio.create_task(second.execute(insert, {"id": evaluator.user.id, "role": "finance"}))
        assert await _still_waiting(racing), "the second grant did not wait for the first"
        await first.commit()
        with pytest.raises(DBAPIError, match=DB_REFUSAL):
            await racing


@pytest.mark.postgres_only
async def test_racing_role_changes_end_with_the_later_one(committed_engine: AsyncEngine) -> None:
    """Roles in a PATCH replace the account's roles. Two administrators at once: the later
    change waits, then replaces what the first left, never adding to roles it did not see."""
    admin, evaluator = await _committed_users(committed_engine)
    factory = session_factory(committed_engine)

    async def change(session: AsyncSession, roles: list[Role]) -> None:
        user = await identity_queries.get_user(session, evaluator.user.id)
        assert user is not None
        await identity.update_user(session, user, UserUpdate(roles=roles), actor=admin.principal)
        await session.commit()

    async with factory() as first, factory() as second:
        user = await identity_queries.get_user(first, evaluator.user.id)
        assert user is not None
        await identity.update_user(
            first, user, UserUpdate(roles=[Role.evaluator, Role.admin]), actor=admin.principal
        )
        racing = asyncio.create_task(change(second, [Role.evaluator, Role.finance]))
        assert await _still_waiting(racing), "the second change did not wait for the first"
        await first.commit()
        await racing
    async with factory() as session:
        user = await identity_queries.get_user(session, evaluator.user.id)
        assert user is not None
        assert user.role_set == {Role.evaluator, Role.finance}
