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
from core.clock import today
from core.identity.models import Centre, Role
from evaluations.assignments import service as assignment_service
from evaluations.assignments.models import Assignment
from evaluations.assignments.schemas import AssignmentCreate, DeclarationIn
from evaluations.jury import service as jury_service
from evaluations.rounds import service as round_service
from evaluations.rounds.models import ReviewRound, RoundSubject
from evaluations.rounds.schemas import RoundCreate, SubjectCreate
from evaluations.rubrics.models import RoundPurpose, Rubric
from grants.applications import publicity, review
from grants.applications import service as applications
from grants.applications.models import Application, Objection
from grants.applications.schemas import (
    ApplicationCreate,
    ConfirmEligibility,
    DecideIn,
    DecisionRow,
    ObjectionIn,
)
from grants.awards import reviews
from grants.awards import service as awards
from grants.awards.models import Award, ProgressReport
from grants.awards.schemas import ProgressReportIn, SignIn
from grants.contracts import service as contracts
from grants.contracts.models import Contract
from grants.contracts.schemas import ContractIn
from grants.disbursements import service as disbursements
from grants.disbursements.models import Disbursement
from grants.disbursements.schemas import DisbursementCreate
from grants.programmes import service as programmes
from grants.programmes.calendar import WorkingCalendar, enter_year
from grants.programmes.models import CommunityNeed, Programme
from grants.programmes.schemas import NeedIn, TopicIn
from incubator import service as incubator
from incubator.models import IncubationStay, MemberRole, Organisation, OrganisationMember, SupportActivity
from incubator.schemas import ActivityCreate, StayCreate
from reports.briefing import KIND_CODE
from tests.evaluations.factories import make_rubric, no_members
from tests.factories import Actor, make_centre, make_user
from tests.grants.factories import application_payload, contract_payload, open_programme, run_review
from tests.incubator.helpers import make_org

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

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
    grants: Grants
    report_id: int = 0
    schedule_id: int = 0
    audit_event_id: int = 0
    attachment_id: int = 0
    document_id: int = 0
    claim_id: int = 0
    extra: dict[str, int] = field(default_factory=dict)


