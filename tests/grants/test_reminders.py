"""Scheduled reminders of the grants domain: who hears, with what text, and only once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.identity.models import Role
from core.notifications import Channel, Notification, deliveries_of
from grants import jobs
from grants.applications import service as applications
from grants.applications.schemas import ApplicationCreate
from grants.awards import reviews
from grants.awards import service as awards
from grants.awards.schemas import ProgressReportIn, SignIn
from grants.disbursements import service as disbursements
from tests.factories import make_centre, make_user
from tests.grants.factories import (
    applicant_org,
    application_payload,
    make_award,
    make_cast,
    open_programme,
    submitted_application,
)


async def _notes(session: AsyncSession, kind: str) -> list[Notification]:
    rows = await session.execute(
        select(Notification).where(Notification.kind == kind).order_by(Notification.id)
    )
    return list(rows.scalars())


async def test_deadline_reminds_members_with_unfinished_applications_once(session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff, name="2026年玉林街道社区公益创投")
    later = await open_programme(
        session,
        staff,
        name="2026年社区微公益",
        closes_at=(programme.closes_at + dt.timedelta(days=20)).isoformat(),
    )
    drafter, drafting_org = await applicant_org(session, centre, staff)
    submitter, submitting_org = await applicant_org(session, centre, staff, name="芳华青少年服务中心")
    other, other_org = await applicant_org(session, centre, staff, name="乐龄文体协会")
    await applications.create_application(
        session,
        drafter.principal,
        ApplicationCreate.model_validate(application_payload(programme, drafting_org, title="长者助餐计划")),
    )
    await submitted_application(session, programme, submitter, submitting_org)
    await applications.create_application(
        session,
        other.principal,
        ApplicationCreate.model_validate(application_payload(later, other_org, title="文体活动")),
    )

    too_early = programme.closes_at - dt.timedelta(days=5)
    assert await jobs.remind_application_deadlines(session, too_early) == []

    now = programme.closes_at - dt.timedelta(days=2)
    assert await jobs.remind_application_deadlines(session, now, channels=[Channel.email]) == [
        drafter.user.id
    ]
    [note] = await _notes(session, jobs.KIND_DEADLINE)
    assert note.user_id == drafter.user.id
    assert note.title == "申报即将截止：2026年玉林街道社区公益创投"
    assert "尚未提交：长者助餐计划" in note.body
    assert note.link == f"/applications?programme_id={programme.id}"
    [delivery] = await deliveries_of(session, [note.id])
    assert delivery.channel is Channel.email

    assert await jobs.remind_application_deadlines(session, now + dt.timedelta(hours=12)) == []
    assert len(await _notes(session, jobs.KIND_DEADLINE)) == 1


async def test_deadline_after_close_reminds_nobody(session: AsyncSession) -> None:
    centre = await make_centre(session)
    staff = await make_user(session, centre, Role.staff)
    programme = await open_programme(session, staff)
    drafter, org = await applicant_org(session, centre, staff)
    await applications.create_application(
        session, drafter.principal, ApplicationCreate.model_validate(application_payload(programme, org))
    )
    assert await jobs.remind_application_deadlines(session, programme.closes_at + dt.timedelta(hours=1)) == []


async def test_progress_report_due_after_ninety_days_without_report(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, title="长者助餐互助计划")
    unsigned = await make_award(session, cast, title="未签约项目")
    await awards.sign_award(
        session, cast.staff.principal, award.id, SignIn(signed_on=today() - dt.timedelta(days=100))
    )
    now = dt.datetime.now(dt.UTC)

    assert await jobs.remind_progress_reports(session, now) == [cast.grantee.user.id]
    [note] = await _notes(session, jobs.KIND_PROGRESS_REPORT)
    assert note.title == "进度报告待提交：长者助餐互助计划"
    assert "以来未提交进度报告" in note.body
    assert note.link == f"/awards/{award.id}"
    assert all(n.link != f"/awards/{unsigned.id}" for n in await _notes(session, jobs.KIND_PROGRESS_REPORT))

    assert await jobs.remind_progress_reports(session, now + dt.timedelta(days=1)) == []

    await reviews.submit_progress_report(
        session,
        cast.grantee.principal,
        award.id,
        ProgressReportIn(period="2026年第三季度", narrative="已开展助餐服务800人次。"),
    )
    assert await jobs.remind_progress_reports(session, now + dt.timedelta(days=30)) == []
    assert await jobs.remind_progress_reports(session, now + dt.timedelta(days=91)) == [cast.grantee.user.id]
    assert len(await _notes(session, jobs.KIND_PROGRESS_REPORT)) == 2


async def test_recently_signed_award_needs_no_report_yet(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast)
    await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    assert await jobs.remind_progress_reports(session, dt.datetime.now(dt.UTC)) == []


async def test_waiting_tranches_digest_goes_to_staff_once_a_day(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, title="长者助餐互助计划")
    await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    now = dt.datetime.now(dt.UTC)

    assert await jobs.remind_waiting_tranches(session, now + dt.timedelta(days=3)) == []

    later = now + dt.timedelta(days=8)
    staff_ids = sorted([cast.staff.user.id, cast.both.user.id])
    assert await jobs.remind_waiting_tranches(session, later) == staff_ids
    notes = await _notes(session, jobs.KIND_TRANCHES_WAITING)
    assert {n.user_id for n in notes} == set(staff_ids)
    assert notes[0].title == "1 笔到期拨款尚未申请拨付"
    assert "长者助餐互助计划，第 1 笔：50,000.00 元" in notes[0].body
    assert "超过 7 天" in notes[0].body

    assert await jobs.remind_waiting_tranches(session, later + dt.timedelta(minutes=5)) == []
    assert await jobs.remind_waiting_tranches(session, later + dt.timedelta(days=1)) == staff_ids
    assert cast.finance.user.id not in {n.user_id for n in await _notes(session, jobs.KIND_TRANCHES_WAITING)}


async def test_requested_tranche_is_not_waiting(session: AsyncSession) -> None:
    from grants.disbursements.schemas import DisbursementCreate

    cast = await make_cast(session)
    award = await make_award(session, cast)
    signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    first = signed.tranches[0]
    await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=first.id)
    )
    assert await jobs.remind_waiting_tranches(session, dt.datetime.now(dt.UTC) + dt.timedelta(days=8)) == []
