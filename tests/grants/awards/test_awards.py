"""Awards: tranche arithmetic, due triggers, rectification, termination, reports and claims."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pydantic
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity.models import Role
from core.money import MoneyError
from core.notifications import Notification
from grants.applications.models import Indicator
from grants.awards import execution as award_execution_module
from grants.awards import repository as award_queries
from grants.awards import reviews
from grants.awards import service as awards
from grants.awards.models import AwardDocument, AwardState, Clawback, DocumentKind, ReviewState, TrancheState
from grants.awards.schedule import tranches_for
from grants.awards.schemas import (
    CloseIn,
    ExpenseClaimIn,
    ProgressActualIn,
    ProgressReportIn,
    RectifyIn,
    ReviewIn,
    SignIn,
    TerminateIn,
)
from grants.disbursements import service as disbursements
from grants.disbursements.schemas import DisbursementCreate, PayIn
from grants.programmes.models import TranchePlanRow, TrancheTrigger
from incubator.models import Organisation
from tests.factories import make_centre, make_user
from tests.grants.factories import Cast, make_award, make_cast

AWKWARD = Decimal("33333.33")


def test_tranches_add_up_for_awkward_amounts() -> None:
    rows = [
        TranchePlanRow(seq=1, share_pct=Decimal("50"), trigger=TrancheTrigger.on_signing),
        TranchePlanRow(seq=2, share_pct=Decimal("30"), trigger=TrancheTrigger.midterm_passed),
        TranchePlanRow(seq=3, share_pct=Decimal("20"), trigger=TrancheTrigger.final_passed),
    ]
    tranches = tranches_for(AWKWARD, rows)
    assert [t.amount for t in tranches] == [Decimal("16666.66"), Decimal("10000.00"), Decimal("6666.67")]
    assert sum(t.amount for t in tranches) == AWKWARD
    thirds = [
        TranchePlanRow(seq=i, share_pct=s, trigger=TrancheTrigger.on_signing)
        for i, s in enumerate([Decimal("33.33"), Decimal("33.33"), Decimal("33.34")], 1)
    ]
    for amount in (Decimal("0.03"), Decimal("0.05"), Decimal("100000.01"), Decimal("99999.99")):
        parts = [t.amount for t in tranches_for(amount, thirds)]
        assert sum(parts) == amount
        assert all(p >= Decimal("0.01") for p in parts)  # no tranche of nothing (CHECK amount > 0)
    with pytest.raises(MoneyError):
        tranches_for(Decimal("0.02"), thirds)  # two fen cannot make three payments


async def _signed(session: AsyncSession, cast: Cast, amount: Decimal = AWKWARD) -> int:
    award = await make_award(session, cast, amount=amount)
    await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    return award.id


async def test_signing_makes_the_first_tranche_due_and_tells_finance(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast, amount=AWKWARD)
    assert all(t.state is TrancheState.planned for t in award.tranches)
    signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    assert [t.state for t in signed.tranches] == [
        TrancheState.due,
        TrancheState.planned,
        TrancheState.planned,
    ]
    assert signed.signed_on == today()
    notes = (
        (await session.execute(select(Notification).where(Notification.kind == "tranche_due")))
        .scalars()
        .all()
    )
    assert {n.user_id for n in notes} == {cast.finance.user.id, cast.finance2.user.id, cast.both.user.id}
    assert "16,666.66" in notes[0].body
    with pytest.raises(Conflict, match="已签订"):
        await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))


async def test_signing_with_the_signed_copy(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast)
    other = await make_award(session, cast, title="另一个项目")
    from core.files import StoredFile

    stored = StoredFile(
        centre_id=cast.centre.id,
        sha256="a" * 64,
        size=10,
        content_type="application/pdf",
        original_name="协议.pdf",
        storage_key="a" * 64,
    )
    session.add(stored)
    await session.flush()
    doc = AwardDocument(award_id=other.id, file_id=stored.id, kind=DocumentKind.agreement)
    session.add(doc)
    await session.flush()
    with pytest.raises(ValidationFailed) as wrong:
        await awards.sign_award(
            session, cast.staff.principal, award.id, SignIn(signed_on=today(), document_id=doc.id)
        )
    assert wrong.value.details[0].field == "document_id"
    own = AwardDocument(award_id=award.id, file_id=stored.id, kind=DocumentKind.agreement)
    session.add(own)
    await session.flush()
    await awards.sign_award(
        session, cast.staff.principal, award.id, SignIn(signed_on=today(), document_id=own.id)
    )
    context = await awards.award_context(
        session, await awards.get_award(session, cast.staff.principal, award.id)
    )
    assert context["agreement_document_id"] == own.id


async def test_evaluation_outcomes_drive_tranches(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award_id = await _signed(session, cast)
    staff = cast.staff.principal
    award = await awards.record_evaluation_outcome(session, staff, award_id, "midterm", "good", Decimal("85"))
    assert [t.state for t in award.tranches][1] is TrancheState.due
    award = await awards.record_evaluation_outcome(session, staff, award_id, "final", "pass", Decimal("60"))
    assert award.tranches[2].state is TrancheState.due


async def test_outcome_before_signing_waits_for_the_agreement(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast)
    await awards.record_evaluation_outcome(
        session, cast.staff.principal, award.id, "midterm", "pass", Decimal("70")
    )
    assert all(t.state is TrancheState.planned for t in award.tranches)
    signed = await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))
    assert [t.state for t in signed.tranches][:2] == [TrancheState.due, TrancheState.due]


async def test_failed_evaluation_rectification_then_pass(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award_id = await _signed(session, cast)
    staff = cast.staff.principal
    award = await awards.record_evaluation_outcome(session, staff, award_id, "midterm", "fail", Decimal("52"))
    assert award.state is AwardState.rectification
    rect = await award_queries.open_rectification(session, award_id)
    assert rect is not None
    assert rect.deadline == today() + dt.timedelta(days=30)
    assert award.tranches[1].state is TrancheState.planned
    # payments are suspended during rectification
    allowed, reason = disbursements.can_request_tranche(award, award.tranches[0])
    assert not allowed
    assert "整改" in reason
    with pytest.raises(Conflict, match="整改"):
        await disbursements.request_disbursement(
            session, staff, DisbursementCreate(tranche_id=award.tranches[0].id)
        )
    # staff set a new deadline; then the re-evaluation passes
    award = await awards.rectify(
        session, staff, award_id, RectifyIn(deadline=today() + dt.timedelta(days=10), reason="补充服务台账")
    )
    rect = await award_queries.open_rectification(session, award_id)
    assert rect is not None
    assert rect.deadline == today() + dt.timedelta(days=10)
    award = await awards.record_evaluation_outcome(session, staff, award_id, "midterm", "pass", Decimal("68"))
    assert award.state is AwardState.active
    assert await award_queries.open_rectification(session, award_id) is None
    assert award.tranches[1].state is TrancheState.due
    with pytest.raises(ValidationFailed):
        await awards.rectify(
            session, staff, award_id, RectifyIn(deadline=today() - dt.timedelta(days=1), reason="过期")
        )


async def _pay_tranche(session: AsyncSession, cast: Cast, tranche_id: int) -> None:
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=tranche_id)
    )
    await disbursements.approve(session, cast.finance.principal, d.id)
    await disbursements.pay(
        session,
        cast.finance2.principal,
        d.id,
        PayIn(voucher_no=f"记-{d.id}", paid_on=today(), amount=d.amount),
    )


async def _receipt(session: AsyncSession, award_id: int, centre_id: int) -> int:
    from core.files import StoredFile

    stored = StoredFile(
        centre_id=centre_id,
        sha256="b" * 64,
        size=10,
        content_type="image/jpeg",
        original_name="发票.jpg",
        storage_key="b" * 64,
    )
    session.add(stored)
    await session.flush()
    doc = AwardDocument(award_id=award_id, file_id=stored.id, kind=DocumentKind.receipt)
    session.add(doc)
    await session.flush()
    return doc.id


async def test_termination_records_unspent_funds_and_bars(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award_id = await _signed(session, cast, Decimal("100000.00"))
    award = await awards.get_award(session, cast.staff.principal, award_id)
    await _pay_tranche(session, cast, award.tranches[0].id)  # 50,000 paid
    receipt = await _receipt(session, award_id, cast.centre.id)
    claim = await reviews.submit_expense_claim(
        session,
        cast.grantee.principal,
        award_id,
        ExpenseClaimIn(
            category="activities",
            item="助餐食材",
            amount=Decimal("12000.50"),
            spent_on=today(),
            receipt_ids=[receipt],
        ),
    )
    await reviews.review_expense_claim(
        session, cast.staff.principal, award_id, claim.id, ReviewIn(approve=True)
    )
    await awards.record_evaluation_outcome(
        session, cast.staff.principal, award_id, "midterm", "fail", Decimal("41")
    )
    bar = today() + dt.timedelta(days=365)
    award = await awards.terminate(
        session, cast.staff.principal, award_id, TerminateIn(reason="整改期满仍未达标", bar_until=bar)
    )
    assert award.state is AwardState.terminated
    assert [t.state for t in award.tranches] == [
        TrancheState.paid,
        TrancheState.cancelled,
        TrancheState.cancelled,
    ]
    clawback = (await session.execute(select(Clawback).where(Clawback.award_id == award_id))).scalar_one()
    assert clawback.paid == Decimal("50000.00")
    assert clawback.spent == Decimal("12000.50")
    assert clawback.amount == Decimal("37999.50")
    org = await session.get(Organisation, cast.org.id, populate_existing=True)
    assert org is not None
    assert org.barred_until == bar
    execution = await award_execution_module.award_execution(session, award)
    assert (execution.granted, execution.paid, execution.spent, execution.returned, execution.due) == (
        Decimal("100000.00"),
        Decimal("50000.00"),
        Decimal("12000.50"),
        Decimal("37999.50"),
        Decimal("0.00"),
    )
    with pytest.raises(Conflict):
        await awards.terminate(session, cast.staff.principal, award_id, TerminateIn(reason="再次终止"))


async def test_termination_waits_for_open_disbursements(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award_id = await _signed(session, cast)
    award = await awards.get_award(session, cast.staff.principal, award_id)
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
    )
    with pytest.raises(Conflict, match=f"#{d.id}"):
        await awards.terminate(session, cast.staff.principal, award_id, TerminateIn(reason="违规使用资金"))


async def test_close_needs_everything_paid_and_a_passed_final(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award_id = await _signed(session, cast, Decimal("30000.00"))
    staff = cast.staff.principal
    with pytest.raises(Conflict, match="第 1 笔"):
        await awards.close(session, staff, award_id, CloseIn())
    await awards.record_evaluation_outcome(session, staff, award_id, "midterm", "excellent", Decimal("93"))
    await awards.record_evaluation_outcome(session, staff, award_id, "final", "good", Decimal("88"))
    award = await awards.get_award(session, staff, award_id)
    for tranche in award.tranches:
        await _pay_tranche(session, cast, tranche.id)
    assert await award_queries.completed_projects(session, cast.org.id) == 0
    award = await awards.close(session, staff, award_id, CloseIn(note="项目顺利结项"))
    assert award.state is AwardState.completed
    assert award.paid == Decimal("30000.00")
    assert await award_queries.completed_projects(session, cast.org.id) == 1


async def test_progress_report_return_and_resubmit(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award_id = await _signed(session, cast)
    award = await awards.get_award(session, cast.staff.principal, award_id)
    indicators = (
        (await session.execute(select(Indicator).where(Indicator.application_id == award.application_id)))
        .scalars()
        .all()
    )
    data = ProgressReportIn(
        period="2026年第二季度",
        narrative="已开展助餐服务 600 人次。",
        actuals=[ProgressActualIn(indicator_id=indicators[0].id, actual=Decimal("600"))],
    )
    with pytest.raises(Forbidden):
        await reviews.submit_progress_report(session, cast.staff.principal, award_id, data)
    report = await reviews.submit_progress_report(session, cast.grantee.principal, award_id, data)
    assert report.state is ReviewState.submitted
    assert report.actuals[0].actual == Decimal("600")
    with pytest.raises(pydantic.ValidationError):
        ReviewIn(approve=False, comment="")
    returned = await reviews.review_progress_report(
        session,
        cast.staff.principal,
        award_id,
        report.id,
        ReviewIn(approve=False, comment="请补充满意度数据"),
    )
    assert returned.state is ReviewState.returned
    again = await reviews.resubmit_progress_report(
        session,
        cast.grantee.principal,
        award_id,
        report.id,
        ProgressReportIn(
            period="2026年第二季度",
            narrative="已开展助餐服务 600 人次，满意度 93%。",
            actuals=[
                ProgressActualIn(indicator_id=i.id, actual=v)
                for i, v in zip(indicators, [Decimal(600), Decimal(93)], strict=True)
            ],
        ),
    )
    assert (again.state, again.version, len(again.actuals)) == (ReviewState.submitted, 2, 2)
    approved = await reviews.review_progress_report(
        session, cast.staff.principal, award_id, report.id, ReviewIn(approve=True)
    )
    assert approved.state is ReviewState.approved
    # an indicator of another project is refused
    other = await make_award(session, cast, title="别的项目")
    foreign = (
        (await session.execute(select(Indicator).where(Indicator.application_id == other.application_id)))
        .scalars()
        .first()
    )
    assert foreign is not None
    with pytest.raises(ValidationFailed):
        await reviews.submit_progress_report(
            session,
            cast.grantee.principal,
            award_id,
            ProgressReportIn(
                period="Q3",
                narrative="说明",
                actuals=[ProgressActualIn(indicator_id=foreign.id, actual=Decimal(1))],
            ),
        )


async def test_expense_claims_cannot_exceed_the_award(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award_id = await _signed(session, cast, Decimal("1000.00"))
    receipt = await _receipt(session, award_id, cast.centre.id)
    claim = await reviews.submit_expense_claim(
        session,
        cast.grantee.principal,
        award_id,
        ExpenseClaimIn(
            category="materials",
            item="宣传册",
            amount=Decimal("1000.01"),
            spent_on=today(),
            receipt_ids=[receipt],
        ),
    )
    with pytest.raises(Conflict, match="超过"):
        await reviews.review_expense_claim(
            session, cast.staff.principal, award_id, claim.id, ReviewIn(approve=True)
        )
    returned = await reviews.review_expense_claim(
        session, cast.staff.principal, award_id, claim.id, ReviewIn(approve=False, comment="金额与发票不符")
    )
    fixed = await reviews.resubmit_expense_claim(
        session,
        cast.grantee.principal,
        award_id,
        returned.id,
        ExpenseClaimIn(
            category="materials",
            item="宣传册",
            amount=Decimal("980.00"),
            spent_on=today(),
            receipt_ids=[receipt],
        ),
    )
    assert (fixed.state, fixed.version, fixed.amount) == (ReviewState.submitted, 2, Decimal("980.00"))
    assert [r.document_id for r in fixed.receipts] == [receipt]


async def test_a_returned_claim_comes_back_under_the_rules_of_a_new_one(session: AsyncSession) -> None:
    """A resubmitted claim cannot move its spending into the future, as a new claim cannot."""
    cast = await make_cast(session)
    award_id = await _signed(session, cast, Decimal("1000.00"))
    receipt = await _receipt(session, award_id, cast.centre.id)

    def claim_on(day: dt.date) -> ExpenseClaimIn:
        return ExpenseClaimIn(
            category="materials", item="宣传册", amount=Decimal("300.00"), spent_on=day, receipt_ids=[receipt]
        )

    claim = await reviews.submit_expense_claim(session, cast.grantee.principal, award_id, claim_on(today()))
    await reviews.review_expense_claim(
        session, cast.staff.principal, award_id, claim.id, ReviewIn(approve=False, comment="请补充发票")
    )
    tomorrow = today() + dt.timedelta(days=1)
    with pytest.raises(ValidationFailed) as refused:
        await reviews.resubmit_expense_claim(
            session, cast.grantee.principal, award_id, claim.id, claim_on(tomorrow)
        )
    assert [d.field for d in refused.value.details] == ["spent_on"]
    kept = await reviews.resubmit_expense_claim(
        session, cast.grantee.principal, award_id, claim.id, claim_on(today())
    )
    assert (kept.state, kept.version) == (ReviewState.submitted, 2)


async def test_other_centres_and_other_organisations_see_nothing(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await make_award(session, cast)
    stranger = await make_user(session, await make_centre(session))
    with pytest.raises(NotFound):
        await awards.get_award(session, stranger.principal, award.id)
    outsider = await make_user(session, cast.centre, Role.applicant)
    with pytest.raises(NotFound):
        await awards.get_award(session, outsider.principal, award.id)
    seen = await awards.get_award(session, cast.grantee.principal, award.id)
    assert seen.id == award.id
