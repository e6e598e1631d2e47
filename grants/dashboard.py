"""The grants domain's figures for the role dashboards: a few grouped queries each, no N+1."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from core.clock import SHANGHAI
from core.identity.principal import Principal
from grants.applications.models import Application, ApplicationState, Objection, ObjectionState
from grants.awards.models import Award, AwardState, ProgressReport, Tranche, TrancheState
from grants.disbursements.models import Disbursement, DisbursementState
from grants.jobs import PROGRESS_REPORT_EVERY

ZERO = Decimal("0.00")


S = TypeVar("S", bound="Select[*tuple[Any, ...]]")


def _scoped(statement: S, centre_column: InstrumentedAttribute[int], principal: Principal) -> S:
    if principal.sees_all_centres:
        return statement
    return statement.where(centre_column == principal.centre_id)


@dataclass(frozen=True)
class StaffFigures:
    awaiting_eligibility: int
    in_rectification: int
    open_objections: int


async def staff_figures(session: AsyncSession, principal: Principal) -> StaffFigures:
    submitted = _scoped(
        select(func.count(Application.id)).where(Application.state == ApplicationState.submitted),
        Application.centre_id,
        principal,
    )
    rectification = _scoped(
        select(func.count(Award.id)).where(Award.state == AwardState.rectification),
        Award.centre_id,
        principal,
    )
    objections = _scoped(
        select(func.count(Objection.id)).where(Objection.state == ObjectionState.open),
        Objection.centre_id,
        principal,
    )
    return StaffFigures(
        awaiting_eligibility=int((await session.execute(submitted)).scalar_one()),
        in_rectification=int((await session.execute(rectification)).scalar_one()),
        open_objections=int((await session.execute(objections)).scalar_one()),
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
    by_state = _scoped(
        select(Disbursement.state, func.count(Disbursement.id), func.sum(Disbursement.amount))
        .where(Disbursement.state.in_((DisbursementState.requested, DisbursementState.approved)))
        .group_by(Disbursement.state),
        Disbursement.centre_id,
        principal,
    )
    tallies = {
        state: Tally(int(count), Decimal(total or ZERO))
        for state, count, total in (await session.execute(by_state)).all()
    }
    due = _scoped(
        select(func.count(Tranche.id), func.sum(Tranche.amount))
        .join(Award, Award.id == Tranche.award_id)
        .where(Tranche.state == TrancheState.due),
        Award.centre_id,
        principal,
    )
    due_count, due_total = (await session.execute(due)).one()
    first = today.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    paid = _scoped(
        select(func.count(Disbursement.id), func.sum(Disbursement.paid_amount)).where(
            Disbursement.state == DisbursementState.paid,
            Disbursement.paid_on >= first,
            Disbursement.paid_on < following,
        ),
        Disbursement.centre_id,
        principal,
    )
    paid_count, paid_total = (await session.execute(paid)).one()
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
    applications = (
        (
            await session.execute(
                select(Application)
                .where(Application.organisation_id.in_(organisation_ids))
                .order_by(Application.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    awards = (
        (
            await session.execute(
                select(Award)
                .options(selectinload(Award.tranches))
                .where(
                    Award.organisation_id.in_(organisation_ids),
                    Award.state.in_((AwardState.active, AwardState.rectification)),
                )
                .order_by(Award.id.desc())
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )
    last_reports: dict[int, dt.datetime] = {}
    if awards:
        rows = await session.execute(
            select(ProgressReport.award_id, func.max(ProgressReport.submitted_at))
            .where(ProgressReport.award_id.in_([a.id for a in awards]))
            .group_by(ProgressReport.award_id)
        )
        last_reports = dict(rows.all())
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
