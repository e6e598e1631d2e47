"""Every query of the reports domain."""

from __future__ import annotations

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
