"""Hot reads sent with the driver's own call (``core.repository.direct``) read exactly what
SQLAlchemy reads, are seen by statement listeners, and fail as SQLAlchemy's errors do.

The direct call is taken on PostgreSQL in a reading (autocommit) session only; the tests'
usual sessions join a rolled-back transaction and take the SQLAlchemy path, so these tests
commit to a database of their own and read it as a served request does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import bindparam, event, func, select
from sqlalchemy import exc as sa_exc

from core.db import create_engine, reading_session_factory, session_factory
from core.dberrors import meaning_of
from core.errors import NotFound, Unavailable
from core.identity import repository as identity_queries
from core.identity.models import Role, TokenKind, User
from core.repository import direct as direct_module
from core.repository.direct import DirectRead
from incubator.models import LegalStatus, OrganisationKind, StayState
from incubator.repository import OrganisationRepository
from tests.conftest import TestDatabase, migrated_database
from tests.factories import Actor, make_centre, make_user
from tests.incubator.helpers import VALID_USCC, make_owner


@pytest.fixture
async def committed(database: TestDatabase, tmp_path: Path) -> AsyncIterator[TestDatabase]:
    if database.backend != "postgresql":
        pytest.skip("the driver's own call is taken on PostgreSQL only")
    async with migrated_database("postgresql", tmp_path, prefix="seedbed_direct") as fresh:
        yield fresh


async def _world(db: TestDatabase) -> tuple[Actor, Actor, int]:
    async with session_factory(db.engine)() as session, session.begin():
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        _owner, organisation = await make_owner(
            session,
            centre,
            staff,
            legal_status=LegalStatus.registered,
            uscc=VALID_USCC,
            service_fields=["elderly", "youth"],
        )
        organisation.verified_at = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC)
        applicant = await make_user(session, centre, Role.applicant)
        return staff, applicant, organisation.id


async def test_the_driver_reads_the_same_values_as_sqlalchemy(committed: TestDatabase) -> None:
    staff, _applicant, organisation_id = await _world(committed)
    async with reading_session_factory(committed.engine)() as reading:
        direct = await OrganisationRepository(reading, staff.principal).profile(organisation_id)
    async with session_factory(committed.engine)() as ordinary:
        through_sqlalchemy = await OrganisationRepository(ordinary, staff.principal).profile(organisation_id)
    assert direct == through_sqlalchemy
    assert direct._fields == through_sqlalchemy._fields
    assert isinstance(direct.kind, OrganisationKind)
    assert direct.legal_status is LegalStatus.registered
    assert direct.service_fields == ["elderly", "youth"]
    assert direct.verified is True
    assert direct.created_at.tzinfo is not None
    assert direct.incubation_state is None or isinstance(direct.incubation_state, StayState)


async def test_scope_holds_on_the_driver_path(committed: TestDatabase) -> None:
    """An applicant who is not a member reads nothing of the organisation: 404, as before."""
    staff, applicant, organisation_id = await _world(committed)
    async with reading_session_factory(committed.engine)() as reading:
        with pytest.raises(NotFound):
            await OrganisationRepository(reading, applicant.principal).profile(organisation_id)
    async with reading_session_factory(committed.engine)() as reading:
        found = await OrganisationRepository(reading, staff.principal).profile(organisation_id)
    assert found.id == organisation_id


async def test_listeners_see_each_statement_and_its_rows(committed: TestDatabase) -> None:
    staff, _applicant, _organisation_id = await _world(committed)
    seen: list[tuple[str, Any]] = []

    def after(_conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, len(cursor._rows)))

    event.listen(committed.engine.sync_engine, "after_cursor_execute", after)
    try:
        async with reading_session_factory(committed.engine)() as reading:
            principal = await identity_queries.principal_for_token(reading, staff.token, TokenKind.api)
    finally:
        event.remove(committed.engine.sync_engine, "after_cursor_execute", after)
    assert principal is not None
    assert principal.user_id == staff.user.id
    assert len(seen) == 1
    statement, rows = seen[0]
    assert "auth_tokens" in statement
    assert rows == 1


async def test_a_revoked_token_stops_at_once_on_the_driver_path(committed: TestDatabase) -> None:
    staff, _applicant, _organisation_id = await _world(committed)
    reading = reading_session_factory(committed.engine)
    async with reading() as session:
        assert await identity_queries.principal_for_token(session, staff.token, TokenKind.api) is not None
    async with session_factory(committed.engine)() as session, session.begin():
        assert await identity_queries.revoke_token(session, staff.token)
    async with reading() as session:
        assert await identity_queries.principal_for_token(session, staff.token, TokenKind.api) is None


async def test_a_driver_error_is_sqlalchemys_error_and_answered_as_one(committed: TestDatabase) -> None:
    """A statement that runs past the statement timeout fails as ``DBAPIError`` carrying
    PostgreSQL's SQLSTATE, which the error handlers answer as 503 (not a 500), and the
    session's connection goes on to serve the next read."""
    engine = create_engine(committed.url, statement_timeout_ms=100)
    slow: DirectRead[Any] = DirectRead(select(func.pg_sleep(bindparam("seconds"))))
    try:
        async with reading_session_factory(engine)() as session:
            with pytest.raises(sa_exc.DBAPIError) as failed:
                await slow.all(session, {"seconds": 1})
            assert getattr(failed.value.orig, "sqlstate", None) == "57014"
            assert isinstance(meaning_of(failed.value), Unavailable)
            assert await DirectRead(select(func.pg_sleep(0))).all(session) == [(None,)]
    finally:
        await engine.dispose()


