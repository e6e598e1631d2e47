"""``seedbed serve`` itself, over a real socket: whom it believes about the client's
address, and that its render workers end with it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from demo.loader import DEMO_PASSWORD
from reports.briefing import KIND_CODE
from tests.live_server import live_server

ADDRESS_LIMIT = 3


def _failed_logins(base: str, forwarded_for: list[str]) -> list[int]:
    """One wrong password per entry (each for another account), sent with that X-Forwarded-For."""
    statuses = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for n, address in enumerate(forwarded_for):
            response = http.post(
                "/api/v1/auth/token",
                data={"username": f"nobody{n}@example.org", "password": "wrong-password"},
                headers={"X-Forwarded-For": address},
            )
            statuses.append(response.status_code)
    return statuses


def test_forwarded_for_from_an_untrusted_peer_does_not_escape_the_throttle(tmp_path: Path) -> None:
    rotating = [f"203.0.113.{n}" for n in range(1, ADDRESS_LIMIT + 3)]
    with live_server(tmp_path, login_max_failures_per_address=str(ADDRESS_LIMIT)) as server:
        statuses = _failed_logins(server.base, rotating)
    assert statuses == [401] * ADDRESS_LIMIT + [429, 429]


def test_forwarded_for_from_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    rotating = [f"203.0.113.{n}" for n in range(1, ADDRESS_LIMIT + 3)]
    repeated = ["198.51.100.7"] * (ADDRESS_LIMIT + 1)
    with live_server(
        tmp_path, login_max_failures_per_address=str(ADDRESS_LIMIT), trusted_proxies="127.0.0.1"
    ) as server:
        assert _failed_logins(server.base, rotating) == [401] * len(rotating)
        assert _failed_logins(server.base, repeated) == [401] * ADDRESS_LIMIT + [429]


def _children(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (zombies, waiting to be reaped, are gone)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_pdf_workers_end_with_the_server(tmp_path: Path, stop: signal.Signals) -> None:
    """Rendering starts a pool of worker processes; stopping the server (or killing it)
    leaves none of them running."""
    with live_server(tmp_path, demo=True, report_workers="2") as server:
        with httpx.Client(base_url=server.base, timeout=120) as http:
            login = http.post(
                "/api/v1/auth/token", data={"username": "staff@yulin.demo", "password": DEMO_PASSWORD}
            )
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            report = http.post(
                "/api/v1/reports", json={"kind": KIND_CODE, "period": "2026-10"}, headers=headers
            )
            assert report.status_code == 201, report.text
        children = _children(server.process.pid)
        assert len(children) >= 2  # the render workers (and multiprocessing's resource tracker)
        server.process.send_signal(stop)
        server.process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        survivors = [pid for pid in children if _alive(pid)]
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)  # ours: do not leave them behind
        assert not survivors, f"still running after the server stopped: {survivors}"
