"""Security headers on every answer: CSP on pages, no framing, no sniffing, no caching of
anything a signed-in user sees, HSTS only in production."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from api.app import create_app
from core.identity.models import Role
from core.security import configure_hashing
from core.settings import Environment, PasswordHashing, Settings
from tests.conftest import TestDatabase
from tests.factories import make_centre, make_user
from tests.incubator.test_pages import logged_in
from tests.test_pages import csrf_of

TEMPLATES = "templates/web"


def assert_page_hardened(response: httpx.Response) -> None:
    """A page: shown, hardened, and never cached (it carries the session's CSRF token)."""
    assert response.status_code == 200
    assert_hardened(response)
    assert response.headers["cache-control"] == "no-store"


def assert_hardened(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert "strict-transport-security" not in response.headers  # not production


async def test_login_page_has_a_policy_and_is_never_cached(client: httpx.AsyncClient) -> None:
    assert_page_hardened(await client.get("/login"))
    assert_page_hardened(await client.get("/signup"))


async def test_finance_page_cannot_be_framed_or_cached(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    finance = await make_user(session, await make_centre(session), Role.finance)
    await logged_in(client, finance)
    assert_page_hardened(await client.get("/finance"))


async def test_api_answers_to_a_signed_in_user_are_not_cached(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    me = await client.get("/api/v1/me", headers=staff.headers)
    assert me.status_code == 200
    assert me.headers["cache-control"] == "no-store"
    assert me.headers["x-content-type-options"] == "nosniff"
    missing = await client.get("/api/v1/organisations/999999", headers=staff.headers)
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store"
    anonymous = await client.get("/healthz")
    assert anonymous.headers["x-frame-options"] == "DENY"
    assert "cache-control" not in anonymous.headers


async def test_a_page_posted_by_a_signed_in_user_is_not_cached(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    token = await logged_in(client, staff)
    response = await client.post("/lang", data={"lang": "en", "next": "/dashboard", "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["cache-control"] == "no-store"
    assert csrf_of((await client.get("/dashboard")).text)


async def test_the_server_error_page_carries_the_headers(app: FastAPI) -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/broken-page", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        response = await http.get("/broken-page")
    assert response.status_code == 500
    assert_hardened(response)


@pytest_asyncio.fixture
async def production_client(database: TestDatabase, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    production = settings.model_copy(
        update={"env": Environment.production, "password_hashing": PasswordHashing.strong}
    )
    app = create_app(production, engine=database.engine, run_scheduler=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://testserver"
        ) as http:
            yield http
    finally:
        configure_hashing(PasswordHashing.fast)


async def test_hsts_only_in_production(
    client: httpx.AsyncClient, production_client: httpx.AsyncClient
) -> None:
    assert "strict-transport-security" not in (await client.get("/login")).headers
    for path in ("/login", "/healthz"):
        response = await production_client.get(path)
        assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_the_api_docs_keep_a_policy_of_their_own(client: httpx.AsyncClient) -> None:
    """Swagger UI loads its bundle from a CDN; it still cannot be framed."""
    docs = await client.get("/api/docs")
    assert docs.status_code == 200
    assert "https://cdn.jsdelivr.net" in docs.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    assert docs.headers["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script_or_style() -> None:
    """The policy allows only the site's own files: inline code would be blocked in the browser."""
    from pathlib import Path

    from core.settings import PROJECT_ROOT

    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE
    )
    found = [
        f"{path.relative_to(PROJECT_ROOT)}: {match.group(0)}"
        for path in sorted(Path(PROJECT_ROOT, TEMPLATES).rglob("*.html"))
        for match in inline.finditer(path.read_text())
    ]
    assert not found
