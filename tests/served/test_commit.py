"""A 2xx leaves the server only after its transaction committed (issue: trust as deployed, 1).

FastAPI runs the code after a dependency's ``yield`` once the response has been sent; a
commit placed there lets a client read "201" for work that is not yet visible to its next
request on another connection, or that then fails to commit at all.
"""

from __future__ import annotations

import asyncio
import re
from http.cookies import SimpleCookie

import httpx
import pytest
from sqlalchemy import func, select, text

from core.identity.models import Role
from incubator.models import Organisation
from tests.factories import PASSWORD, make_centre, make_user
from tests.incubator.helpers import org_payload
from tests.served.conftest import Deployment

pytestmark = pytest.mark.postgres_only

PAIRS = 1000
CONCURRENCY = 16


async def test_every_acknowledged_write_is_read_back_on_another_connection(deployment: Deployment) -> None:
    async with deployment.session() as session:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
    misses: list[str] = []
    failures: list[str] = []
    gate = asyncio.Semaphore(CONCURRENCY)

    async with (
        deployment.server.client(staff.token) as writer,
        deployment.server.client(staff.token) as reader,
    ):

        async def pair(n: int) -> None:
            async with gate:
                created = await writer.post(
                    "/api/v1/organisations", json=org_payload(name=f"写后读互助会{n:04d}")
                )
                if created.status_code != 201:
                    failures.append(f"{created.status_code}: {created.text[:200]}")
                    return
                organisation_id = created.json()["id"]
                read = await reader.get(f"/api/v1/organisations/{organisation_id}")
                if read.status_code != 200:
                    misses.append(f"organisation {organisation_id}: {read.status_code}")

        await asyncio.gather(*(pair(n) for n in range(PAIRS)))
    assert failures == []
    assert misses == [], f"{len(misses)} of {PAIRS} writes were not visible right after their 201"


def _form_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the login page carries a CSRF token"
    return match.group(1)


def _cookies(response: httpx.Response) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


async def test_a_page_login_is_valid_on_the_next_connection_at_once(deployment: Deployment) -> None:
    """The pages commit before they answer, too: the session a login page hands out works on
    the very next request, whichever worker and connection it reaches."""
    async with deployment.session() as session:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
    misses = 0
    for _ in range(60):
        async with deployment.server.client() as browser, deployment.server.client() as next_tab:
            page = await browser.get("/login")
            cookies = _cookies(page)
            answer = await browser.post(
                "/login",
                data={
                    "email": staff.user.email,
                    "password": PASSWORD,
                    "next": "/dashboard",
                    "csrf_token": _form_token(page.text),
                },
                headers={"Cookie": _cookie_header(cookies)},
            )
            assert answer.status_code == 303, answer.text[:300]
            cookies.update(_cookies(answer))
            dashboard = await next_tab.get("/dashboard", headers={"Cookie": _cookie_header(cookies)})
            if dashboard.status_code != 200:
                misses += 1
    assert misses == 0


async def test_a_commit_that_fails_is_not_answered_as_a_success(deployment: Deployment) -> None:
    """A deferred constraint that refuses the transaction at COMMIT: the client is told so,
    in the one error shape, and nothing of the request is stored."""
    async with deployment.session() as session:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        await session.execute(
            text(
                """
                CREATE OR REPLACE FUNCTION served_refuse_at_commit() RETURNS trigger AS $$
                BEGIN
                    IF NEW.name LIKE '%fails-at-commit%' THEN
                        RAISE EXCEPTION 'refused at commit' USING ERRCODE = 'check_violation';
                    END IF;
                    RETURN NULL;
                END $$ LANGUAGE plpgsql
                """
            )
        )
        await session.execute(
            text(
                "CREATE CONSTRAINT TRIGGER served_refuse_at_commit AFTER INSERT ON organisations "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION served_refuse_at_commit()"
            )
        )
    try:
        async with deployment.server.client(staff.token) as client:
            answers = await asyncio.gather(
                *(
                    client.post("/api/v1/organisations", json=org_payload(name=f"fails-at-commit {n}"))
                    for n in range(20)
                )
            )
            fine = await client.post("/api/v1/organisations", json=org_payload(name="提交正常的互助会"))
        assert fine.status_code == 201
        for answer in answers:
            assert answer.status_code == 409, answer.text[:300]
            assert answer.json()["error"]["code"] == "conflict"
            assert answer.json()["error"]["message"]
        async with deployment.session() as session:
            stored = (
                await session.execute(
                    select(func.count())
                    .select_from(Organisation)
                    .where(Organisation.name.like("fails-at-commit%"))
                )
            ).scalar_one()
        assert stored == 0
        assert await deployment.audit_problems() == []
    finally:
        async with deployment.session() as session:
            await session.execute(text("DROP TRIGGER served_refuse_at_commit ON organisations"))
