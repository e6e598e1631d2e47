"""Small steps shared by the journeys: log in, take a screenshot."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
