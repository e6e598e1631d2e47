"""Queries that span the grants aggregates: dashboard figures, reminder jobs, finance recipients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from core.identity.models import Role, User, UserRole
from core.identity.principal import Principal
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
from grants.programmes.models import Programme, ProgrammeState
from incubator.models import OrganisationMember

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")


def _scoped(statement: S, centre_column: InstrumentedAttribute[int], principal: Principal) -> S:
    if principal.sees_all_centres:
        return statement
    return statement.where(centre_column == principal.centre_id)


async def staff_counts(session: AsyncSession, principal: Principal) -> tuple[int, int, int]:
    """Applications awaiting eligibility, awards in rectification, open objections."""
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
    return (
        int((await session.execute(submitted)).scalar_one()),
        int((await session.execute(rectification)).scalar_one()),
        int((await session.execute(objections)).scalar_one()),
    )


async def disbursements_awaiting(session: AsyncSession, principal: Principal) -> list[tuple[Any, Any, Any]]:
    """(state, count, sum) of disbursements requested or approved."""
    by_state = _scoped(
        select(Disbursement.state, func.count(Disbursement.id), func.sum(Disbursement.amount))
        .where(Disbursement.state.in_((DisbursementState.requested, DisbursementState.approved)))
        .group_by(Disbursement.state),
        Disbursement.centre_id,
        principal,
    )
    return [(state, count, total) for state, count, total in (await session.execute(by_state)).all()]


async def due_tranche_total(session: AsyncSession, principal: Principal) -> tuple[Any, Any]:
    """(count, sum) of due tranches that nobody requested yet."""
    due = _scoped(
        select(func.count(Tranche.id), func.sum(Tranche.amount))
        .join(Award, Award.id == Tranche.award_id)
        .where(Tranche.state == TrancheState.due),
        Award.centre_id,
        principal,
    )
    due_count, due_total = (await session.execute(due)).one()
    return due_count, due_total


async def paid_between(
    session: AsyncSession, principal: Principal, first: dt.date, following: dt.date
) -> tuple[Any, Any]:
    """(count, sum) of disbursements paid in [first, following)."""
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
    return paid_count, paid_total


async def applicant_rows(
    session: AsyncSession, organisation_ids: Sequence[int], limit: int
) -> tuple[Sequence[Application], Sequence[Award], dict[int, dt.datetime]]:
    """The organisations' latest applications, open awards (with tranches) and last report times."""
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
    return applications, awards, last_reports


async def finance_user_ids(session: AsyncSession, centre_id: int) -> list[int]:
    rows = await session.execute(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.centre_id == centre_id, UserRole.role == Role.finance, User.is_active.is_(True))
    )
    return sorted(set(rows.scalars()))


async def member_pairs(session: AsyncSession, org_ids: Collection[int]) -> Sequence[Any]:
    """(organisation id, user id) of the members of the given organisations."""
    rows = await session.execute(
        select(OrganisationMember.organisation_id, OrganisationMember.user_id).where(
            OrganisationMember.organisation_id.in_(set(org_ids))
        )
    )
    return rows.all()


async def unfinished_applications_closing(
    session: AsyncSession, now: dt.datetime, until: dt.datetime
) -> Sequence[Any]:
    """(programme, application) for draft or returned applications of open calls closing in (now, until]."""
    return (
        await session.execute(
            select(Programme, Application)
            .join(Application, Application.programme_id == Programme.id)
            .where(
                Programme.state == ProgrammeState.open,
                Programme.closes_at > now,
                Programme.closes_at <= until,
                Application.state.in_((ApplicationState.draft, ApplicationState.returned)),
            )
            .order_by(Programme.id, Application.id)
        )
    ).all()


async def signed_awards_with_last_report(session: AsyncSession) -> Sequence[Any]:
    """(award, time of its last progress report or None) for active, signed awards."""
    last_report = (
        select(ProgressReport.award_id, func.max(ProgressReport.submitted_at).label("last_at"))
        .group_by(ProgressReport.award_id)
        .subquery()
    )
    return (
        await session.execute(
            select(Award, last_report.c.last_at)
            .outerjoin(last_report, last_report.c.award_id == Award.id)
            .where(Award.state == AwardState.active, Award.signed_on.is_not(None))
            .order_by(Award.id)
        )
    ).all()


async def tranches_due_before(session: AsyncSession, cutoff: dt.date) -> Sequence[Any]:
    """(centre id, award title, seq, amount, due on) of active awards' tranches due before ``cutoff``."""
    return (
        await session.execute(
            select(Award.centre_id, Award.title, Tranche.seq, Tranche.amount, Tranche.due_on)
            .join(Award, Award.id == Tranche.award_id)
            .where(
                Tranche.state == TrancheState.due,
                Tranche.due_on < cutoff,
                Award.state == AwardState.active,
            )
            .order_by(Award.centre_id, Tranche.due_on, Tranche.id)
        )
    ).all()


