"""Every query of the reports domain: the archive, schedules, styles and document numbers."""

from __future__ import annotations

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
