"""Routing: a request tries only the routes whose literal start fits its path, and still gets
the answers routing gave before (the route, 405 for another method, 404, the slash redirect)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.routing import Match

from api.routing import Router
from core.identity.models import Role
from tests.factories import make_centre, make_user


@pytest.fixture
def tried() -> Iterator[list[str]]:
    """The path of every route whose own matching (its regular expression) runs."""
    paths: list[str] = []
    original = APIRoute.matches

    def counting(self: APIRoute, scope: Any) -> tuple[Match, Any]:
        paths.append(self.path)
        return original(self, scope)

    APIRoute.matches = counting  # type: ignore[method-assign]
    try:
        yield paths
    finally:
        APIRoute.matches = original  # type: ignore[method-assign]


def included_routers(app: FastAPI) -> list[Any]:
    routers = (getattr(r, "original_router", None) for r in app.router.routes)
    return [router for router in routers if router is not None]


def test_every_router_of_the_app_turns_away_paths_it_cannot_serve(app: FastAPI) -> None:
    routers = included_routers(app)
    assert len(routers) > 30
    assert all(isinstance(router, Router) for router in routers)
    routes = [route for router in routers for route in router.routes]
    assert len(routes) > 300


async def test_a_request_for_the_last_router_tries_a_handful_of_routes(
    client: httpx.AsyncClient, session: AsyncSession, tried: list[str], app: FastAPI
) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    last = included_routers(app)[-1]
    assert any(r.path == "/funds" for r in last.routes)  # the fund pages come last
    tried.clear()
    response = await client.get("/api/v1/disbursements/999999", headers=staff.headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    # FastAPI tries each route twice (to choose the router, then inside it); without the
    # literal-start check a request for the disbursements reached some 300 routes' regexes.
    assert 0 < len(tried) <= 10, tried
    assert all(path.startswith("/api/v1/disbursements") for path in tried), tried


async def test_routing_answers_are_unchanged(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    wrong_method = await client.delete("/api/v1/disbursements", headers=staff.headers)
    assert wrong_method.status_code == 405
    nowhere = await client.get("/api/v1/no-such-thing", headers=staff.headers)
    assert nowhere.status_code == 404
    assert (await client.get("/api/v1/organisations", headers=staff.headers)).status_code == 200
    slash = await client.get("/api/v1/organisations/", headers=staff.headers)
    assert slash.status_code == 307
    assert slash.headers["location"].endswith("/api/v1/organisations")
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/funds", headers=staff.headers)).status_code in (200, 303)
