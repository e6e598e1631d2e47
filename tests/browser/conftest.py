"""A real server and headless Debian Chromium for the browser journeys.

The server is ``seedbed serve`` in a subprocess on a free port (``tests/live_server.py``), on
a fresh SQLite file that is migrated and loaded with the demo centre. Chromium is the system's
``/usr/bin/chromium`` (installed by ``make system-deps``), never a browser download. Without
it the journeys are skipped, except under ``CI=true`` where that is a failure.
Screenshots of every step go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.settings import PROJECT_ROOT
from tests.live_server import live_server, server_env

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = (
            "browser journeys need Debian's Chromium at /usr/bin/chromium (make system-deps installs it)"
        )
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def server_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="session")
def server_database_url(server_root: Path) -> str:
    """The server's SQLite file, for the few steps a scheduled job does (e.g. awarding after publicity)."""
    return f"sqlite+aiosqlite:///{server_root / 'seedbed.db'}"


@pytest.fixture(scope="session")
def server(server_root: Path, server_database_url: str) -> Iterator[str]:
    with live_server(server_root, demo=True) as running:
        assert server_env(server_root)["SEEDBED_DATABASE_URL"] == server_database_url
        yield running.base


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Any]:
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread until it
    stops, and the async tests that follow need the thread's loop free."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def dialogs() -> list[str]:
    """The messages of the confirmation dialogs the page showed (each one accepted)."""
    return []


@pytest.fixture
def page(browser: Any, server: str, dialogs: list[str]) -> Iterator[Any]:
    """A fresh context (no cookies) in Chinese; confirmation dialogs are accepted and kept."""
    context = browser.new_context(base_url=server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    tab = context.new_page()

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    tab.on("dialog", accept)
    # Chromium enforces the pages' Content-Security-Policy: anything it blocks is a failure.
    blocked: list[str] = []
    tab.on(
        "console",
        lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None,
    )
    try:
        yield tab
    finally:
        context.close()
    assert not blocked, blocked
