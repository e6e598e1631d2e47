"""The applicant hears of every status change of their application and award: one
notification per change for each owner of the organisation (not for other members), with a
link that opens the application or project; a newer one marks the earlier ones done."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from core.notifications import Notification
from grants.applications import publicity, review
from grants.applications import service as applications
from grants.applications.models import ApplicationState
from grants.applications.schemas import CheckDecision, ConfirmEligibility, DecideIn, DecisionRow
from grants.awards import reviews
from grants.awards import service as awards
from grants.awards.schemas import ProgressReportIn, ReviewIn, SignIn, TerminateIn
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate, PayIn
from incubator.models import MemberRole, OrganisationMember
from tests.factories import Actor, make_centre, make_user
from tests.grants.factories import applicant_org, open_programme, run_review, submitted_application
from tests.test_pages import page_login


class Inbox:
    """What one person has been told so far, read step by step."""

    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.seen = 0

    async def new(self) -> list[Notification]:
        rows = (
            (
                await self.session.execute(
                    select(Notification)
                    .where(Notification.user_id == self.actor.user.id)
                    .order_by(Notification.id)
                )
            )
            .scalars()
            .all()
        )
        fresh = list(rows[self.seen :])
        self.seen = len(rows)
        return fresh

    async def one(self, kind: str, link: str, *words: str) -> Notification:
        fresh = await self.new()
        assert [(n.kind, n.link) for n in fresh] == [(kind, link)], [(n.kind, n.title) for n in fresh]
        for word in words:
            assert word in fresh[0].title + fresh[0].body, (word, fresh[0].title, fresh[0].body)
        return fresh[0]


async def test_every_status_change_reaches_the_owners_once(session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    finance = await make_user(session, centre, Role.finance)
    evaluators = [await make_user(session, centre, Role.evaluator) for _ in range(3)]
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff)
    co_owner = await make_user(session, centre, Role.applicant)
    member = await make_user(session, centre, Role.applicant)
    session.add_all(
        [
            OrganisationMember(organisation_id=org.id, user_id=co_owner.user.id, role=MemberRole.owner),
            OrganisationMember(organisation_id=org.id, user_id=member.user.id, role=MemberRole.member),
        ]
    )
    await session.flush()
    told, also_told = Inbox(session, owner), Inbox(session, co_owner)
    not_told = [Inbox(session, member), Inbox(session, staff)]

    application = await submitted_application(session, programme, owner, org)
    link = f"/applications/{application.id}"
    assert await told.new() == []  # their own act: nothing to tell

    await applications.return_application(session, staff.principal, application.id, "预算说明不清楚")
    note = await told.one("application.return", link, "退回修改", "预算说明不清楚")
    await also_told.one("application.return", link)
    await applications.submit_application(session, owner.principal, application.id)
    assert await told.new() == []

    await applications.confirm_eligibility(session, staff.principal, application.id, ConfirmEligibility())
    await told.one("application.confirm_eligibility", link, "通过资格审查")
    await session.refresh(note)
    assert note.done_at is not None  # the return was dealt with: a newer notice says more

    await run_review(session, staff, evaluators, programme.id, {application.id: [85, 88, 90]})
    await told.new()  # review results are the centre's business until the decision
    await review.decide(
        session,
        staff.principal,
        programme.id,
        DecideIn(decisions=[DecisionRow(application_id=application.id, approve=True, reason="评审通过")]),
    )
    await told.one("application.decide", link, "已立项", "20,000.00")
    await publicity.publicise(
        session, staff.principal, programme.id, starts_on=dt.date(2026, 9, 30), on=dt.date(2026, 9, 30)
    )
    await told.one("application.publicise", link, "正在公示", "2026-09-30")
    (award,) = await publicity.finalise_publicity(session, dt.date(2026, 10, 13))
    await told.one("application.award", link, "已获资助")

    award_link = f"/awards/{award.id}"
    signed = await awards.sign_award(
        session, staff.principal, award.id, SignIn(signed_on=dt.date(2026, 10, 20))
    )
    fresh = await told.new()
    assert sorted((n.kind, n.link) for n in fresh) == [
        ("award.sign", award_link),
        ("award.tranche_due", award_link),
    ]
    assert "10,000.00" in next(n.body for n in fresh if n.kind == "award.tranche_due")
    first = next(t for t in signed.tranches if t.seq == 1)
    requested = await disbursements.request_disbursement(
        session, staff.principal, DisbursementCreate(tranche_id=first.id)
    )
    await disbursements.approve(session, finance.principal, requested.id)
    assert await told.new() == []  # asking and approving are the centre's steps
    await disbursements.pay(
        session,
        finance.principal,
        requested.id,
        PayIn(voucher_no="记-2026-1021", paid_on=dt.date(2026, 10, 21), amount=Decimal("10000.00")),
    )
    await told.one("award.paid", award_link, "已拨付", "10,000.00")

    report = await reviews.submit_progress_report(
        session,
        owner.principal,
        award.id,
        ProgressReportIn(period="2026年第四季度", narrative="已开展探访120人次"),
    )
    await told.new()
    await reviews.review_progress_report(
        session, staff.principal, award.id, report.id, ReviewIn(approve=False, comment="请补充活动照片")
    )
    await told.one("award.progress_report_returned", award_link, "进度报告被退回", "请补充活动照片")
    await awards.terminate(session, staff.principal, award.id, TerminateIn(reason="项目负责人离职，无法继续"))
    await told.one("award.terminate", award_link, "已终止")

    for inbox in not_told:
        assert [n.kind for n in await inbox.new() if n.kind.startswith(("application.", "award."))] == []


async def test_ineligible_and_rejected_say_why(session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff)
    application = await submitted_application(session, programme, owner, org)
    told = Inbox(session, owner)
    await told.new()
    check = application.checks[0]
    await applications.confirm_eligibility(
        session,
        staff.principal,
        application.id,
        ConfirmEligibility(decisions=[CheckDecision(code=check.code, passed=False, reason="章程未备案")]),
    )
    assert application.state is ApplicationState.ineligible
    await told.one("application.confirm_eligibility", f"/applications/{application.id}", "未通过资格审查")


async def test_the_list_says_what_each_link_opens_and_what_is_done(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    owner, org = await applicant_org(session, centre, staff)
    application = await submitted_application(session, programme, owner, org)
    await applications.return_application(session, staff.principal, application.id, "预算说明不清楚")
    await applications.submit_application(session, owner.principal, application.id)
    await applications.confirm_eligibility(session, staff.principal, application.id, ConfirmEligibility())
    await page_login(client, owner.user.email)
    page = await client.get("/notifications")
    assert page.text.count("打开申报书") == 2
    assert page.text.count("data-done") == 1  # the return, superseded by the eligibility notice
