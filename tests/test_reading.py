"""Routes marked ``reads_only`` read without a transaction of their own and cannot write;
the scoped statements of the hot reads are built once per scope."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import CurrentPrincipal, SessionDep
from api.routing import Router, is_reading, reads_only
from core.db import WriteInReadingSession, reading_session_factory
from core.identity.models import Centre, Role
from core.identity.schemas import CentreCreate
from core.identity.service import create_centre
from grants.applications.repository import ApplicationRepository
from incubator.repository import OrganisationRepository
from tests.conftest import TestDatabase
from tests.factories import make_centre, make_user
from tests.grants.factories import applicant_org, open_programme, submitted_application
from tests.incubator.helpers import make_owner

HOT_READS = [
    "/api/v1/organisations",
    "/api/v1/organisations/{organisation_id:int}",
    "/api/v1/applications",
    "/api/v1/applications/{application_id:int}",
    "/api/v1/review-rounds/{round_id:int}/progress",
    "/api/v1/review-rounds/{round_id:int}/results",
    "/api/v1/awards",
    "/api/v1/awards/{award_id:int}",
    "/api/v1/disbursements",
    "/api/v1/disbursements/{disbursement_id:int}",
    "/api/v1/contracts",
    "/api/v1/contracts/{contract_id:int}",
    "/applications",
    "/applications/{application_id:int}",
]


def _routes(app: FastAPI) -> list[Any]:
    routers = (getattr(r, "original_router", None) for r in app.router.routes)
    return [route for router in routers if router is not None for route in router.routes]


def test_the_hot_reads_are_marked_and_only_reads_are(app: FastAPI) -> None:
    reading = [route for route in _routes(app) if is_reading({"endpoint": route.endpoint})]
    paths = {route.path for route in reading}
    assert paths >= set(HOT_READS), set(HOT_READS) - paths
    assert {method for route in reading for method in route.methods} <= {"GET", "HEAD"}


async def test_a_reading_route_that_writes_is_refused_and_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    router = Router()

    @router.get("/api/v1/test-reading-writes")
    @reads_only
    async def writes(session: SessionDep, principal: CurrentPrincipal) -> dict[str, int]:
        centre = await create_centre(
            session, CentreCreate(slug="written-by-a-read", name="不该写入"), actor=None
        )
        return {"id": centre.id}

    app.include_router(router)
    with pytest.raises(WriteInReadingSession):
        await client.get("/api/v1/test-reading-writes", headers=staff.headers)
    count = select(func.count()).select_from(Centre).where(Centre.slug == "written-by-a-read")
    assert (await session.execute(count)).scalar_one() == 0


async def test_a_reading_route_still_answers_who_is_asking(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    response = await client.get("/api/v1/organisations", headers=staff.headers)
    assert response.status_code == 200
    assert (await client.get("/api/v1/organisations")).status_code == 401
    applicant = await make_user(session, centre, Role.applicant)
    assert (
        await client.get("/api/v1/review-rounds/1/progress", headers=applicant.headers)
    ).status_code == 403


async def test_on_postgresql_each_read_runs_on_its_own_without_begin(database: TestDatabase) -> None:
    """In a transaction every statement sees the transaction's start time; in the reading
    session each statement is a transaction of its own, so the time moves on."""
    if database.backend != "postgresql":
        pytest.skip("transactions and their timestamps are PostgreSQL's")
    started = select(func.transaction_timestamp())
    pause = select(func.pg_sleep(0.02))

    async def two_starts(session: AsyncSession) -> tuple[Any, Any]:
        first = (await session.execute(started)).scalar()
        await session.execute(pause)
        return first, (await session.execute(started)).scalar()

    async with reading_session_factory(database.engine)() as reading:
        first, second = await two_starts(reading)
    assert second > first
    async with AsyncSession(database.engine) as ordinary:
        first, second = await two_starts(ordinary)
        await ordinary.rollback()
    assert second == first


async def test_statements_built_once_are_kept_per_scope_and_never_shared_across_it(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A scoped statement is built once for a repository state and reused; another centre's
    staff, or an applicant of another organisation, gets a statement of its own, and asking
    for the same record after someone who may read it still finds nothing."""
    centre, other_centre = await make_centre(session), await make_centre(session)
    staff, other_staff = (
        await make_user(session, centre, Role.staff),
        await make_user(session, other_centre, Role.staff),
    )
    owner, organisation = await make_owner(session, centre, staff)
    stranger, _theirs = await make_owner(session, centre, staff)

    mine = OrganisationRepository(session, staff.principal)
    assert mine.built(mine.select) is OrganisationRepository(session, staff.principal).built(mine.select)
    others = OrganisationRepository(session, other_staff.principal)
    assert others.built(others.select) is not mine.built(mine.select)
    applications = ApplicationRepository(session, owner.principal, [organisation.id], None)
    same = ApplicationRepository(session, owner.principal, [organisation.id], None)
    other = ApplicationRepository(session, owner.principal, [organisation.id + 1], None)
    assert applications.built(applications.select) is same.built(same.select)
    assert applications.built(applications.select) is not other.built(other.select)

    path = f"/api/v1/organisations/{organisation.id}"
    for reader, status in [(staff, 200), (other_staff, 404), (owner, 200), (stranger, 404), (staff, 200)]:
        assert (await client.get(path, headers=reader.headers)).status_code == status, reader.user.email


async def test_the_organisation_list_answers_each_record_as_its_page_does(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The list reads rows of columns, the record reads the organisation: both answer the
    same document for each organisation, ``verified`` included."""
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    _owner, verified = await make_owner(session, centre, staff, name="已核实互助会")
    await make_owner(session, centre, staff, name="未核实互助会")
    assert (
        await client.post(f"/api/v1/organisations/{verified.id}/verify", headers=staff.headers)
    ).is_success
    listed = (await client.get("/api/v1/organisations", headers=staff.headers)).json()
    assert listed["total"] == 2
    for item in listed["items"]:
        record = await client.get(f"/api/v1/organisations/{item['id']}", headers=staff.headers)
        assert item == record.json()
    assert sorted(item["verified"] for item in listed["items"]) == [False, True]


async def test_the_application_list_answers_what_each_record_says(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The list reads rows of a few columns; each item says what the application's record says,
    for staff and for the applicant, filtered as asked."""
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    owner, organisation = await applicant_org(session, centre, staff)
    for title in ("社区老人助餐", "青少年议事会"):
        await submitted_application(session, programme, owner, organisation, title=title)
    for reader in (staff, owner):
        listed = await client.get(
            f"/api/v1/applications?programme_id={programme.id}&state=submitted", headers=reader.headers
        )
        items = listed.json()["items"]
        assert sorted(item["title"] for item in items) == ["社区老人助餐", "青少年议事会"]
        for item in items:
            record = (await client.get(f"/api/v1/applications/{item['id']}", headers=reader.headers)).json()
            assert item == {key: record[key] for key in item}
    other = await make_user(session, centre, Role.applicant)
    assert (await client.get("/api/v1/applications", headers=other.headers)).json()["items"] == []
