"""At a district's size no page loads a whole table to show a page of it.

A centre of thousands of organisations (inserted in bulk) is read through the pages whose
choosers and lists used to load every organisation: each request's statements and the rows
they bring back are counted, and must be the same as in a centre of a few organisations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import service as identity
from core.identity.models import Role, TokenKind
from core.repository.listing import CHOICES
from incubator.models import LegalStatus, Organisation, OrganisationKind
from tests.conftest import TestDatabase
from tests.factories import Actor, make_centre, make_user
from tests.grants.factories import application_payload, open_programme
from tests.incubator.helpers import make_org

LARGE = 3000
HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


@dataclass(eq=False)
class RowCounter:
    """Statements run and rows they returned (the async drivers' cursors hold their rows
    once executed)."""

    statements: int = 0
    rows: int = 0
    largest: list[tuple[int, str]] = field(default_factory=list)

    def __call__(self, _conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(HARNESS):
            return
        self.statements += 1
        fetched = len(getattr(cursor, "_rows", ()) or ())
        self.rows += fetched
        self.largest.append((fetched, statement[:200]))

    def reset(self) -> None:
        self.statements, self.rows, self.largest = 0, 0, []

    def report(self) -> str:
        return "\n".join(f"{n:6d} rows: {s}" for n, s in sorted(self.largest, reverse=True)[:5])


@pytest.fixture
def row_counter(database: TestDatabase) -> Iterator[RowCounter]:
    counter = RowCounter()
    event.listen(database.engine.sync_engine, "after_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(database.engine.sync_engine, "after_cursor_execute", counter)


async def _add_organisations(session: AsyncSession, centre_id: int, n: int, start: int) -> None:
    await session.execute(
        insert(Organisation),
        [
            {
                "centre_id": centre_id,
                "name": f"批量社会组织{i:05d}",
                "kind": OrganisationKind.community_group,
                "legal_status": LegalStatus.filed,
                "service_fields": [],
            }
            for i in range(start, start + n)
        ],
    )


async def _cookie(session: AsyncSession, actor: Actor) -> str:
    token = await identity.issue_token(session, actor.user, TokenKind.session, 60)
    await session.flush()
    return token


PAGES = ["/applications", "/contracts/new", "/reports", "/report-schedules", "/sites/new"]


async def _measure(
    client: httpx.AsyncClient, session: AsyncSession, counter: RowCounter, staff: Actor, path: str
) -> tuple[int, int, str]:
    client.cookies.set("seedbed_session", await _cookie(session, staff))
    counter.reset()
    response = await client.get(path)
    client.cookies.clear()
    assert response.status_code == 200, response.text[:300]
    return counter.statements, counter.rows, response.text


async def test_pages_read_the_same_rows_in_a_small_and_a_large_centre(
    client: httpx.AsyncClient, session: AsyncSession, row_counter: RowCounter
) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    applicant = await make_user(session, centre, Role.applicant)
    programme = await open_programme(session, staff)
    from grants.applications import service as applications
    from grants.applications.schemas import ApplicationCreate

    for _ in range(3):
        org = await make_org(session, staff, owner=applicant)
        await applications.create_application(
            session,
            applicant.principal,
            ApplicationCreate.model_validate(application_payload(programme, org)),
        )
    await _add_organisations(session, centre.id, 5, 0)
    await session.flush()
    small = {path: await _measure(client, session, row_counter, staff, path) for path in PAGES}

    await _add_organisations(session, centre.id, LARGE, 5)
    await session.flush()
    for path in PAGES:
        statements, rows, body = await _measure(client, session, row_counter, staff, path)
        small_statements, small_rows, _body = small[path]
        assert statements == small_statements, (
            f"{path}: {small_statements} → {statements}\n{row_counter.report()}"
        )
        # at most one page of matches per chooser more than the small centre's few
        assert rows <= small_rows + 2 * CHOICES, f"{path}: {small_rows} rows → {rows}\n{row_counter.report()}"
        assert body.count("批量社会组织") <= 2 * CHOICES, path


async def test_the_last_organisation_of_a_large_centre_can_be_chosen_as_provider(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """The provider chooser searches on the server: the 3,000th organisation is found by name."""
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    await _add_organisations(session, centre.id, LARGE, 0)
    await session.flush()
    last = f"批量社会组织{LARGE - 1:05d}"
    client.cookies.set("seedbed_session", await _cookie(session, staff))
    response = await client.get("/choosers/organisations", params={"q": last})
    assert response.status_code == 200, response.text
    found = response.json()
    assert [item["label"] for item in found["items"]] == [last]
    page = await client.get("/contracts/new", params={"provider_id_q": last})
    assert page.status_code == 200
    assert f">{last}</option>" in page.text


async def test_a_chooser_finds_only_what_the_caller_sees(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Another centre's staff, and an applicant, search the same name and find none of them."""
    centre, other = await make_centre(session), await make_centre(session)
    await _add_organisations(session, centre.id, 30, 0)
    owner = await make_user(session, centre, Role.applicant)
    staff = await make_user(session, centre, Role.staff)
    mine = await make_org(session, staff, owner=owner, name="申请人自己的组织")
    await session.flush()
    searches = {}
    for actor in (await make_user(session, other, Role.staff), owner, staff):
        client.cookies.set("seedbed_session", await _cookie(session, actor))
        response = await client.get("/choosers/organisations", params={"q": "组织"})
        client.cookies.clear()
        assert response.status_code == 200, response.text
        searches[actor.user.id] = [item["id"] for item in response.json()["items"]]
    others_staff, applicant, own_staff = searches.values()
    assert others_staff == []
    assert applicant == [mine.id]
    assert len(own_staff) == 31


