"""Small steps shared by the journeys: log in, take a screenshot."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError

from demo.loader import DEMO_PASSWORD


def login(page: Any, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/(dashboard|organisations/\d+|my/organisations).*"))


def logout(page: Any) -> None:
    page.context.clear_cookies()


def shot(page: Any, screenshots: Path, name: str) -> None:
    """A full-page screenshot for the reader of the run. Chromium sometimes refuses one while
    its compositor is starved of CPU ("Unable to capture screenshot"); that is retried after
    a short wait, since the picture is what a person looks at, not what a test asserts."""
    for attempt in range(3):
        try:
            page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
            return
        except PlaywrightError as exc:
            if "Unable to capture screenshot" not in str(exc) or attempt == 2:
                raise
            page.wait_for_timeout(500)
