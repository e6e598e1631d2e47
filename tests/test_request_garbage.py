"""A request leaves no cyclic garbage: everything it made is freed by reference counting
when it ends, so the workers' cyclic collector has nothing per request to find.

Served, a cycle per request (the request's scope holding its session holding the request;
a session's ``info`` holding its transaction holding the session) kept each request's
objects until a full collection of the heap, which stopped a worker for 0.3-0.5 s every
few seconds under load (``api.app.tune_garbage_collection``)."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from api.app import GC_YOUNG_THRESHOLD, create_app
from core.settings import PROJECT_ROOT, Settings
from tests.conftest import TestDatabase, test_settings


def cyclic_garbage_since_last_collection() -> Counter[str]:
    """What a collection now would free, by type (kept in ``gc.garbage`` to be counted, then
    freed for real: objects in a cycle cleared from ``gc.garbage`` would only be found again)."""
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.collect()
        found = Counter(type(obj).__qualname__ for obj in gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()
    return found


async def _get(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    """The app called as a server calls it (no test client around it, whose own objects
    would be counted)."""
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    return status[0]


REQUESTS = [
    # a reading route's session: the principal's lookup (a refused token)
    ("/api/v1/applications", [(b"authorization", b"Bearer not-a-token")], 401),
    # a writing route's session and transaction, read without a login
    ("/api/v1/public/publicity", [], 200),
    # a page, rendered
    ("/login", [], 200),
]


async def leftover(url: str, directory: str) -> dict[str, int]:
    """The cyclic garbage of fifteen requests to an app with its own engine and sessions, as
    served, after two rounds to warm its routes, statements and templates: by type."""
    app = create_app(test_settings(url, Path(directory)), run_scheduler=False)
    gc.disable()
    try:
        async with app.router.lifespan_context(app):
            for path, headers, expected in REQUESTS * 2:
                assert await _get(app, path, headers) == expected
            gc.collect()
            for path, headers, expected in REQUESTS * 5:
                assert await _get(app, path, headers) == expected
            left = cyclic_garbage_since_last_collection()
    finally:
        gc.enable()
        await app.state.engine.dispose()
    return dict(left)


PROBE = (
    "import asyncio, json, sys; from tests.test_request_garbage import leftover; "
    "print(json.dumps(asyncio.run(leftover(sys.argv[1], sys.argv[2]))))"
)


def test_requests_leave_no_cyclic_garbage(database: TestDatabase, tmp_path: Path) -> None:
    """Measured in a process of its own, as a served worker is one: in the suite's process
    the tests run before leave state behind them (once seen as ten classes made in the
    fifteen requests, on either backend, depending on which tests ran first)."""
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, database.url, str(tmp_path)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout.splitlines()[-1]) == {}


async def test_a_served_app_collects_young_objects_seldom(settings: Settings) -> None:
    before = gc.get_threshold()
    app = create_app(settings, run_scheduler=False)
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_threshold()[0] >= GC_YOUNG_THRESHOLD
            assert gc.get_threshold()[1:] == before[1:]
    finally:
        gc.set_threshold(*before)
        await app.state.engine.dispose()
