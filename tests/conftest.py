"""Test harness: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is used when ``TEST_DATABASE_URL`` is set or a server answers on
127.0.0.1:5432; each run creates a throwaway database and drops it after. With
``CI=true`` an unreachable PostgreSQL fails the run instead of skipping, and a run in
which no PostgreSQL test passed fails too.

Each test gets one connection in an open transaction that is rolled back at the end;
the app's request sessions join it through savepoints.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from api.app import create_app
from api.cli import upgrade_database
from api.deps import new_request_session
from api.routing import is_reading
from core.db import ReadingSession, create_engine, reading_session_factory, session_factory
from core.security import configure_hashing
from core.settings import Environment, PasswordHashing, Settings

IN_CI = os.environ.get("CI", "").lower() == "true"
# The suite hashes passwords at argon2's smallest cost (servers it starts inherit this);
# tests/test_settings.py checks that production refuses it and defaults to the strong one.
os.environ.setdefault("SEEDBED_PASSWORD_HASHING", "fast")
configure_hashing(PasswordHashing.fast)
_PG_PASSED = 0


def postgres_admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return (
            url.replace("postgresql://", "postgresql+asyncpg://", 1)
            if url.startswith("postgresql://")
            else url
        )
    return "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


async def _pg_connect(url: str) -> Any:
    import asyncpg

    parsed = make_url(url)
    return await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        database=parsed.database or "postgres",
        timeout=5,
    )


async def create_pg_database(prefix: str = "seedbed_test", *, template: str | None = None) -> str:
    """A throwaway database on the test server (empty, or a copy of ``template``); answers
    its SQLAlchemy URL."""
    admin_url = postgres_admin_url()
    try:
        connection = await _pg_connect(admin_url)
    except Exception as exc:
        message = f"PostgreSQL is not reachable at {admin_url}: {exc!r}"
        if IN_CI:
            pytest.fail("CI requires PostgreSQL. " + message, pytrace=False)
        pytest.skip(message)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        copy = f' TEMPLATE "{template}"' if template else ""
        await connection.execute(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await connection.close()
    return str(make_url(admin_url).set(database=name).render_as_string(hide_password=False))


async def drop_pg_database(url: str) -> None:
    name = make_url(url).database
    connection = await _pg_connect(postgres_admin_url())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@dataclass
class TestDatabase:
    backend: str
    url: str
    engine: AsyncEngine

    __test__ = False


def test_settings(url: str, tmp: Path) -> Settings:
    return Settings(
        env=Environment.test,
        secret_key="test-secret-key-for-seedbed-0123456789",
        database_url=url,
        data_dir=tmp,
        scheduler_in_process=False,
    )


test_settings.__test__ = False  # type: ignore[attr-defined]


# Each worker runs the migrations once per backend into a template and copies it for every
# new database: a session-scoped fixture with parameters is set up again whenever the
# parameter changes (once per test file and backend), and migrating took 1-1.5 s each time.
# tests/test_migrations.py runs the migrations themselves.
_TEMPLATES: dict[str, str] = {}


async def _sqlite_template(directory: Path) -> str:
    """The path of this worker's migrated SQLite template (made in ``directory`` the first time)."""
    if "sqlite" not in _TEMPLATES:
        path = directory / "template.db"
        await asyncio.to_thread(upgrade_database, f"sqlite+aiosqlite:///{path}")
        _TEMPLATES["sqlite"] = str(path)
    return _TEMPLATES["sqlite"]


async def migrated_pg_database(prefix: str = "seedbed_test") -> str:
    """A throwaway PostgreSQL database at the newest revision (a copy of this worker's
    migrated template); answers its SQLAlchemy URL."""
    if "postgresql" not in _TEMPLATES:
        url = await create_pg_database("seedbed_template")
        await asyncio.to_thread(upgrade_database, url)
        _TEMPLATES["postgresql"] = str(make_url(url).database)
    return await create_pg_database(prefix, template=_TEMPLATES["postgresql"])


async def _copy_of_template(backend: str, directory: Path, prefix: str) -> str:
    """A new database at the newest revision, copied from the migrated template."""
    if backend == "sqlite":
        path = directory / "seedbed.db"
        await asyncio.to_thread(shutil.copyfile, await _sqlite_template(directory.parent), path)
        return f"sqlite+aiosqlite:///{path}"
    return await migrated_pg_database(prefix)


@pytest_asyncio.fixture(scope="session", autouse=True)
async def _drop_templates() -> AsyncIterator[None]:
    yield
    if "postgresql" in _TEMPLATES:
        admin = make_url(postgres_admin_url())
        await drop_pg_database(admin.set(database=_TEMPLATES.pop("postgresql")).render_as_string(False))


