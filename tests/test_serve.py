"""``seedbed serve`` itself, over a real socket: whom it believes about the client's address."""

from __future__ import annotations

from pathlib import Path

import httpx

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
