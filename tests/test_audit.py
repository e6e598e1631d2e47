"""The audit chain: every change recorded, tampering detected (rows edited or removed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from api.cli import upgrade_database
from core import audit
from core.identity.models import Role
from core.settings import PROJECT_ROOT
from tests.conftest import TestDatabase
from tests.factories import make_centre, make_user


async def _disable_guard(session: AsyncSession, backend: str) -> None:
    """What an intruder with database access would do first."""
    if backend == "postgresql":
        await session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
    else:
        await session.execute(text("DROP TRIGGER audit_events_no_update"))
        await session.execute(text("DROP TRIGGER audit_events_no_delete"))


async def test_chain_is_intact_after_changes(session: AsyncSession) -> None:
    centre = await make_centre(session)
    await make_user(session, centre, Role.staff)
    checked, problems = await audit.verify(session)
    assert checked >= 2
    assert problems == []


async def test_updates_and_deletes_are_refused(session: AsyncSession, database: TestDatabase) -> None:
    await make_centre(session)
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(text("UPDATE audit_events SET action = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"):
        async with session.begin_nested():
            await session.execute(text("DELETE FROM audit_events"))


async def test_edited_row_is_detected(session: AsyncSession, database: TestDatabase) -> None:
    centre = await make_centre(session)
    await make_user(session, centre, Role.finance)
    await make_user(session, centre, Role.staff)
    await _disable_guard(session, database.backend)
    victim = (
        await session.execute(text("SELECT min(id) FROM audit_events WHERE action = 'user.create'"))
    ).scalar()
    await session.execute(
        text("UPDATE audit_events SET actor = 'someone-else' WHERE id = :id"), {"id": victim}
    )
    session.expunge_all()
    _checked, problems = await audit.verify(session)
    assert [(p.event_id, "edited" in p.problem) for p in problems] == [(victim, True)]


async def test_deleted_row_is_detected(session: AsyncSession, database: TestDatabase) -> None:
    centre = await make_centre(session)
    await make_user(session, centre, Role.finance)
    await make_user(session, centre, Role.staff)
    await _disable_guard(session, database.backend)
    victim = (
        await session.execute(text("SELECT min(id) FROM audit_events WHERE action = 'user.create'"))
    ).scalar()
    await session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": victim})
    session.expunge_all()
    _checked, problems = await audit.verify(session)
    assert victim is not None
    assert len(problems) == 1
    assert "removed" in problems[0].problem
    assert problems[0].event_id > victim


def test_cli_verify_exit_status(tmp_path: Path) -> None:
    """`seedbed audit verify` exits 0 on an intact chain and non-zero after tampering."""
    import sqlite3

    db = tmp_path / "cli.db"
    env = {**os.environ, "SEEDBED_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "SEEDBED_ENV": "development"}
    upgrade_database(env["SEEDBED_DATABASE_URL"])
    cli = [sys.executable, "-m", "api.cli"]
    subprocess.run([*cli, "demo", "load"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    intact = subprocess.run(
        [*cli, "audit", "verify"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout
    connection = sqlite3.connect(db)
    connection.execute("DROP TRIGGER audit_events_no_update")
    connection.execute("UPDATE audit_events SET after = '{}' WHERE id = 3")
    connection.commit()
    connection.close()
    broken = subprocess.run(
        [*cli, "audit", "verify"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert broken.returncode == 1
    assert "event 3" in broken.stderr
    assert "BROKEN" in broken.stderr


def test_cli_creates_user_and_centre(tmp_path: Path) -> None:
    db = tmp_path / "users.db"
    env = {**os.environ, "SEEDBED_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "SEEDBED_ENV": "development"}
    upgrade_database(env["SEEDBED_DATABASE_URL"])
    cli = [sys.executable, "-m", "api.cli", "users", "create"]
    args = [
        "--email",
        "Staff@Example.org",
        "--password",
        "long-enough",
        "--role",
        "staff",
        "--role",
        "finance",
    ]
    created = subprocess.run(
        [*cli, *args, "--centre", "jinjiang"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert created.returncode == 0, created.stderr
    again = subprocess.run(
        [*cli, *args, "--centre", "jinjiang"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert again.returncode == 2
    assert "该邮箱已注册账号" in again.stderr
    import sqlite3

    connection = sqlite3.connect(db)
    rows = connection.execute(
        "SELECT u.email, c.slug, group_concat(r.role) FROM users u JOIN centres c ON c.id = u.centre_id "
        "JOIN user_roles r ON r.user_id = u.id GROUP BY u.id"
    ).fetchall()
    connection.close()
    assert rows == [("staff@example.org", "jinjiang", "finance,staff")]