@asynccontextmanager
async def migrated_database(
    backend: str, directory: Path, prefix: str = "seedbed_test"
) -> AsyncIterator[TestDatabase]:
    """A new database at the newest revision: a SQLite file in ``directory`` or a PostgreSQL one."""
    url = await _copy_of_template(backend, directory, prefix)
    # A generous statement timeout: on a machine whose CPUs are busy with other work a
    # fixture's statement can take seconds. The production timeout is proved by
    # tests/proof/test_statement_timeout.py on an engine of its own.
    engine = create_engine(url, statement_timeout_ms=60_000)
    try:
        yield TestDatabase(backend=backend, url=url, engine=engine)
    finally:
        await engine.dispose()
        if backend == "postgresql":
            await drop_pg_database(url)


@pytest_asyncio.fixture(scope="session", params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TestDatabase]:
    async with migrated_database(request.param, tmp_path_factory.mktemp("sqlite")) as created:
        yield created


@pytest_asyncio.fixture
async def connection(database: TestDatabase) -> AsyncIterator[AsyncConnection]:
    """One connection in an open transaction, rolled back after the test."""
    async with database.engine.connect() as conn:
        transaction = await conn.begin()
        if database.backend == "postgresql":
            # The test's transaction never commits, so the audit seal (deferred to COMMIT in
            # production) runs as each event is written. tests/test_audit.py checks the
            # deferred path with real commits.
            await conn.execute(text("SET CONSTRAINTS audit_events_seal IMMEDIATE"))
        try:
            yield conn
        finally:
            if transaction.is_active:
                await transaction.rollback()


def _joined_session(conn: AsyncConnection, *, reading: bool = False) -> AsyncSession:
    return AsyncSession(
        bind=conn,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
        sync_session_class=ReadingSession if reading else Session,
    )


@pytest_asyncio.fixture
async def session(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    db_session = _joined_session(connection)
    try:
        yield db_session
    finally:
        await db_session.close()


@pytest.fixture
def settings(database: TestDatabase, tmp_path: Path) -> Settings:
    return test_settings(database.url, tmp_path)


_APPS: dict[str, FastAPI] = {}


def _shared_app(database: TestDatabase, settings: Settings) -> FastAPI:
    """One app per backend for the whole run, whichever database the test has. FastAPI works
    out each route's dependencies and models on an app's first requests (about 50 ms a
    route); on a new app per test, or per database, that was most of an in-process test's
    time. Each test gets the app with its own settings, engine and session override, and a
    test that adds routes leaves a new app behind it."""
    application = _APPS.get(database.backend)
    if application is None:
        application = create_app(settings, engine=database.engine, run_scheduler=False)
        _APPS[database.backend] = application
    application.state.engine = database.engine
    application.state.sessionmaker = session_factory(database.engine)
    application.state.reading_sessionmaker = reading_session_factory(database.engine)
    return application


@pytest.fixture
def app(
    database: TestDatabase, settings: Settings, session: AsyncSession, connection: AsyncConnection
) -> Iterator[FastAPI]:
    application = _shared_app(database, settings)
    application.state.settings = settings
    routes = list(application.router.routes)

    async def test_session(request: Request) -> AsyncSession:
        """Each request gets its own session on the test's connection, inside a savepoint:
        its commit keeps its work for the rest of the test, its rollback undoes only it. A
        route marked ``reads_only`` gets a ``ReadingSession`` there too (writes refused).
        Its route commits or rolls it back and closes it, as it does a served request's."""
        await session.flush()
        return _joined_session(connection, reading=is_reading(request.scope))

    application.dependency_overrides.clear()
    application.state.request_session = test_session
    try:
        yield application
    finally:
        application.dependency_overrides.clear()
        application.state.request_session = new_request_session
        if list(application.router.routes) != routes:
            _APPS.pop(database.backend, None)


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield http


_RAN = 0


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Counted where reports arrive (the controller, under pytest-xdist)."""
    global _PG_PASSED, _RAN
    if report.when == "call":
        _RAN += 1
        if report.passed and "postgresql" in report.nodeid:
            _PG_PASSED += 1


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and exitstatus == 0 and _PG_PASSED == 0 and _RAN > 0:
        print("\nCI requires the PostgreSQL suite, but no PostgreSQL test passed.")
        session.exitstatus = 1


# The files that take longest start first, so that two workers finish together instead of one
# working through a server or browser file alone at the end (pytest-xdist hands out files in
# collection order under --dist loadfile). The scheduler failover mostly waits for its
# processes (about 25 s): early, the other worker's work fills that time. Order within a file
# is kept.
SLOWEST_FIRST = (
    "tests/proof/test_permission_matrix.py",
    "tests/proof/test_fuzz.py",
    "tests/test_scheduler_failover.py",
    "tests/served/",
    "tests/browser/",
    "tests/test_serve.py",
)


def _start_rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    for rank, prefix in enumerate(SLOWEST_FIRST):
        if path.startswith(prefix):
            return rank
    return len(SLOWEST_FIRST)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    items.sort(key=_start_rank)  # stable: each file's own order is kept
