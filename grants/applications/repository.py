"""Queries of applications, scoped to the caller's centre (and organisations, for applicants)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.identity.models import Role
from core.repository import CentreScopedRepository
from grants.applications.models import Application, Indicator
from incubator.models import Organisation


class ApplicationRepository(CentreScopedRepository[Application]):
    """Staff see the centre's applications; applicants those of their organisations."""

    model = Application
    not_found_message = N_("Application not found")

    def __init__(self, session: object, principal: object, member_org_ids: list[int] | None = None) -> None:
        super().__init__(session, principal)  # type: ignore[arg-type]
        self.member_org_ids = member_org_ids

    def select(self) -> Select[Application]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(Application.organisation_id.in_(self.member_org_ids or []))
        return statement

    def full(self) -> Select[Application]:
        return self.select().options(
            selectinload(Application.budget_lines),
            selectinload(Application.indicators),
            selectinload(Application.checks),
            selectinload(Application.events),
        )


# --- unscoped reads for report builders (the caller has checked the centre) ---------------


async def indicators_of(session: AsyncSession, application_id: int) -> Sequence[Indicator]:
    statement = select(Indicator).where(Indicator.application_id == application_id).order_by(Indicator.seq)
    return (await session.execute(statement)).scalars().all()


async def applications_with_organisations(
    session: AsyncSession, programme_id: int
) -> Sequence[tuple[Application, Organisation]]:
    """A programme's applications with their organisations, ranked ones first by rank."""
    statement = (
        select(Application, Organisation)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(Application.programme_id == programme_id)
        .order_by(Application.rank.is_(None), Application.rank, Application.id)
    )
    return [(a, o) for a, o in (await session.execute(statement)).all()]