async def test_list_pages_join_names_to_their_page_not_to_the_whole_centre(
    client: httpx.AsyncClient, session: AsyncSession, database: TestDatabase
) -> None:
    """A filtered list of hundreds of applications in a centre of thousands of organisations:
    PostgreSQL plans every statement of the page without reading the whole organisations
    table (the names are joined to the fifty rows shown, after the cut), and the page still
    shows each application with its organisation's name."""
    if database.backend != "postgresql":
        pytest.skip("the plans are PostgreSQL's")
    from grants.applications.models import Application, ApplicationState

    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    await _add_organisations(session, centre.id, LARGE, 0)
    await session.flush()
    organisation_ids = list(
        (
            await session.execute(
                select(Organisation.id).where(Organisation.centre_id == centre.id).order_by(Organisation.id)
            )
        ).scalars()
    )
    await session.execute(
        insert(Application),
        [
            {
                "centre_id": centre.id,
                "programme_id": programme.id,
                "organisation_id": organisation_ids[(i * 7) % len(organisation_ids)],
                "state": ApplicationState.submitted,
                "title": f"批量项目{i:04d}",
                "activities": [],
            }
            for i in range(400)
        ],
    )
    await session.execute(text("ANALYZE organisations"))
    await session.execute(text("ANALYZE applications"))

    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    client.cookies.set("seedbed_session", await _cookie(session, staff))
    event.listen(database.engine.sync_engine, "before_cursor_execute", capture)
    try:
        response = await client.get(f"/applications?programme_id={programme.id}&state=submitted")
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", capture)
    assert response.status_code == 200, response.text[:300]
    assert response.text.count("<tr data-application=") == 50
    newest = response.text.split("批量项目0399</a>", 1)[1].split("</tr>", 1)[0]
    assert f"<td>批量社会组织{399 * 7 % LARGE:05d}</td>" in newest  # its organisation's name
    connection = await session.connection()
    scanned: set[str] = set()
    for statement, parameters in captured:
        plan = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
        scanned.update(line.split(" on ")[1].split()[0] for (line,) in plan if "Seq Scan on " in line)
    assert "organisations" not in scanned, scanned
