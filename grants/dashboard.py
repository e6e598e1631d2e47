"""The grants domain's figures for the role dashboards: a few grouped queries each, no N+1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SHANGHAI
from core.identity.principal import Principal
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
