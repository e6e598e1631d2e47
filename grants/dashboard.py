"""The grants domain's figures for the role dashboards: a few grouped queries each, no N+1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SHANGHAI
from core.identity.principal import Principal
from core.todo import Waiting
from grants import repository as queries
from grants.applications.models import Application
from grants.awards.models import Award, AwardState, Tranche, TrancheState
from grants.disbursements.models import DisbursementState
from grants.jobs import PROGRESS_REPORT_EVERY

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class StaffFigures:
    awaiting_eligibility: int
    in_rectification: int
    open_objections: int


async def staff_figures(session: AsyncSession, principal: Principal) -> StaffFigures:
    submitted, rectification, objections = await queries.staff_counts(session, principal)
    return StaffFigures(
        awaiting_eligibility=submitted,
        in_rectification=rectification,
        open_objections=objections,
    )


@dataclass(frozen=True)
class Tally:
    count: int = 0
    amount: Decimal = ZERO


@dataclass(frozen=True)
class FinanceFigures:
    awaiting_approval: Tally
    awaiting_payment: Tally
    due_without_request: Tally
    paid_this_month: Tally
    month: str


async def finance_figures(session: AsyncSession, principal: Principal, today: dt.date) -> FinanceFigures:
    tallies = {
        state: Tally(int(count), Decimal(total or ZERO))
        for state, count, total in await queries.disbursements_awaiting(session, principal)
    }
    due_count, due_total = await queries.due_tranche_total(session, principal)
    first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    paid_count, paid_total = await queries.paid_between(session, principal, first, following)
    return FinanceFigures(
        awaiting_approval=tallies.get(DisbursementState.requested, Tally()),
        awaiting_payment=tallies.get(DisbursementState.approved, Tally()),
        due_without_request=Tally(int(due_count), Decimal(due_total or ZERO)),
        paid_this_month=Tally(int(paid_count), Decimal(paid_total or ZERO)),
        month=first.strftime("%Y-%m"),
    )


@dataclass
class AwardLine:
    award: Award
    next_tranche: Tranche | None
    report_due: bool
    last_report_on: dt.date | None = None


@dataclass
class ApplicantFigures:
    applications: Sequence[Application] = field(default_factory=list)
    awards: list[AwardLine] = field(default_factory=list)


OPEN_TRANCHE_STATES = (TrancheState.planned, TrancheState.due, TrancheState.requested, TrancheState.approved)


async def applicant_figures(
    session: AsyncSession, organisation_ids: Sequence[int], now: dt.datetime, *, limit: int = 20
) -> ApplicantFigures:
    """The applications and open awards of the given organisations, with each award's next
    unpaid tranche and whether a progress report is due (same rule as the reminder)."""
    if not organisation_ids:
        return ApplicantFigures()
    applications, awards, last_reports = await queries.applicant_rows(session, organisation_ids, limit)
    lines = []
    for award in awards:
        next_tranche = next((t for t in award.tranches if t.state in OPEN_TRANCHE_STATES), None)
        last = last_reports.get(award.id)
        report_due = False
        if award.signed_on is not None and award.state is AwardState.active:
            since = dt.datetime.combine(award.signed_on, dt.time(0), SHANGHAI)
            if last is not None:
                since = max(since, last)
            report_due = since <= now - PROGRESS_REPORT_EVERY
        lines.append(
            AwardLine(
                award=award,
                next_tranche=next_tranche,
                report_due=report_due,
                last_report_on=last.astimezone(SHANGHAI).date() if last else None,
            )
        )
    return ApplicantFigures(applications=applications, awards=lines)


# --- what waits, item by item (the to-do list that opens each dashboard) --------------------

DUE_GRACE = dt.timedelta(days=7)
"""A due tranche nobody asked finance to pay is late after a week (as the daily digest says)."""


async def _due_tranches(session: AsyncSession, principal: Principal, limit: int) -> list[Waiting]:
    return [
        Waiting(
            "tranche_due",
            title,
            f"/awards/{award_id}#tranches",
            due=(due_on + DUE_GRACE) if due_on else None,
            detail=f"{seq}|{amount:,.2f}",
        )
        for seq, amount, due_on, award_id, title in await queries.due_tranche_rows(session, principal, limit)
    ]


async def waiting_for_staff(session: AsyncSession, principal: Principal, *, limit: int = 50) -> list[Waiting]:
    """Eligibility to confirm, progress reports and expense claims to review, due tranches
    without a request, objections to resolve before publicity ends."""
    items = [
        Waiting("confirm_eligibility", title, f"/applications/{app_id}", since=at)
        for app_id, title, at in await queries.submitted_application_rows(session, principal, limit)
    ]
    items += [
        Waiting("review_progress_report", title, f"/awards/{award_id}#reports", since=at, detail=period)
        for report_id, period, at, award_id, title in await queries.submitted_report_rows(
            session, principal, limit
        )
    ]
    items += [
        Waiting(
            "review_expense_claim",
            title,
            f"/awards/{award_id}#claims",
            since=at,
            detail=f"{item} {amount:,.2f}",
        )
        for claim_id, item, amount, at, award_id, title in await queries.submitted_claim_rows(
            session, principal, limit
        )
    ]
    items += await _due_tranches(session, principal, limit)
    items += [
        Waiting("resolve_objection", title, "/objections", since=at, due=ends_on)
        for objection_id, at, title, ends_on in await queries.open_objection_rows(session, principal, limit)
    ]
    return items


async def waiting_for_finance(
    session: AsyncSession, principal: Principal, *, limit: int = 50
) -> list[Waiting]:
    """Disbursements to approve (not one's own requests: those wait for another officer) or to
    pay, and due tranches nobody has asked to pay yet."""
    items = []
    for state, amount, requested_at, decided_at, requested_by, title in await queries.open_disbursement_rows(
        session, principal, limit
    ):
        if state is DisbursementState.requested and requested_by == principal.user_id:
            continue
        kind = "approve_disbursement" if state is DisbursementState.requested else "pay_disbursement"
        since = requested_at if state is DisbursementState.requested else decided_at
        anchor = "pending" if state is DisbursementState.requested else "approved"
        items.append(Waiting(kind, title or "", f"/finance#{anchor}", since=since, detail=f"{amount:,.2f}"))
    return items + await _due_tranches(session, principal, limit)


async def waiting_for_applicant(
    session: AsyncSession, organisation_ids: Sequence[int], now: dt.datetime, *, limit: int = 50
) -> list[Waiting]:
    """Returned applications to correct, returned reports and claims, progress reports due."""
    if not organisation_ids:
        return []
    items = [
        Waiting("correct_application", title, f"/applications/{app_id}", since=at)
        for app_id, title, at in await queries.returned_application_rows(session, organisation_ids, limit)
    ]
    for kind, award_id, title, at in await queries.returned_review_rows(session, organisation_ids, limit):
        items.append(Waiting(kind, title, f"/awards/{award_id}", since=at))
    figures = await applicant_figures(session, organisation_ids, now, limit=limit)
    items += [
        Waiting("progress_report_due", line.award.title, f"/awards/{line.award.id}", due=now.date())
        for line in figures.awards
        if line.report_due
    ]
    return items


@dataclass(frozen=True)
class CentreGrants:
    applications_open: int
    awards_active: int
    granted: Decimal
    paid: Decimal


async def per_centre(session: AsyncSession) -> dict[int, CentreGrants]:
    """For the district's side-by-side view: applications in progress, active projects,
    money granted and paid, per centre (two grouped queries)."""
    open_applications = await queries.open_applications_per_centre(session)
    awards = await queries.awards_per_centre(session)
    return {
        centre_id: CentreGrants(open_applications.get(centre_id, 0), *awards.get(centre_id, (0, ZERO, ZERO)))
        for centre_id in set(open_applications) | set(awards)
    }
