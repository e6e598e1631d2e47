"""A small populated world for the proof tests: two centres, one user per role, records of every kind.

Every route of the app is called against these records. When a domain lands new routes,
add the records they need here (one field on ``World``) and the path parameters they
take to ``PATH_PARAMS`` in ``test_permission_matrix``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core import notifications
from core.identity.models import Centre, Role
from evaluations import service as evaluations
from evaluations.models import Assignment, ReviewRound, RoundPurpose, RoundSubject, Rubric
from evaluations.schemas import AssignmentCreate, DeclarationIn, RoundCreate, SubjectCreate
from incubator import service as incubator
from incubator.models import IncubationStay, MemberRole, Organisation, OrganisationMember, SupportActivity
from incubator.schemas import ActivityCreate, StayCreate
from reports.briefing import KIND_CODE
from tests.evaluations.factories import make_rubric, no_members
from tests.factories import Actor, make_centre, make_user
from tests.incubator.helpers import make_org

ROLES = ("anon", "applicant_a", "applicant_b", "staff", "finance", "evaluator", "admin", "other_staff")
"""The callers every route is tried with. ``other_staff`` is staff of the second centre."""


@dataclass
class World:
    centre: Centre
    other_centre: Centre
    actors: dict[str, Actor]
    member: Actor
    org_a: Organisation
    org_b: Organisation
    stay: IncubationStay
    activity: SupportActivity
    invitation_token: str
    rubric: Rubric
    rubric_version_id: int
    review_round: ReviewRound
    subject: RoundSubject
    assignment: Assignment
    jury_code: str
    notification_id: int
    report_id: int = 0
    schedule_id: int = 0
    audit_event_id: int = 0
    extra: dict[str, int] = field(default_factory=dict)


async def build_world(session: AsyncSession) -> World:
    centre = await make_centre(session)
    other_centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    actors = {
        "applicant_a": await make_user(session, centre, Role.applicant),
        "applicant_b": await make_user(session, centre, Role.applicant),
        "staff": staff,
        "finance": await make_user(session, centre, Role.finance),
        "evaluator": await make_user(session, centre, Role.evaluator),
        "admin": await make_user(session, centre, Role.admin),
        "other_staff": await make_user(session, other_centre, Role.staff),
    }
    member = await make_user(session, centre, Role.applicant)
    org_a = await make_org(session, staff, owner=actors["applicant_a"], name="甲社区互助会")
    org_b = await make_org(session, staff, owner=actors["applicant_b"], name="乙社区志愿队")
    session.add(OrganisationMember(organisation_id=org_a.id, user_id=member.user.id, role=MemberRole.member))
    await session.flush()
    stay = await incubator.create_stay(
        session, staff.principal, StayCreate(organisation_id=org_a.id, applied_on=dt.date(2026, 3, 1))
    )
    activity = await incubator.add_activity(
        session,
        staff.principal,
        ActivityCreate(
            organisation_id=org_a.id,
            kind="training",
            held_on=dt.date(2026, 3, 5),
            hours=Decimal("2.5"),
            topic="财务制度培训",
            given_by="王老师",
            participants=12,
        ),
    )
    _invitation, token = await incubator.invite_member(
        session, actors["applicant_a"].principal, org_a.id, "newcomer@example.org"
    )
    rubric = await make_rubric(session, staff)
    version_id = rubric.versions[0].id
    review_round = await evaluations.create_round(
        session,
        staff.principal,
        RoundCreate(
            name="2026年公益创投评审",
            purpose=RoundPurpose.application_review,
            rubric_version_id=version_id,
            min_sheets_per_subject=1,
            expert_weight=70,
            public_weight=30,
        ),
    )
    subject = await evaluations.add_subject(
        session,
        staff.principal,
        review_round.id,
        SubjectCreate(
            subject_type="application",
            subject_id=1,
            organisation_id=org_b.id,
            category="为老服务",
            title="长者助餐",
            requested_amount=Decimal("50000.00"),
        ),
    )
    evaluator = actors["evaluator"]
    assignment = await evaluations.assign(
        session,
        staff.principal,
        review_round.id,
        AssignmentCreate(subject_id=subject.id, evaluator_id=evaluator.user.id),
        no_members,
    )
    await evaluations.declare(session, evaluator.principal, assignment.id, DeclarationIn(has_conflict=False))
    codes = await evaluations.issue_jury_codes(session, staff.principal, review_round.id, subject.id, 3)
    notes = await notifications.remind(
        session, [actors["applicant_a"].user.id], "test", "材料待补充", "请补充年度报告。"
    )
    await session.flush()
    return World(
        centre=centre,
        other_centre=other_centre,
        actors=actors,
        member=member,
        org_a=org_a,
        org_b=org_b,
        stay=stay,
        activity=activity,
        invitation_token=token,
        rubric=rubric,
        rubric_version_id=version_id,
        review_round=review_round,
        subject=subject,
        assignment=assignment,
        jury_code=codes[0],
        notification_id=notes[0].id,
    )


async def add_http_records(world: World, client: httpx.AsyncClient) -> None:
    """Records made through the API (they need the app's report output): a report, a schedule."""
    staff = world.actors["staff"]
    report = await client.post(
        "/api/v1/reports", json={"kind": KIND_CODE, "period": "2026-03"}, headers=staff.headers
    )
    assert report.status_code == 201, report.text
    world.report_id = report.json()["id"]
    schedule = await client.post(
        "/api/v1/report-schedules", json={"kind": KIND_CODE, "cron": "0 8 1 * *"}, headers=staff.headers
    )
    assert schedule.status_code == 201, schedule.text
    world.schedule_id = schedule.json()["id"]
    events = await client.get("/api/v1/audit-events", params={"page_size": 1}, headers=staff.headers)
    world.audit_event_id = events.json()["items"][0]["id"]