# --- the to-do list and the district view ---------------------------------------------------


async def due_tranche_rows(session: AsyncSession, principal: Principal, limit: int) -> Sequence[Any]:
    """(seq, amount, due on, award, title) of due tranches nobody has asked finance to pay."""
    statement = _scoped(
        select(Tranche.seq, Tranche.amount, Tranche.due_on, Award.id, Award.title)
        .join(Award, Award.id == Tranche.award_id)
        .where(Tranche.state == TrancheState.due)
        .order_by(Tranche.due_on)
        .limit(limit),
        Award.centre_id,
        principal,
    )
    return (await session.execute(statement)).all()


async def submitted_application_rows(
    session: AsyncSession, principal: Principal, limit: int
) -> Sequence[Any]:
    """(id, title, submitted at) of applications awaiting the eligibility confirmation."""
    statement = _scoped(
        select(Application.id, Application.title, Application.submitted_at)
        .where(Application.state == ApplicationState.submitted)
        .order_by(Application.submitted_at)
        .limit(limit),
        Application.centre_id,
        principal,
    )
    return (await session.execute(statement)).all()


async def submitted_report_rows(session: AsyncSession, principal: Principal, limit: int) -> Sequence[Any]:
    """(report, period, submitted at, award, title) of progress reports awaiting review."""
    statement = _scoped(
        select(ProgressReport.id, ProgressReport.period, ProgressReport.submitted_at, Award.id, Award.title)
        .join(Award, Award.id == ProgressReport.award_id)
        .where(ProgressReport.state == ReviewState.submitted)
        .order_by(ProgressReport.submitted_at)
        .limit(limit),
        Award.centre_id,
        principal,
    )
    return (await session.execute(statement)).all()


async def submitted_claim_rows(session: AsyncSession, principal: Principal, limit: int) -> Sequence[Any]:
    """(claim, item, amount, submitted at, award, title) of expense claims awaiting review."""
    statement = _scoped(
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
    return (await session.execute(statement)).all()


async def open_objection_rows(session: AsyncSession, principal: Principal, limit: int) -> Sequence[Any]:
    """(objection, lodged at, application title, publicity ends on) of open objections."""
    statement = _scoped(
        select(Objection.id, Objection.lodged_at, Application.title, Application.publicity_ends_on)
        .join(Application, Application.id == Objection.application_id)
        .where(Objection.state == ObjectionState.open)
        .order_by(Objection.lodged_at)
        .limit(limit),
        Objection.centre_id,
        principal,
    )
    return (await session.execute(statement)).all()


async def open_disbursement_rows(session: AsyncSession, principal: Principal, limit: int) -> Sequence[Any]:
    """(state, amount, requested at, decided at, requested by, award title) of disbursements
    requested or approved, oldest request first."""
    statement = _scoped(
        select(
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
    return (await session.execute(statement)).all()


async def returned_application_rows(
    session: AsyncSession, organisation_ids: Sequence[int], limit: int
) -> Sequence[Any]:
    """(id, title, returned at) of the organisations' applications returned for correction."""
    statement = (
        select(Application.id, Application.title, Application.updated_at)
        .where(
            Application.organisation_id.in_(organisation_ids), Application.state == ApplicationState.returned
        )
        .limit(limit)
    )
    return (await session.execute(statement)).all()


async def returned_review_rows(
    session: AsyncSession, organisation_ids: Sequence[int], limit: int
) -> list[tuple[str, int, str, Any]]:
    """(kind, award, title, returned at) of the organisations' progress reports and expense
    claims returned by staff."""
    found: list[tuple[str, int, str, Any]] = []
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
        found += [(kind, award_id, title, at) for award_id, title, at in rows]
    return found


OPEN_APPLICATION_STATES = (
    ApplicationState.submitted,
    ApplicationState.eligible,
    ApplicationState.under_review,
    ApplicationState.reviewed,
    ApplicationState.recommended,
    ApplicationState.approved,
)


async def open_applications_per_centre(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(Application.centre_id, func.count(Application.id))
        .where(Application.state.in_(OPEN_APPLICATION_STATES))
        .group_by(Application.centre_id)
    )
    return {centre_id: int(count) for centre_id, count in rows}


async def awards_per_centre(session: AsyncSession) -> dict[int, tuple[int, Decimal, Decimal]]:
    """Centre -> (active projects, granted, paid)."""
    rows = await session.execute(
        select(
            Award.centre_id,
            func.count(Award.id).filter(Award.state.in_((AwardState.active, AwardState.rectification))),
            func.sum(Award.amount),
            func.sum(Award.paid),
        ).group_by(Award.centre_id)
    )
    zero = Decimal("0.00")
    return {
        centre_id: (int(active or 0), Decimal(granted or zero), Decimal(paid or zero))
        for centre_id, active, granted, paid in rows
    }
