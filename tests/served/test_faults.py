"""No 500 under contention or timeouts (issue: trust as deployed, 3).

A table held by another transaction's lock made every write wait for the 5 s statement
timeout and answer 500. Now a lock wait gives up early (``lock_timeout``) and answers 409
"busy, retry" with ``Retry-After``; a statement that runs past the timeout answers 503 with
``Retry-After``; both in the one error shape and the user's language, nothing stored.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select, text

from core.identity.models import Role
from incubator.models import Organisation
from tests.factories import make_centre, make_user
from tests.incubator.helpers import org_payload
from tests.served.conftest import Deployment

pytestmark = pytest.mark.postgres_only


async def test_a_write_to_a_locked_table_answers_busy_before_the_statement_timeout(
    deployment: Deployment,
) -> None:
    async with deployment.session() as session:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
    async with deployment.session() as holder:
        await holder.execute(text("LOCK TABLE organisations IN ACCESS EXCLUSIVE MODE"))
        async with deployment.server.client(staff.token) as client:
            started = time.monotonic()
            answers = await asyncio.gather(
                *(
                    client.post("/api/v1/organisations", json=org_payload(name=f"锁表测试{n}"))
                    for n in range(8)
                )
            )
            elapsed = time.monotonic() - started
        await holder.rollback()
    for answer in answers:
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["code"] == "busy"
        assert "稍后重试" in answer.json()["error"]["message"]
        assert int(answer.headers["Retry-After"]) >= 1
    assert elapsed < 5 * 2, "answered by the lock timeout, not after queueing on the statement timeout"
    async with deployment.session() as session:
        stored = await session.execute(
            select(func.count()).select_from(Organisation).where(Organisation.name.like("锁表测试%"))
        )
        assert stored.scalar_one() == 0


async def test_a_statement_past_the_timeout_answers_503_with_retry_after(deployment: Deployment) -> None:
    async with deployment.session() as session:
        centre = await make_centre(session)
        staff = await make_user(session, centre, Role.staff)
        await session.execute(
            text(
                """
                CREATE OR REPLACE FUNCTION served_slow_insert() RETURNS trigger AS $$
                BEGIN
                    IF NEW.name LIKE 'slow-insert%' THEN PERFORM pg_sleep(8); END IF;
                    RETURN NEW;
                END $$ LANGUAGE plpgsql
                """
            )
        )
        await session.execute(
            text(
                "CREATE TRIGGER served_slow_insert BEFORE INSERT ON organisations "
                "FOR EACH ROW EXECUTE FUNCTION served_slow_insert()"
            )
        )
    try:
        async with deployment.server.client(staff.token, headers={"Accept-Language": "en"}) as client:
            answer = await client.post("/api/v1/organisations", json=org_payload(name="slow-insert 1"))
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"]["code"] == "unavailable"
        assert "try again" in answer.json()["error"]["message"]
        assert int(answer.headers["Retry-After"]) >= 1
    finally:
        async with deployment.session() as session:
            await session.execute(text("DROP TRIGGER served_slow_insert ON organisations"))
