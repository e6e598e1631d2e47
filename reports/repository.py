"""Every query of the reports domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import N_
from core.repository import CentreScopedRepository, Repository
from reports.models import GeneratedReport, ReportSchedule, ScopeType


class GeneratedReportRepository(CentreScopedRepository[GeneratedReport]):
    model = GeneratedReport
    not_found_message = N_("Report not found")


class ReportScheduleRepository(CentreScopedRepository[ReportSchedule]):
    model = ReportSchedule
    not_found_message = N_("Report schedule not found")


class ArchiveQueries(Repository[GeneratedReport]):
    """Unscoped reads for jobs (no principal): versions and due schedules."""

    model = GeneratedReport

    async def next_version(
        self, centre_id: int, kind: str, scope_type: ScopeType, scope_id: int, period: str
    ) -> int:
        statement = select(func.max(GeneratedReport.version)).where(
            GeneratedReport.centre_id == centre_id,
            GeneratedReport.kind == kind,
            GeneratedReport.scope_type == scope_type,
            GeneratedReport.scope_id == scope_id,
            GeneratedReport.period == period,
        )
        current = (await self.session.execute(statement)).scalar_one_or_none()
        return int(current or 0) + 1

    async def active_schedules(self) -> list[ReportSchedule]:
        rows = await self.session.execute(
            select(ReportSchedule).where(ReportSchedule.active.is_(True)).order_by(ReportSchedule.id)
        )
        return list(rows.scalars())


def archive_queries(session: AsyncSession) -> ArchiveQueries:
    return ArchiveQueries(session)


# --- the street's monthly briefing ---------------------------------------------------------


async def stay_changes(
    session: AsyncSession, centre_id: int, first: dt.date, after: dt.date, to_states: Sequence[str]
) -> Sequence[tuple[str, str, dt.date]]:
    """(organisation, new stay state, day) of the centre's stays that reached ``to_states``
    from ``first`` up to (not including) ``after``."""
    from incubator.models import IncubationStay, Organisation, StayEvent

    rows = await session.execute(
        select(Organisation.name, StayEvent.to_state, StayEvent.on_date)
        .join(IncubationStay, IncubationStay.id == StayEvent.stay_id)
        .join(Organisation, Organisation.id == IncubationStay.organisation_id)
        .where(
            IncubationStay.centre_id == centre_id,
            StayEvent.to_state.in_(to_states),
            StayEvent.on_date >= first,
            StayEvent.on_date < after,
        )
        .order_by(StayEvent.on_date, Organisation.name)
    )
    return [(name, state, day) for name, state, day in rows.all()]


async def applications_in(
    session: AsyncSession, centre_id: int, start: dt.datetime, end: dt.datetime
) -> tuple[int, int]:
    """(submitted in ``[start, end)``, in eligibility check or review now) of the centre."""
    from grants.applications.models import Application, ApplicationState

    submitted = await session.execute(
        select(func.count(Application.id)).where(
            Application.centre_id == centre_id,
            Application.submitted_at >= start,
            Application.submitted_at < end,
        )
    )
    waiting = (
        ApplicationState.submitted,
        ApplicationState.eligible,
        ApplicationState.under_review,
        ApplicationState.reviewed,
        ApplicationState.recommended,
    )
    in_review = await session.execute(
        select(func.count(Application.id)).where(
            Application.centre_id == centre_id, Application.state.in_(waiting)
        )
    )
    return int(submitted.scalar_one()), int(in_review.scalar_one())


async def awards_in(
    session: AsyncSession, centre_id: int, first: dt.date, after: dt.date
) -> tuple[int, Decimal]:
    """(count, amount) of the awards made from ``first`` up to ``after``."""
    from grants.awards.models import Award

    rows = await session.execute(
        select(Award.amount).where(
            Award.centre_id == centre_id, Award.awarded_on >= first, Award.awarded_on < after
        )
    )
    amounts = list(rows.scalars())
    return len(amounts), sum(amounts, Decimal("0.00"))


async def paid_in(
    session: AsyncSession, centre_id: int, first: dt.date, after: dt.date
) -> tuple[Decimal, Decimal]:
    """(to awards, to contracts) paid from ``first`` up to ``after``."""
    from grants.disbursements.models import Disbursement, DisbursementState

    rows = await session.execute(
        select(Disbursement.contract_id, Disbursement.paid_amount, Disbursement.amount).where(
            Disbursement.centre_id == centre_id,
            Disbursement.state == DisbursementState.paid,
            Disbursement.paid_on >= first,
            Disbursement.paid_on < after,
        )
    )
    awards = contracts = Decimal("0.00")
    for contract_id, paid_amount, amount in rows.all():
        value = paid_amount if paid_amount is not None else amount
        if contract_id is None:
            awards += value
        else:
            contracts += value
    return awards, contracts


async def contracts_ending(
    session: AsyncSession, centre_id: int, first: dt.date, until: dt.date
) -> Sequence[tuple[str, str, dt.date, Decimal, Decimal]]:
    """(title, provider, ends on, amount, paid) of the centre's live contracts ending from
    ``first`` to ``until`` (inclusive)."""
    from grants.contracts.models import Contract, ContractState
    from incubator.models import Organisation

    rows = await session.execute(
        select(Contract.title, Organisation.name, Contract.ends_on, Contract.amount, Contract.paid)
        .join(Organisation, Organisation.id == Contract.provider_id)
        .where(
            Contract.centre_id == centre_id,
            Contract.state.in_(
                (ContractState.signed, ContractState.in_service, ContractState.under_evaluation)
            ),
            Contract.ends_on >= first,
            Contract.ends_on <= until,
        )
        .order_by(Contract.ends_on, Contract.id)
    )
    return [(t, p, e, a, paid) for t, p, e, a, paid in rows.all()]


async def support_in(
    session: AsyncSession, centre_id: int, first: dt.date, after: dt.date
) -> tuple[int, Decimal, int]:
    """(activities, hours, participants) of support given from ``first`` up to ``after``."""
    from incubator.models import SupportActivity

    row = await session.execute(
        select(
            func.count(SupportActivity.id),
            func.coalesce(func.sum(SupportActivity.hours), 0),
            func.coalesce(func.sum(SupportActivity.participants), 0),
        ).where(
            SupportActivity.centre_id == centre_id,
            SupportActivity.held_on >= first,
            SupportActivity.held_on < after,
        )
    )
    count, hours, people = row.one()
    return int(count), Decimal(str(hours)).quantize(Decimal("0.1")), int(people)


async def needs_raised(
    session: AsyncSession, centre_id: int, start: dt.datetime, end: dt.datetime
) -> Sequence[tuple[str, str, bool]]:
    """(community, need, answered by a topic) of the needs recorded in ``[start, end)``."""
    from grants.programmes.models import CommunityNeed, ProgrammeTopic

    answered = select(ProgrammeTopic.need_id).where(ProgrammeTopic.need_id.is_not(None))
    rows = await session.execute(
        select(CommunityNeed.community, CommunityNeed.description, CommunityNeed.id.in_(answered))
        .where(
            CommunityNeed.centre_id == centre_id,
            CommunityNeed.created_at >= start,
            CommunityNeed.created_at < end,
        )
        .order_by(CommunityNeed.created_at, CommunityNeed.id)
    )
    return [(c, d, bool(a)) for c, d, a in rows.all()]


async def needs_answered_in(
    session: AsyncSession, centre_id: int, start: dt.datetime, end: dt.datetime
) -> int:
    """Needs answered by a topic of a programme that opened in ``[start, end)``."""
    from grants.programmes.models import CommunityNeed, Programme, ProgrammeTopic

    row = await session.execute(
        select(func.count(func.distinct(ProgrammeTopic.need_id)))
        .join(Programme, Programme.id == ProgrammeTopic.programme_id)
        .join(CommunityNeed, CommunityNeed.id == ProgrammeTopic.need_id)
        .where(CommunityNeed.centre_id == centre_id, Programme.opens_at >= start, Programme.opens_at < end)
    )
    return int(row.scalar_one())
