"""Writes sent with the driver's own call (``core.repository.direct.DirectWrite``) belong to
the session's transaction exactly as SQLAlchemy's own statements do: they begin it when
nothing has yet, its rollback undoes them and its commit keeps them; pending ORM changes
are flushed before them; their errors are SQLAlchemy's; a reading session refuses them.

They commit to a database of their own, as a served request does (the suite's usual
sessions sit in a transaction begun for them and rolled back)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, idempotency
from core.db import WriteInReadingSession, reading_session_factory, session_factory, utcnow
from core.dberrors import meaning_of
from core.errors import Conflict
from core.idempotency import IdempotencyRecord
from core.identity.models import Role
from core.repository import direct as direct_module
from core.repository.direct import DirectRead, DirectWrite
from incubator.models import Organisation
from tests.conftest import TestDatabase, migrated_database
from tests.factories import Actor, make_centre, make_user
from tests.incubator.helpers import make_owner

RETENTION = dt.timedelta(hours=24)


@pytest.fixture
async def committed(database: TestDatabase, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    if database.backend != "postgresql":
        pytest.skip("the driver's own call is taken on PostgreSQL only")
    async with migrated_database("postgresql", tmp_path, prefix="seedbed_direct_w") as fresh:
        yield fresh


async def _staff(db: TestDatabase) -> tuple[Actor, int]:
    async with session_factory(db.engine)() as session, session.begin():
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        _owner, organisation = await make_owner(session, centre, staff)
        return staff, organisation.id


def _driver_statements(db: TestDatabase) -> tuple[list[str], Any]:
    """The writes sent with the driver's own call (their cursor is the direct path's)."""
    sent: list[str] = []

    def after(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if isinstance(cursor, direct_module._Cursor) and not statement.startswith("SELECT"):
            sent.append(statement.split()[0])

    event.listen(db.engine.sync_engine, "after_cursor_execute", after)
    return sent, after


async def _claim(session: AsyncSession, user_id: int, key: str) -> int | None:
    return await idempotency.claim(
        session, user_id=user_id, key=key, method_path="POST /x", body_hash="0" * 64, retention=RETENTION
    )


async def _record_count(db: TestDatabase, key: str) -> int:
    async with reading_session_factory(db.engine)() as reading:
        rows: list[Any] = await DirectRead(
            select(IdempotencyRecord.id).where(IdempotencyRecord.key == bindparam("key"))
        ).all(reading, {"key": key})
    return len(rows)


async def test_a_first_write_begins_the_transaction_its_rollback_undoes_and_its_commit_keeps(
    committed: TestDatabase,
) -> None:
    staff, _organisation_id = await _staff(committed)
    sent, listener = _driver_statements(committed)
    try:
        rolled_back, kept = f"rb-{uuid.uuid4()}", f"keep-{uuid.uuid4()}"
        async with session_factory(committed.engine)() as session:
            assert await _claim(session, staff.user.id, rolled_back) is not None
            driver = await direct_module._driver_of(await session.connection())
            assert driver.is_in_transaction()
            await session.rollback()
        assert await _record_count(committed, rolled_back) == 0
        async with session_factory(committed.engine)() as session:
            claimed = await _claim(session, staff.user.id, kept)
            assert claimed is not None
            await idempotency.answer(session, claimed, status_code=200, response={"done": True})
            await session.commit()
        assert await _record_count(committed, kept) == 1
        async with session_factory(committed.engine)() as session:
            record = await session.get(IdempotencyRecord, claimed)
        assert record is not None
        assert (record.status_code, record.response) == (200, {"done": True})
    finally:
        event.remove(committed.engine.sync_engine, "after_cursor_execute", listener)
    assert sent == ["INSERT", "INSERT", "UPDATE"]


async def test_a_second_claim_of_a_key_waits_for_the_first_transaction(committed: TestDatabase) -> None:
    """The claim's ON CONFLICT still queues a second request on the first one's row lock: it
    answers None (taken) once the first commits."""
    staff, _organisation_id = await _staff(committed)
    key = f"k-{uuid.uuid4()}"
    factory = session_factory(committed.engine)
    async with factory() as first:
        assert await _claim(first, staff.user.id, key) is not None

        async def second() -> int | None:
            async with factory() as session:
                taken = await _claim(session, staff.user.id, key)
                await session.commit()
                return taken

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await first.commit()
        assert await asyncio.wait_for(waiting, 10) is None


async def test_pending_orm_changes_are_flushed_before_the_write(committed: TestDatabase) -> None:
    staff, organisation_id = await _staff(committed)
    async with session_factory(committed.engine)() as session:
        organisation = await session.get(Organisation, organisation_id)
        assert organisation is not None
        organisation.name = "写入之前的新名称"
        event_ = await audit.record(
            session,
            actor=staff.principal,
            action="organisation.rename",
            subject_type="organisation",
            subject_id=organisation_id,
            centre_id=organisation.centre_id,
        )
        assert not session.dirty
        await session.commit()
    async with reading_session_factory(committed.engine)() as reading:
        read: DirectRead[Any] = DirectRead(
            select(Organisation.name).where(Organisation.id == bindparam("id"))
        )
        name = await read.first(reading, {"id": organisation_id})
    async with session_factory(committed.engine)() as session:
        stored = await session.get(audit.AuditEvent, event_.id)
    assert name is not None
    assert name.name == "写入之前的新名称"
    assert stored is not None
    assert stored.action == "organisation.rename"
    assert stored.before is None
    assert stored.seq is not None  # sealed at COMMIT, as an event written by the session was


async def test_a_unique_violation_is_an_integrity_error_answered_as_a_conflict(
    committed: TestDatabase,
) -> None:
    staff, _organisation_id = await _staff(committed)
    plain_insert: DirectWrite[Any] = DirectWrite(
        insert(IdempotencyRecord)
        .values(
            user_id=bindparam("user_id"),
            key=bindparam("key"),
            method_path="POST /x",
            body_hash="0" * 64,
            status_code=0,
            response=bindparam("response", type_=IdempotencyRecord.__table__.c.response.type),
            created_at=bindparam("now", type_=IdempotencyRecord.__table__.c.created_at.type),
        )
        .returning(IdempotencyRecord.id)
    )
    params = {"user_id": staff.user.id, "key": f"dup-{uuid.uuid4()}", "response": {}, "now": utcnow()}
    async with session_factory(committed.engine)() as session:
        await plain_insert.run(session, params)
        with pytest.raises(sa_exc.IntegrityError) as failed:
            await plain_insert.run(session, params)
        await session.rollback()
    assert getattr(failed.value.orig, "sqlstate", None) == "23505"
    assert isinstance(meaning_of(failed.value), Conflict)


async def test_onupdate_columns_are_filled_as_sqlalchemy_fills_them(committed: TestDatabase) -> None:
    _staff_actor, organisation_id = await _staff(committed)
    rename: DirectWrite[Any] = DirectWrite(
        update(Organisation)
        .where(Organisation.id == bindparam("organisation_id"))
        .values(name=bindparam("name"))
        .returning(Organisation.updated_at)
    )
    before = utcnow()
    async with session_factory(committed.engine)() as session:
        (row,) = await rename.run(session, {"organisation_id": organisation_id, "name": "改名"})
        await session.commit()
    assert row.updated_at.tzinfo is not None
    assert before <= row.updated_at <= utcnow()


async def test_a_reading_session_refuses_a_direct_write(committed: TestDatabase) -> None:
    staff, _organisation_id = await _staff(committed)
    async with reading_session_factory(committed.engine)() as reading:
        with pytest.raises(WriteInReadingSession):
            await _claim(reading, staff.user.id, f"r-{uuid.uuid4()}")


def test_a_write_must_say_what_it_returns() -> None:
    with pytest.raises(TypeError, match="RETURNING"):
        DirectWrite(update(Organisation).values(name="x"))


async def test_a_write_inside_a_savepoint_is_undone_with_it(committed: TestDatabase) -> None:
    """A page form's claim runs in a savepoint (``run_once``): when its action fails, the
    savepoint's rollback releases the key, while what ran before the savepoint stays."""
    staff, _organisation_id = await _staff(committed)
    before, inside = f"before-{uuid.uuid4()}", f"inside-{uuid.uuid4()}"
    async with session_factory(committed.engine)() as session:
        assert await _claim(session, staff.user.id, before) is not None
        savepoint = await session.begin_nested()
        assert await _claim(session, staff.user.id, inside) is not None
        await savepoint.rollback()
        await session.commit()
    assert await _record_count(committed, before) == 1
    assert await _record_count(committed, inside) == 0
