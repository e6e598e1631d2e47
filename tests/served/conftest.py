"""Seedbed as deployed: ``seedbed serve --workers 2`` on a fresh PostgreSQL database, driven
over real sockets by concurrent clients.

The in-process suite calls the app through ``httpx.ASGITransport`` inside one rolled-back
transaction; it cannot see what only a real server shows: when a commit happens relative to
the answer, what two worker processes do to each other's rows, what a crash leaves behind.
These tests start the real command on a free port and talk HTTP to it. Records a test needs
are written beforehand through the services on a session of the same database (committed),
then everything under test goes over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import create_engine, session_factory
from core.settings import PROJECT_ROOT
from tests.conftest import drop_pg_database, migrated_pg_database
from tests.live_server import SEEDBED, free_port

SECRET = "served-suite-secret-key-0123456789"


@dataclass
class Server:
    """One running ``seedbed serve`` (its own process group: the master and its workers)."""

    base: str
    database_url: str
    root: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)

    def client(self, token: str | None = None, **kwargs: Any) -> httpx.AsyncClient:
        """A client with its own connection pool (a separate TCP connection per client)."""
        headers = {"Accept-Language": "zh-CN", **kwargs.pop("headers", {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.AsyncClient(
            base_url=self.base,
            headers=headers,
            timeout=httpx.Timeout(60.0),
            # Below uvicorn's 5 s keep-alive, so the client never reuses a connection the server
            # is closing at that moment (a ReadError that no server change could prevent).
            limits=httpx.Limits(max_connections=kwargs.pop("max_connections", 64), keepalive_expiry=2.0),
            **kwargs,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def server_env(database_url: str, root: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SEEDBED_ENV": "test",
        "SEEDBED_SECRET_KEY": SECRET,
        "SEEDBED_DATABASE_URL": database_url,
        "SEEDBED_DATA_DIR": str(root),
        "SEEDBED_SCHEDULER_IN_PROCESS": "false",
        # Two workers at most 2 × 15 connections: the suite runs another file alongside on the
        # same PostgreSQL (100 connections), and a burst past the pool queues for a connection
        # instead of being refused. The races still run 15 transactions at once per worker.
        "SEEDBED_DB_POOL_SIZE": "10",
        "SEEDBED_DB_MAX_OVERFLOW": "5",
        **extra,
    }


def start_server(database_url: str, root: Path, *, workers: int = 2, **extra_env: str) -> Server:
    """``seedbed serve`` as an operator starts it, answering once ``/readyz`` says so."""
    port = free_port()
    root.mkdir(parents=True, exist_ok=True)
    log_path = root / f"server-{port}.log"
    env = server_env(database_url, root, **extra_env)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                SEEDBED,
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-scheduler",
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", database_url, root, process, log_path, env)
    deadline = time.monotonic() + 90
    ready = 0
    while ready < workers:  # several answers, so that both workers are likely up
        try:
            if httpx.get(f"{server.base}/readyz", timeout=2).status_code == 200:
                ready += 1
                continue
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("the server did not start:\n" + server.log())
        time.sleep(0.2)
    return server


@dataclass
class Deployment:
    """A migrated PostgreSQL database with a running two-worker server on it."""

    server: Server
    database_url: str

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A committed session on the server's database (for setting up and for checking)."""
        engine = create_engine(self.database_url, pool=False, statement_timeout_ms=60_000)
        try:
            async with session_factory(engine)() as session:
                yield session
                await session.commit()
        finally:
            await engine.dispose()

    async def audit_problems(self) -> list[str]:
        async with self.session() as session:
            checked, problems = await audit.verify(session)
        assert checked > 0
        return [f"event {p.event_id}: {p.problem}" for p in problems]


@pytest_asyncio.fixture(scope="session")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Deployment]:
    url = await migrated_pg_database("seedbed_served")
    server = await asyncio.to_thread(start_server, url, tmp_path_factory.mktemp("served"))
    try:
        yield Deployment(server, url)
    finally:
        server.kill(signal.SIGTERM)
        await drop_pg_database(url)


@dataclass
class RaceResult:
    responses: list[httpx.Response]

    @property
    def statuses(self) -> Counter[int]:
        return Counter(r.status_code for r in self.responses)

    def count(self, predicate: Callable[[int], bool]) -> int:
        return sum(n for status, n in self.statuses.items() if predicate(status))

    @property
    def successes(self) -> list[httpx.Response]:
        return [r for r in self.responses if r.is_success]

    def describe(self) -> str:
        return ", ".join(f"{n} × {status}" for status, n in sorted(self.statuses.items()))

    def assert_one_winner(self) -> httpx.Response:
        """Exactly one 2xx; every other answer a 409 in the error shape; no 5xx."""
        assert self.count(lambda s: s >= 500) == 0, self.describe() + self._sample(500)
        assert len(self.successes) == 1, self.describe() + self._sample(409)
        losers = [r for r in self.responses if not r.is_success]
        assert all(r.status_code == 409 for r in losers), self.describe() + self._sample(400)
        for loser in losers:
            error = loser.json()["error"]
            assert error["code"] in {"conflict", "busy", "in_progress"}
            assert error["message"]
        return self.successes[0]

    def _sample(self, at_least: int) -> str:
        for response in self.responses:
            if response.status_code >= at_least and not response.is_success:
                return f"\n{response.status_code}: {response.text[:400]}"
        return ""


RACES = PROJECT_ROOT / "test-artifacts" / "served-races.txt"


async def race(requests: Iterable[Awaitable[httpx.Response]]) -> RaceResult:
    """Send every request at once and collect the answers (their counts are kept as an artefact)."""
    result = RaceResult(list(await asyncio.gather(*requests)))
    first = result.responses[0].request
    RACES.parent.mkdir(parents=True, exist_ok=True)
    with RACES.open("a") as artefact:
        artefact.write(
            f"{first.method} {first.url.path}: {len(result.responses)} calls → {result.describe()}\n"
        )
    return result