async def test_outside_a_reading_session_the_read_joins_the_transaction(committed: TestDatabase) -> None:
    """In a writing session the read goes through SQLAlchemy and sees the session's own
    uncommitted change."""
    staff, _applicant, organisation_id = await _world(committed)
    async with session_factory(committed.engine)() as session:
        repository = OrganisationRepository(session, staff.principal)
        organisation = await repository.get(organisation_id)
        organisation.name = "尚未提交的名称"
        await session.flush()
        assert (await repository.profile(organisation_id)).name == "尚未提交的名称"
        await session.rollback()
    async with reading_session_factory(committed.engine)() as reading:
        assert (await OrganisationRepository(reading, staff.principal).profile(organisation_id)).name != (
            "尚未提交的名称"
        )


async def test_every_hot_read_answers_the_same_through_the_driver(
    committed: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bench's centre (small) read through every endpoint and page the bench measures:
    each answer through the driver's call is the answer through SQLAlchemy, byte for byte
    (the pages but for their per-request form tokens)."""
    from api.app import create_app
    from bench.__main__ import ENDPOINTS, PAGES, seed
    from bench.seed import Size
    from core.settings import Environment, Settings

    dsn = committed.url.replace("postgresql+asyncpg://", "postgresql://", 1)
    world, _timings = await seed(dsn, Size("T", organisations=100, subjects=2_200, sheets=4_400))
    settings = Settings(
        env=Environment.development,
        database_url=committed.url,
        data_dir=tmp_path,
        scheduler_in_process=False,
        access_token_minutes=60,
    )
    app = create_app(settings, run_scheduler=False)
    taken: list[bool] = []
    chooses = direct_module._direct
    # the plans of this test's lists alone (other tests in this process plan an applicant's IN lists)
    monkeypatch.setattr(direct_module, "_KEYED", {})

    def recorded(connection: Any, driver: Any, outside_transaction: bool) -> bool:
        taken.append(chooses(connection, driver, outside_transaction))
        return taken[-1]

    api = {"Authorization": f"Bearer {world.token}"}
    cookie = {"Cookie": f"seedbed_session={world.session_token}"}
    targets = [(path, api) for e in ENDPOINTS for path, _id in e.paths(world)[:3]]
    targets += [(path, cookie) for p in PAGES for path in p.paths(world)[:3]]
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://direct"
        ) as client:
            for path, headers in targets:
                monkeypatch.setattr(direct_module, "_direct", recorded)
                direct = await client.get(path, headers=headers)
                monkeypatch.setattr(direct_module, "_direct", lambda *_: False)
                through_sqlalchemy = await client.get(path, headers=headers)
                assert direct.status_code == through_sqlalchemy.status_code == 200, path
                assert _unsigned(direct.text) == _unsigned(through_sqlalchemy.text), path
    finally:
        await app.state.engine.dispose()
    assert taken
    assert all(taken), "a hot read took the SQLAlchemy path on a reading session"
    assert direct_module._KEYED, "no list was read by the driver"
    unplanned = [key for key, keyed in direct_module._KEYED.items() if keyed is None]
    assert not unplanned, "a list's statement could not be run by the driver"


def _unsigned(text: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"|content="[^"]*" name="csrf-token"', "", text)


async def test_an_in_list_of_the_scope_is_read_through_sqlalchemy(committed: TestDatabase) -> None:
    """An applicant's scope is an IN list of their organisations, which SQLAlchemy expands
    at execution: such a read takes SQLAlchemy's path, and finds what it should."""
    staff, applicant, _organisation_id = await _world(committed)
    read: DirectRead[Any] = DirectRead(
        select(User.email).where(User.id.in_([staff.user.id, applicant.user.id])).order_by(User.id)
    )
    assert read.expanding
    async with reading_session_factory(committed.engine)() as reading:
        rows = await read.all(reading)
    assert [row.email for row in rows] == [staff.user.email, applicant.user.email]
