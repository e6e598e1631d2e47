"""Progress reports (with indicator actuals) and expense claims (with receipts): the grantee
submits, staff approve or return with comments, the grantee resubmits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _
from core.identity.principal import Principal
from core.money import format_money
from grants.access import require_staff
from grants.applications import repository as application_queries
from grants.awards import repository as queries
from grants.awards.models import (
    Award,
    AwardState,
    ExpenseClaim,
    ExpenseReceipt,
    IndicatorActual,
    ProgressReport,
    ReviewState,
)
from grants.awards.repository import (
    claims_of,
    reports_of,
    spent_on_award,
)
from grants.awards.schemas import (
    ExpenseClaimIn,
    ProgressReportIn,
    ReviewIn,
)
from grants.awards.service import get_award, own_document, record_event, require_grantee


def _require_open(award: Award) -> None:
    if award.state not in (AwardState.active, AwardState.rectification):
        raise Conflict(_("The award is closed"))


async def _actuals(session: AsyncSession, award: Award, data: ProgressReportIn) -> list[IndicatorActual]:
    known = set(await application_queries.indicator_ids(session, award.application_id))
    seen: set[int] = set()
    actuals = []
    for row in data.actuals:
        if row.indicator_id not in known:
            raise ValidationFailed.field("actuals", _("An indicator does not belong to this project"))
        if row.indicator_id in seen:
            raise ValidationFailed.field("actuals", _("Each indicator may be reported once"))
        seen.add(row.indicator_id)
        actuals.append(IndicatorActual(indicator_id=row.indicator_id, actual=row.actual, note=row.note))
    return actuals


async def list_progress_reports(
    session: AsyncSession, principal: Principal, award_id: int
) -> Sequence[ProgressReport]:
    award = await get_award(session, principal, award_id)
    return await reports_of(session, award.id)


async def _report(session: AsyncSession, award_id: int, report_id: int) -> ProgressReport:
    report = await queries.progress_report_of(session, award_id, report_id)
    if report is None:
        raise NotFound(_("Progress report not found"))
    return report


async def submit_progress_report(
    session: AsyncSession, principal: Principal, award_id: int, data: ProgressReportIn
) -> ProgressReport:
    award = await get_award(session, principal, award_id)
    await require_grantee(session, principal, award)
    _require_open(award)
    report = ProgressReport(
        award_id=award.id,
        period=data.period,
        narrative=data.narrative,
        submitted_by=principal.user_id,
        submitted_at=utcnow(),
        actuals=await _actuals(session, award, data),
    )
    session.add(report)
    await session.flush()
    await record_event(
        session, principal, award, "progress_report", data.period, after={"report_id": report.id}
    )
    return await _report(session, award.id, report.id)


async def resubmit_progress_report(
    session: AsyncSession, principal: Principal, award_id: int, report_id: int, data: ProgressReportIn
) -> ProgressReport:
    award = await get_award(session, principal, award_id)
    await require_grantee(session, principal, award)
    _require_open(award)
    report = await _report(session, award.id, report_id)
    if report.state is not ReviewState.returned:
        raise Conflict(_("Only a report returned for changes can be resubmitted"))
    report.period = data.period
    report.narrative = data.narrative
    report.actuals.clear()
    await session.flush()
    report.actuals.extend(await _actuals(session, award, data))
    report.state = ReviewState.submitted
    report.version += 1
    report.submitted_at = utcnow()
    await session.flush()
    await record_event(
        session, principal, award, "progress_report_resubmitted", data.period, after={"report_id": report.id}
    )
    return await _report(session, award.id, report.id)


async def review_progress_report(
    session: AsyncSession, principal: Principal, award_id: int, report_id: int, data: ReviewIn
) -> ProgressReport:
    require_staff(principal)
    award = await get_award(session, principal, award_id)
    report = await _report(session, award.id, report_id)
    if report.state is not ReviewState.submitted:
        raise Conflict(_("Only a report awaiting review can be reviewed"))
    report.state = ReviewState.approved if data.approve else ReviewState.returned
    report.reviewed_by = principal.user_id
    report.reviewed_at = utcnow()
    report.review_comment = data.comment or None
    await session.flush()
    await record_event(
        session,
        principal,
        award,
        "progress_report_approved" if data.approve else "progress_report_returned",
        data.comment,
        after={"report_id": report.id, "state": report.state},
    )
    return report


async def list_expense_claims(
    session: AsyncSession, principal: Principal, award_id: int
) -> Sequence[ExpenseClaim]:
    award = await get_award(session, principal, award_id)
    return await claims_of(session, award.id)


async def _claim(session: AsyncSession, award_id: int, claim_id: int) -> ExpenseClaim:
    claim = await queries.expense_claim_of(session, award_id, claim_id)
    if claim is None:
        raise NotFound(_("Expense claim not found"))
    return claim


async def _receipts(session: AsyncSession, award: Award, ids: list[int]) -> list[ExpenseReceipt]:
    receipts = []
    for document_id in dict.fromkeys(ids):
        await own_document(session, award.id, document_id, "receipt_ids")
        receipts.append(ExpenseReceipt(document_id=document_id))
    return receipts


async def submit_expense_claim(
    session: AsyncSession, principal: Principal, award_id: int, data: ExpenseClaimIn
) -> ExpenseClaim:
    award = await get_award(session, principal, award_id)
    await require_grantee(session, principal, award)
    _require_open(award)
    if data.spent_on > today():
        raise ValidationFailed.field("spent_on", _("The date cannot be in the future"))
    claim = ExpenseClaim(
        award_id=award.id,
        category=data.category,
        item=data.item,
        amount=data.amount,
        spent_on=data.spent_on,
        submitted_by=principal.user_id,
        submitted_at=utcnow(),
        receipts=await _receipts(session, award, data.receipt_ids),
    )
    session.add(claim)
    await session.flush()
    await record_event(
        session,
        principal,
        award,
        "expense_claim",
        f"{data.item} {format_money(data.amount)}",
        after={"claim_id": claim.id, "amount": data.amount},
    )
    return await _claim(session, award.id, claim.id)


async def resubmit_expense_claim(
    session: AsyncSession, principal: Principal, award_id: int, claim_id: int, data: ExpenseClaimIn
) -> ExpenseClaim:
    award = await get_award(session, principal, award_id)
    await require_grantee(session, principal, award)
    _require_open(award)
    claim = await _claim(session, award.id, claim_id)
    if claim.state is not ReviewState.returned:
        raise Conflict(_("Only a claim returned for changes can be resubmitted"))
    claim.category = data.category
    claim.item = data.item
    claim.amount = data.amount
    claim.spent_on = data.spent_on
    claim.receipts.clear()
    await session.flush()
    claim.receipts.extend(await _receipts(session, award, data.receipt_ids))
    claim.state = ReviewState.submitted
    claim.version += 1
    claim.submitted_at = utcnow()
    await session.flush()
    await record_event(
        session, principal, award, "expense_claim_resubmitted", data.item, after={"claim_id": claim.id}
    )
    return await _claim(session, award.id, claim.id)


async def review_expense_claim(
    session: AsyncSession, principal: Principal, award_id: int, claim_id: int, data: ReviewIn
) -> ExpenseClaim:
    require_staff(principal)
    award = await get_award(session, principal, award_id)
    claim = await _claim(session, award.id, claim_id)
    if claim.state is not ReviewState.submitted:
        raise Conflict(_("Only a claim awaiting review can be reviewed"))
    if data.approve:
        spent = await spent_on_award(session, award.id)
        if spent + claim.amount > award.amount:
            raise Conflict(
                _(
                    "Approved spending would exceed the award ({spent} of {amount} yuan already approved)"
                ).format(spent=format_money(spent), amount=format_money(award.amount))
            )
    claim.state = ReviewState.approved if data.approve else ReviewState.returned
    claim.reviewed_by = principal.user_id
    claim.reviewed_at = utcnow()
    claim.review_comment = data.comment or None
    await session.flush()
    await record_event(
        session,
        principal,
        award,
        "expense_claim_approved" if data.approve else "expense_claim_returned",
        data.comment,
        after={"claim_id": claim.id, "state": claim.state, "amount": claim.amount},
    )
    return claim
