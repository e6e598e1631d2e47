"""A server killed with SIGKILL in the middle of a burst of writes (issue: trust as deployed, 9).

Every write the server acknowledged is stored; nothing is half-stored (a record without its
audit event, or an audit event without its record); the audit chain verifies; and the
server restarted on the same database serves again.
"""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest
from sqlalchemy import select

from core.audit import AuditEvent
from core.identity.models import Role
from incubator.models import Organisation
from tests.conftest import drop_pg_database, migrated_pg_database
from tests.factories import make_centre, make_user
from tests.incubator.helpers import org_payload
from tests.served.conftest import Deployment, start_server

pytestmark = pytest.mark.postgres_only

CLIENTS = 16


async def test_kill_9_during_a_burst_loses_no_acknowledged_write(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    url = await migrated_pg_database("seedbed_crash")
    root = tmp_path_factory.mktemp("crash")
    server = await asyncio.to_thread(start_server, url, root)
    deployment = Deployment(server, url)
    try:
        async with deployment.session() as session:
            centre = await make_centre(session)
            staff = await make_user(session, centre, Role.staff)
        acknowledged: set[str] = set()
        attempted: set[str] = set()
        stop = asyncio.Event()

        async with server.client(staff.token, max_connections=CLIENTS) as client:

            async def writer(n: int) -> None:
                serial = 0
                while not stop.is_set():
                    name = f"崩溃测试互助会-{n:02d}-{serial:05d}"
                    serial += 1
                    attempted.add(name)
                    try:
                        answer = await client.post("/api/v1/organisations", json=org_payload(name=name))
                    except httpx.HTTPError:
                        return  # the server is gone: this write was never acknowledged
                    if answer.status_code == 201:
                        acknowledged.add(name)

            writers = [asyncio.create_task(writer(n)) for n in range(CLIENTS)]
            while len(acknowledged) < 100:
                await asyncio.sleep(0.05)
            server.kill(signal.SIGKILL)
            stop.set()
            await asyncio.gather(*writers)

        assert len(acknowledged) >= 100
        async with deployment.session() as session:
            rows = await session.execute(
                select(Organisation.name, Organisation.id).where(Organisation.centre_id == centre.id)
            )
            stored: dict[str, int] = {row.name: row.id for row in rows}
            audited = set(
                (
                    await session.execute(
                        select(AuditEvent.subject_id).where(
                            AuditEvent.action == "organisation.create", AuditEvent.centre_id == centre.id
                        )
                    )
                )
                .scalars()
                .all()
            )
        assert acknowledged <= set(stored), "an acknowledged write was lost"
        assert set(stored) <= attempted
        assert {str(organisation_id) for organisation_id in stored.values()} == audited, "half-stored"
        assert await deployment.audit_problems() == []

        restarted = await asyncio.to_thread(start_server, url, root)
        try:
            async with restarted.client(staff.token) as client:
                again = await client.post("/api/v1/organisations", json=org_payload(name="重启后的互助会"))
                assert again.status_code == 201, again.text
        finally:
            restarted.kill(signal.SIGTERM)
    finally:
        server.kill()
        await drop_pg_database(url)
