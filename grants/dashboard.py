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
from core.todo import Waiting
from grants.applications.models import Application, ApplicationState, Objection, ObjectionState
from grants.awards.models import (
    Award,
    AwardState,
    ExpenseClaim,
    ProgressReport,
    ReviewState,
    Tranche,
    TrancheState,
)
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


# --- what waits, item by item (the to-do list that opens each dashboard) --------------------

DUE_GRACE = dt.timedelta(days=7)
"""A due tranche nobody asked finance to pay is late after a week (as the daily digest says)."""


async def _due_tranches(session: AsyncSession, principal: Principal, limit: int) -> list[Waiting]:
    statement = _scoped(
        select(Tranche.seq, Tranche.amount, Tranche.due_on, Award.id, Award.title)
        .join(Award, Award.id == Tranche.award_id)
        .where(Tranche.state == TrancheState.due)
        .order_by(Tranche.due_on)
        .limit(limit),
        Award.centre_id,
        principal,
    )
    return [
        Waiting(
            "tranche_due",
            title,
            f"/awards/{award_id}#tranches",
            due=(due_on + DUE_GRACE) if due_on else None,
            detail=f"{seq}|{amount:,.2f}",
        )
        for seq, amount, due_on, award_id, title in await session.execute(statement)
    ]


async def waiting_for_staff(session: AsyncSession, principal: Principal, *, limit: int = 50) -> list[Waiting]:
    """Eligibility to confirm, progress reports and expense claims to review, due tranches
    without a request, objections to resolve before publicity ends."""
    submitted = _scoped(
        select(Application.id, Application.title, Application.submitted_at)
        .where(Application.state == ApplicationState.submitted)
        .order_by(Application.submitted_at)
        .limit(limit),
        Application.centre_id,
        principal,
    )
    reports = _scoped(
        select(ProgressReport.id, ProgressReport.period, ProgressReport.submitted_at, Award.id, Award.title)
        .join(Award, Award.id == ProgressReport.award_id)
        .where(ProgressReport.state == ReviewState.submitted)
        .order_by(ProgressReport.submitted_at)
        .limit(limit),
        Award.centre_id,
        principal,
    )
    claims = _scoped(
        select(
            ExpenseClaim.id,
            ExpenseClaim.item,
            ExpenseClaim.amount,
            ExpenseClaim.submitted_at,
            Award.id,
            Award.title,
        )
        .join(Award, Award.id == ExpenseClaim.award_id)
        .where(ExpenseClaim.state == ReviewState.submitted)
        .order_by(ExpenseClaim.submitted_at)
        .limit(limit),
        Award.centre_id,
        principal,
    )
    objections = _scoped(
        select(
            Objection.id,
            Objection.lodged_at,
            Application.id,
            Application.title,
            Application.publicity_ends_on,
        )
        .join(Application, Application.id == Objection.application_id)
        .where(Objection.state == ObjectionState.open)
        .order_by(Objection.lodged_at)
        .limit(limit),
        Objection.centre_id,
        principal,
    )
    items = [
        Waiting("confirm_eligibility", title, f"/applications/{app_id}", since=at)
        for app_id, title, at in await session.execute(submitted)
    ]
    items += [
        Waiting(
            "review_progress_report", title, f"/awards/{award_id}#report-{report_id}", since=at, detail=period
        )
        for report_id, period, at, award_id, title in await session.execute(reports)
    ]
    items += [
        Waiting(
            "review_expense_claim",
            title,
            f"/awards/{award_id}#claim-{claim_id}",
            since=at,
            detail=f"{item} {amount:,.2f}",
        )
        for claim_id, item, amount, at, award_id, title in await session.execute(claims)
    ]
    items += await _due_tranches(session, principal, limit)
    items += [
        Waiting("resolve_objection", title, f"/objections#objection-{objection_id}", since=at, due=ends_on)
        for objection_id, at, _app_id, title, ends_on in await session.execute(objections)
    ]
    return items


async def waiting_for_finance(
    session: AsyncSession, principal: Principal, *, limit: int = 50
) -> list[Waiting]:
    """Disbursements to approve (not one's own requests: those wait for another officer) or to
    pay, and due tranches nobody has asked to pay yet."""
    statement = _scoped(
        select(
            Disbursement.id,
            Disbursement.state,
            Disbursement.amount,
            Disbursement.requested_at,
            Disbursement.decided_at,
            Disbursement.requested_by,
            Award.title,
        )
        .outerjoin(Award, Award.id == Disbursement.award_id)
        .where(Disbursement.state.in_((DisbursementState.requested, DisbursementState.approved)))
        .order_by(Disbursement.requested_at)
        .limit(limit),
        Disbursement.centre_id,
        principal,
    )
    items = []
    for (
        _disbursement_id,
        state,
        amount,
        requested_at,
        decided_at,
        requested_by,
        title,
    ) in await session.execute(statement):
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
    returned = (
        select(Application.id, Application.title, Application.updated_at)
        .where(
            Application.organisation_id.in_(organisation_ids), Application.state == ApplicationState.returned
        )
        .limit(limit)
    )
    items = [
        Waiting("correct_application", title, f"/applications/{app_id}", since=at)
        for app_id, title, at in await session.execute(returned)
    ]
    for model, kind in (
        (ProgressReport, "resubmit_progress_report"),
        (ExpenseClaim, "resubmit_expense_claim"),
    ):
        rows = await session.execute(
            select(Award.id, Award.title, model.reviewed_at)
            .join(Award, Award.id == model.award_id)
            .where(Award.organisation_id.in_(organisation_ids), model.state == ReviewState.returned)
            .limit(limit)
        )
        items += [Waiting(kind, title, f"/awards/{award_id}", since=at) for award_id, title, at in rows]
    figures = await applicant_figures(session, organisation_ids, now, limit=limit)
    items += [
        Waiting(
            "progress_report_due", line.award.title, f"/awards/{line.award.id}", since=None, due=now.date()
        )
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


OPEN_APPLICATION_STATES = (
    ApplicationState.submitted,
    ApplicationState.eligible,
    ApplicationState.under_review,
    ApplicationState.reviewed,
    ApplicationState.recommended,
    ApplicationState.approved,
)


async def per_centre(session: AsyncSession) -> dict[int, CentreGrants]:
    """For the district's side-by-side view: applications in progress, active projects,
    money granted and paid, per centre (two grouped queries)."""
    open_applications = dict(
        (
            await session.execute(
                select(Application.centre_id, func.count(Application.id))
                .where(Application.state.in_(OPEN_APPLICATION_STATES))
                .group_by(Application.centre_id)
            )
        ).all()
    )
    awards = {
        centre_id: (int(active or 0), Decimal(granted or ZERO), Decimal(paid or ZERO))
        for centre_id, active, granted, paid in await session.execute(
            select(
                Award.centre_id,
                func.count(Award.id).filter(Award.state.in_((AwardState.active, AwardState.rectification))),
                func.sum(Award.amount),
                func.sum(Award.paid),
            ).group_by(Award.centre_id)
        )
    }
    return {
        centre_id: CentreGrants(
            int(open_applications.get(centre_id, 0)), *awards.get(centre_id, (0, ZERO, ZERO))
        )
        for centre_id in set(open_applications) | set(awards)
    }
