"""Every list endpoint runs a fixed number of SQL statements, whatever the list's length.

Each case fills a list with 2 records, counts the statements of one GET, adds 18 more and
counts again: the two counts must be equal (no N+1) and small. New list endpoints add a
``Case`` with a function that adds records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from core import notifications
from core.identity.models import Centre, Role
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import AssignmentCreate
from evaluations.rounds import service as round_service
from evaluations.rounds.schemas import RoundCreate, SubjectCreate
from evaluations.rubrics.models import RoundPurpose
from grants.applications import service as applications
from grants.applications.models import Objection
from grants.applications.schemas import ApplicationCreate
from grants.awards import service as awards
from grants.awards.models import Award
from grants.awards.schemas import SignIn
from grants.contracts import service as contracts
from grants.contracts.schemas import ContractIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate
from grants.programmes import service as programmes
from grants.programmes.schemas import NeedIn, ProgrammeCreate
from incubator import service as incubator
from incubator.schemas import ActivityCreate, StayCreate
from reports import service as reports
from reports.briefing import KIND_CODE
from reports.models import GeneratedReport, Generator, ScopeType
from reports.registry import register_report_kinds
from reports.schemas import ScheduleCreate
from tests.conftest import TestDatabase
from tests.evaluations.factories import make_rubric, no_members
from tests.factories import Actor, make_centre, make_user
from tests.grants.factories import (
    Cast,
    application_payload,
    contract_payload,
    make_award,
    make_programme,
    open_programme,
    programme_payload,
)
from tests.incubator.helpers import make_org

MAX_STATEMENTS = 16  # auth (3) + count + page + the eager loads of the richest list
register_report_kinds()
HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(HARNESS):
            self.statements.append(statement)


@pytest.fixture
def sql_counter(database: TestDatabase) -> Iterator[StatementCounter]:
    """Counts the SQL statements the engine runs (the test harness's savepoints aside)."""
    counter = StatementCounter()
    event.listen(database.engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", counter)


@dataclass
class Scene:
    centre: Centre
    staff: Actor
    admin: Actor
    finance: Actor
    applicant: Actor
    evaluator: Actor
    extra: dict[str, Any]


Adder = Callable[[AsyncSession, Scene, int], Awaitable[None]]


async def add_orgs(session: AsyncSession, scene: Scene, n: int) -> None:
    for _ in range(n):
        await make_org(session, scene.staff)


async def add_stays(session: AsyncSession, scene: Scene, n: int) -> None:
    for _ in range(n):
        org = await make_org(session, scene.staff)
        await incubator.create_stay(
            session, scene.staff.principal, StayCreate(organisation_id=org.id, applied_on=dt.date(2026, 3, 1))
        )


async def add_activities(session: AsyncSession, scene: Scene, n: int) -> None:
    org = scene.extra.get("org") or await make_org(session, scene.staff)
    scene.extra["org"] = org
    for i in range(n):
        await incubator.add_activity(
            session,
            scene.staff.principal,
            ActivityCreate(
                organisation_id=org.id,
                kind="training",
                held_on=dt.date(2026, 3, 1) + dt.timedelta(days=i),
                hours=Decimal("2.0"),
                topic="培训",
                given_by="王老师",
            ),
        )


async def add_rubrics(session: AsyncSession, scene: Scene, n: int) -> None:
    for _ in range(n):
        await make_rubric(session, scene.staff)


async def _round(session: AsyncSession, scene: Scene) -> Any:
    if "round" not in scene.extra:
        rubric = await make_rubric(session, scene.staff)
        scene.extra["round"] = await round_service.create_round(
            session,
            scene.staff.principal,
            RoundCreate(
                name="评审轮次",
                purpose=RoundPurpose.application_review,
                rubric_version_id=rubric.versions[0].id,
                min_sheets_per_subject=1,
            ),
        )
        scene.extra["rubric"] = rubric
    return scene.extra["round"]


async def add_rounds(session: AsyncSession, scene: Scene, n: int) -> None:
    await _round(session, scene)
    for _ in range(n):
        await round_service.create_round(
            session,
            scene.staff.principal,
            RoundCreate(
                name="评审轮次",
                purpose=RoundPurpose.application_review,
                rubric_version_id=scene.extra["rubric"].versions[0].id,
            ),
        )


async def add_assignments(session: AsyncSession, scene: Scene, n: int) -> None:
    review_round = await _round(session, scene)
    start = scene.extra.get("subjects", 0)
    for i in range(start, start + n):
        subject = await round_service.add_subject(
            session,
            scene.staff.principal,
            review_round.id,
            SubjectCreate(subject_type="application", subject_id=i + 1, title=f"项目{i}"),
        )
        await assignment_service.assign(
            session,
            scene.staff.principal,
            review_round.id,
            AssignmentCreate(subject_id=subject.id, evaluator_id=scene.evaluator.user.id),
            no_members,
        )
    scene.extra["subjects"] = start + n


async def add_notifications(session: AsyncSession, scene: Scene, n: int) -> None:
    for i in range(n):
        await notifications.remind(session, [scene.applicant.user.id], "test", f"通知{i}", "正文")


async def add_reports(session: AsyncSession, scene: Scene, n: int) -> None:
    start = scene.extra.get("reports", 0)
    for i in range(start, start + n):
        session.add(
            GeneratedReport(
                centre_id=scene.centre.id,
                kind=KIND_CODE,
                scope_type=ScopeType.centre,
                scope_id=scene.centre.id,
                period=f"2025-{i % 12 + 1:02d}",
                version=i + 1,
                title="月度简报",
                generator=Generator.user,
                size=100,
                sha256="0" * 64,
                storage_key=f"test/{scene.centre.id}/{i}.pdf",
            )
        )
    scene.extra["reports"] = start + n
    await session.flush()


async def add_schedules(session: AsyncSession, scene: Scene, n: int) -> None:
    for i in range(n):
        await reports.create_schedule(
            session, scene.staff.principal, ScheduleCreate(kind=KIND_CODE, cron=f"{i} 8 1 * *")
        )


async def add_users(session: AsyncSession, scene: Scene, n: int) -> None:
    for _ in range(n):
        await make_user(session, scene.centre, Role.evaluator)


async def add_programmes(session: AsyncSession, scene: Scene, n: int) -> None:
    for _ in range(n):
        await programmes.create_programme(
            session, scene.staff.principal, ProgrammeCreate.model_validate(programme_payload(None))
        )


async def add_applications(session: AsyncSession, scene: Scene, n: int) -> None:
    if "programme" not in scene.extra:
        scene.extra["programme"] = await open_programme(session, scene.staff)
    for _ in range(n):
        org = await make_org(session, scene.staff, owner=scene.applicant)
        await applications.create_application(
            session,
            scene.applicant.principal,
            ApplicationCreate.model_validate(application_payload(scene.extra["programme"], org)),
        )


async def _award(session: AsyncSession, scene: Scene) -> Award:
    """An award of its own organisation (the money factories' programme, shared)."""
    if "money_programme" not in scene.extra:
        scene.extra["money_programme"] = await make_programme(session, scene.centre)
    org = await make_org(session, scene.staff, owner=scene.applicant)
    staff = scene.staff
    cast = Cast(scene.centre, staff, staff, staff, staff, scene.applicant, org)
    return await make_award(
        session, cast, amount=Decimal("1000.00"), programme=scene.extra["money_programme"]
    )


async def add_awards(session: AsyncSession, scene: Scene, n: int) -> None:
    for _ in range(n):
        await _award(session, scene)


async def add_disbursements(session: AsyncSession, scene: Scene, n: int) -> None:
    for _ in range(n):
        award = await _award(session, scene)
        signed = await awards.sign_award(
            session, scene.staff.principal, award.id, SignIn(signed_on=dt.date(2026, 3, 1))
        )
        await disbursements.request_disbursement(
            session, scene.staff.principal, DisbursementCreate(tranche_id=signed.tranches[0].id)
        )


async def add_contracts(session: AsyncSession, scene: Scene, n: int) -> None:
    org = scene.extra.get("org") or await make_org(session, scene.staff)
    scene.extra["org"] = org
    for _ in range(n):
        await contracts.create_contract(
            session, scene.staff.principal, ContractIn.model_validate(contract_payload(org.id))
        )


async def add_objections(session: AsyncSession, scene: Scene, n: int) -> None:
    if "objected" not in scene.extra:
        scene.extra["objected"] = await _award(session, scene)
    for i in range(n):
        session.add(
            Objection(
                centre_id=scene.centre.id,
                application_id=scene.extra["objected"].application_id,
                content=f"异议内容{i}",
            )
        )
    await session.flush()


async def add_needs(session: AsyncSession, scene: Scene, n: int) -> None:
    for i in range(n):
        await programmes.record_need(
            session,
            scene.staff.principal,
            NeedIn(community="玉林北路社区", description=f"需求{i}", source="入户走访"),
        )


@dataclass(frozen=True)
class Case:
    path: str
    role: str
    add: Adder

    def __str__(self) -> str:
        return self.path


def _round_path(scene: Scene) -> str:
    return f"/api/v1/review-rounds/{scene.extra['round'].id}/assignments"


CASES = [
    Case("/api/v1/organisations", "staff", add_orgs),
    Case("/api/v1/incubation-stays", "staff", add_stays),
    Case("/api/v1/support-activities", "staff", add_activities),
    Case("/api/v1/rubrics", "staff", add_rubrics),
    Case("/api/v1/review-rounds", "staff", add_rounds),
    Case("/api/v1/assignments", "evaluator", add_assignments),
    Case("{round}/assignments", "staff", add_assignments),
    Case("/api/v1/notifications", "applicant", add_notifications),
    Case("/api/v1/reports", "staff", add_reports),
    Case("/api/v1/report-schedules", "staff", add_schedules),
    Case("/api/v1/audit-events", "staff", add_orgs),
    Case("/api/v1/users", "admin", add_users),
    Case("/organisations", "staff", add_orgs),  # the page, with its filters and stage labels
    Case("/evaluations", "evaluator", add_assignments),
    Case("/api/v1/programmes", "staff", add_programmes),
    Case("/api/v1/applications", "staff", add_applications),
    Case("/api/v1/applications", "applicant", add_applications),  # filtered to their organisations
    Case("/api/v1/awards", "staff", add_awards),
    Case("/api/v1/awards", "applicant", add_awards),
    Case("/api/v1/disbursements", "staff", add_disbursements),
    Case("/api/v1/contracts", "staff", add_contracts),
    Case("/api/v1/objections", "staff", add_objections),
    Case("/api/v1/needs", "staff", add_needs),
    Case("/programmes", "staff", add_programmes),
    Case("/applications", "staff", add_applications),
    Case("/awards", "staff", add_awards),
    Case("/contracts", "staff", add_contracts),
    Case("/finance", "finance", add_disbursements),
    Case("/objections", "staff", add_objections),
]


async def _count(
    client: httpx.AsyncClient, counter: StatementCounter, scene: Scene, case: Case
) -> tuple[int, list[str]]:
    actor: Actor = getattr(scene, case.role)
    path = _round_path(scene) if case.path.startswith("{round}") else case.path
    if path.startswith("/api/"):
        counter.statements.clear()
        response = await client.get(path, params={"page_size": 200}, headers=actor.headers)
    else:
        client.cookies.set("seedbed_session", await _session_cookie(client, actor))
        counter.statements.clear()
        response = await client.get(path)
        client.cookies.clear()
    assert response.status_code == 200, response.text[:300]
    return len(counter.statements), list(counter.statements)


async def _session_cookie(client: httpx.AsyncClient, actor: Actor) -> str:
    from core.identity import service as identity
    from core.identity.models import TokenKind

    session: AsyncSession = client._proof_session  # type: ignore[attr-defined]
    token = await identity.issue_token(session, actor.user, TokenKind.session, 60)
    await session.flush()
    return token


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_list_statements_do_not_grow_with_the_list(
    client: httpx.AsyncClient, session: AsyncSession, sql_counter: StatementCounter, case: Case
) -> None:
    client._proof_session = session  # type: ignore[attr-defined]
    centre = await make_centre(session)
    scene = Scene(
        centre=centre,
        staff=await make_user(session, centre, Role.staff),
        admin=await make_user(session, centre, Role.admin),
        finance=await make_user(session, centre, Role.finance),
        applicant=await make_user(session, centre, Role.applicant),
        evaluator=await make_user(session, centre, Role.evaluator),
        extra={},
    )
    await case.add(session, scene, 2)
    await session.flush()
    small, _ = await _count(client, sql_counter, scene, case)
    await case.add(session, scene, 18)
    await session.flush()
    large, statements = await _count(client, sql_counter, scene, case)
    assert large == small, f"{case.path}: {small} statements for 2 records, {large} for 20:\n" + "\n".join(
        s[:160] for s in statements
    )
    assert large <= MAX_STATEMENTS, "\n".join(s[:160] for s in statements)
