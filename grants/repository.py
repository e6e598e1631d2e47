"""Queries that span the grants aggregates: dashboard figures, reminder jobs, finance recipients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from core.identity.models import Role, User, UserRole
from core.identity.principal import Principal
from grants.applications.models import Application, ApplicationState, Objection, ObjectionState
from grants.awards.models import Award, AwardState, ProgressReport, Tranche, TrancheState
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