@dataclass
class Grants:
    """Centre 1's grant cycle: an open call, and a call taken through review to an award of org A."""

    open_programme: Programme
    topic_id: int
    need: CommunityNeed
    draft_a: Application  # org A's draft in the open call
    submitted_b: Application  # org B's submitted application in the open call
    awarded_programme: Programme
    in_publicity_b: Application  # org B's approved application, in publicity today, objected to
    objection: Objection
    award: Award  # org A's award: signed, first tranche requested
    tranche_id: int
    disbursement: Disbursement
    progress_report: ProgressReport
    contract: Contract
    milestone_id: int


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
    review_round = await round_service.create_round(
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
    subject = await round_service.add_subject(
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
    assignment = await assignment_service.assign(
        session,
        staff.principal,
        review_round.id,
        AssignmentCreate(subject_id=subject.id, evaluator_id=evaluator.user.id),
        no_members,
    )
    await assignment_service.declare(
        session, evaluator.principal, assignment.id, DeclarationIn(has_conflict=False)
    )
    codes = await jury_service.issue_jury_codes(session, staff.principal, review_round.id, subject.id, 3)
    notes = await notifications.remind(
        session, [actors["applicant_a"].user.id], "test", "材料待补充", "请补充年度报告。"
    )
    await session.flush()
    grant_cycle = await build_grants(session, centre, staff, actors, org_a, org_b)
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
        grants=grant_cycle,
    )


async def build_grants(
    session: AsyncSession,
    centre: Centre,
    staff: Actor,
    actors: dict[str, Actor],
    org_a: Organisation,
    org_b: Organisation,
) -> Grants:
    """Through the services, as the people would: calls, applications, review, award, money."""
    owner_a, owner_b = actors["applicant_a"], actors["applicant_b"]
    for org in (org_a, org_b):
        await incubator.verify_organisation(session, staff.principal, org.id)
    need = await programmes.record_need(
        session,
        staff.principal,
        NeedIn(community="玉林北路社区", description="独居长者缺少陪伴", source="入户走访"),
    )
    call = await open_programme(session, staff, name="2027年社区微创投", min_reviewers=1)
    topic = await programmes.add_topic(
        session, staff.principal, call.id, TopicIn(title="独居长者陪伴", need_id=need.id)
    )
    draft_a = await _application(session, call, owner_a, org_a, submit=False)
    submitted_b = await _application(session, call, owner_b, org_b, submit=True)

    funded = await open_programme(session, staff, min_reviewers=1)
    funded_a = await _application(session, funded, owner_a, org_a, submit=True)
    funded_b = await _application(session, funded, owner_b, org_b, submit=True, title="“乐龄同行”助餐项目")
    for application in (funded_a, funded_b):
        await applications.confirm_eligibility(session, staff.principal, application.id, ConfirmEligibility())
    reviewer = await make_user(session, centre, Role.evaluator)
    await run_review(session, staff, [reviewer], funded.id, {funded_a.id: [88], funded_b.id: [82]})
    await review.decide(
        session,
        staff.principal,
        funded.id,
        DecideIn(
            decisions=[
                DecisionRow(application_id=a.id, approve=True, reason="评审通过")
                for a in (funded_a, funded_b)
            ]
        ),
    )
    # Publicity counts working days: from late December it runs into a year the calendar
    # package may not know yet, so the world has its admin's entry (New Year's Day).
    known = await WorkingCalendar.load(session)
    for year in (today().year, today().year + 1):
        if not known.knows(year):
            await enter_year(session, year, [dt.date(year, 1, 1)], [], {})
    await publicity.publicise(session, staff.principal, funded.id, starts_on=today())
    objection = await publicity.lodge_objection(
        session,
        ObjectionIn(application_id=funded_b.id, content="该组织成立时间不足一年", name="居民"),
        on=today(),
    )
    # B's open objection holds it in publicity; A's ends (as if the period were over) in an award
    (award,) = await publicity.finalise_publicity(
        session, today() + dt.timedelta(days=30), programme_id=funded.id
    )
    signed = await awards.sign_award(session, staff.principal, award.id, SignIn(signed_on=today()))
    tranche = signed.tranches[0]
    disbursement = await disbursements.request_disbursement(
        session, staff.principal, DisbursementCreate(tranche_id=tranche.id)
    )
    report = await reviews.submit_progress_report(
        session,
        owner_a.principal,
        award.id,
        ProgressReportIn(period="2026年第三季度", narrative="已开展入户探访120人次。"),
    )
    contract = await contracts.create_contract(
        session, staff.principal, ContractIn.model_validate(contract_payload(org_a.id))
    )
    return Grants(
        open_programme=call,
        topic_id=topic.id,
        need=need,
        draft_a=draft_a,
        submitted_b=submitted_b,
        awarded_programme=funded,
        in_publicity_b=funded_b,
        objection=objection,
        award=signed,
        tranche_id=tranche.id,
        disbursement=disbursement,
        progress_report=report,
        contract=contract,
        milestone_id=contract.milestones[0].id,
    )


async def _application(
    session: AsyncSession,
    programme: Programme,
    owner: Actor,
    org: Organisation,
    *,
    submit: bool,
    title: str = "“银龄互助”社区长者关爱项目",
) -> Application:
    application = await applications.create_application(
        session,
        owner.principal,
        ApplicationCreate.model_validate(application_payload(programme, org, title=title)),
    )
    if submit:
        await applications.submit_application(session, owner.principal, application.id)
    return application


async def add_http_records(world: World, client: httpx.AsyncClient) -> None:
    """Records made through the API (they need the app's file store and report output): a report, a
    schedule, an attachment, a receipt and an expense claim."""
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
    owner = world.actors["applicant_a"]
    attachment = await client.post(
        f"/api/v1/applications/{world.grants.draft_a.id}/attachments",
        files={"file": ("budget.pdf", PDF, "application/pdf")},
        data={"label": "预算说明"},
        headers=owner.headers,
    )
    assert attachment.status_code == 201, attachment.text
    world.attachment_id = attachment.json()["id"]
    award_id = world.grants.award.id
    receipt = await client.post(
        f"/api/v1/awards/{award_id}/documents",
        files={"file": ("receipt.pdf", PDF, "application/pdf")},
        data={"kind": "receipt", "label": "茶话会发票"},
        headers=owner.headers,
    )
    assert receipt.status_code == 201, receipt.text
    world.document_id = receipt.json()["id"]
    claim = await client.post(
        f"/api/v1/awards/{award_id}/expense-claims",
        json={
            "category": "activities",
            "item": "长者茶话会",
            "amount": "1200.00",
            "spent_on": today().isoformat(),
            "receipt_ids": [world.document_id],
        },
        headers=owner.headers,
    )
    assert claim.status_code == 201, claim.text
    world.claim_id = claim.json()["id"]
    events = await client.get("/api/v1/audit-events", params={"page_size": 1}, headers=staff.headers)
    world.audit_event_id = events.json()["items"][0]["id"]
