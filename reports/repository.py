"""Every query of the reports domain: the archive, schedules, styles and document numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from core.i18n import N_, _
from core.repository import CentreScopedRepository, Repository
from reports.models import DocumentCounter, GeneratedReport, ReportSchedule, ReportStyle, ScopeType

NUMBER_ATTEMPTS = 50


class GeneratedReportRepository(CentreScopedRepository[GeneratedReport]):
    model = GeneratedReport
    not_found_message = N_("Report not found")

    def filtered(
        self,
        *,
        kind: str | None = None,
        scope_type: ScopeType | None = None,
        scope_id: int | None = None,
        period: str | None = None,
    ) -> Select[GeneratedReport]:
        statement = self.select()
        if kind:
            statement = statement.where(GeneratedReport.kind == kind)
        if scope_type:
            statement = statement.where(GeneratedReport.scope_type == scope_type)
        if scope_id:
            statement = statement.where(GeneratedReport.scope_id == scope_id)
        if period:
            statement = statement.where(GeneratedReport.period == period)
        return statement.order_by(GeneratedReport.created_at.desc(), GeneratedReport.id.desc())


class ReportScheduleRepository(CentreScopedRepository[ReportSchedule]):
    model = ReportSchedule
    not_found_message = N_("Report schedule not found")

    def ordered(self) -> Select[ReportSchedule]:
        return self.select().order_by(ReportSchedule.id)


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

    async def schedule(self, schedule_id: int) -> ReportSchedule | None:
        return await self.session.get(ReportSchedule, schedule_id)


def archive_queries(session: AsyncSession) -> ArchiveQueries:
    return ArchiveQueries(session)


async def style_of(session: AsyncSession, centre_id: int) -> ReportStyle | None:
    statement = select(ReportStyle).where(ReportStyle.centre_id == centre_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def _counter_value(session: AsyncSession, centre_id: int, kind: str, year: int) -> int | None:
    statement = select(DocumentCounter.last_number).where(
        DocumentCounter.centre_id == centre_id, DocumentCounter.kind == kind, DocumentCounter.year == year
    )
    value = (await session.execute(statement)).scalar_one_or_none()
    return None if value is None else int(value)


async def next_document_number(
    session: AsyncSession, centre_id: int, kind: str, year: int
) -> tuple[int, int]:
    """Take the next number of a centre's kind and year: ``(before, taken)``.

    A compare-and-set: ``UPDATE … SET last_number = n + 1 WHERE … AND last_number = n``.
    Of two transactions that read the same ``n`` one matches; on PostgreSQL the other waits
    for it, matches no row, reads the new value and tries again, so no number is given
    twice (a unique constraint on the archive backs this). The counter row is made on first
    use inside a savepoint; a racing creator's duplicate is simply ignored. The row stays
    locked until the caller's transaction ends, so a report that fails to render gives its
    number back by rolling back.
    """
    for _attempt in range(NUMBER_ATTEMPTS):
        current = await _counter_value(session, centre_id, kind, year)
        if current is None:
            try:
                async with session.begin_nested():
                    session.add(DocumentCounter(centre_id=centre_id, kind=kind, year=year, last_number=0))
            except IntegrityError:
                pass
            continue
        result = await session.execute(
            update(DocumentCounter)
            .where(
                DocumentCounter.centre_id == centre_id,
                DocumentCounter.kind == kind,
                DocumentCounter.year == year,
                DocumentCounter.last_number == current,
            )
            .values(last_number=current + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) == 1:
            return current, current + 1
    raise Conflict(_("Too many reports are being numbered at once; please try again"))


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
