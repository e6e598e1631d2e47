"""The audit chain: every change recorded, tampering detected (rows edited or removed)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from api.cli import upgrade_database
from core import audit
from core.db import session_factory
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


async def test_concurrent_commits_seal_one_chain(database: TestDatabase) -> None:
    """On PostgreSQL events are sealed at COMMIT: forty transactions writing two events each at
    once still make one unbroken chain, each transaction's events side by side in it."""
    if database.backend != "postgresql":
        pytest.skip("the seal at COMMIT is PostgreSQL's; SQLite seals as it writes")
    factory = session_factory(database.engine)
    marker = f"test.concurrent.{uuid.uuid4().hex[:8]}"

    async def one(n: int) -> None:
        async with factory() as session:
            for part in ("first", "second"):
                event = await audit.record(
                    session,
                    actor=None,
                    action=marker,
                    subject_type="test",
                    subject_id=n,
                    centre_id=None,
                    after={"part": part},
                )
                assert event.seq is None  # not sealed before COMMIT
                await asyncio.sleep(0)
            await session.commit()

    await asyncio.gather(*(one(n) for n in range(40)))
    async with factory() as session:
        rows = (
            await session.execute(
                text("SELECT subject_id, seq FROM audit_events WHERE action = :a ORDER BY seq"),
                {"a": marker},
            )
        ).all()
        _checked, problems = await audit.verify(session)
    assert problems == []
    assert len(rows) == 80
    assert all(seq is not None for _s, seq in rows)
    for (first, seq1), (second, seq2) in zip(rows[0::2], rows[1::2], strict=True):
        assert first == second
        assert seq2 == seq1 + 1


async def test_unsealed_event_is_reported(session: AsyncSession, database: TestDatabase) -> None:
    """An event slipped in around the seal (trigger disabled) has no place in the chain."""
    await make_centre(session)
    await _disable_guard(session, database.backend)
    await session.execute(
        text(
            "INSERT INTO audit_events (at, actor, action, subject_type, subject_id, content_hash) "
            "VALUES (CURRENT_TIMESTAMP, 'intruder', 'x', 'x', '1', :h)"
        ),
        {"h": "0" * 64},
    )
    _checked, problems = await audit.verify(session)
    assert len(problems) == 1
    assert "never sealed" in problems[0].problem
