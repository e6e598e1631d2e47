"""Queries of applications, scoped to the caller's centre (and organisations, for applicants)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.identity.models import Role
from core.repository import CentreScopedRepository
from grants.applications.models import Application


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


async def application_for_review(
    session: AsyncSession, centre_id: int, application_id: int
) -> Application | None:
    """One application of a centre with its budget and indicators, for whoever reviews it.

    No role filter: the caller has already established that the reader was assigned it.
    """
    statement = (
        select(Application)
        .where(Application.id == application_id, Application.centre_id == centre_id)
        .options(selectinload(Application.budget_lines), selectinload(Application.indicators))
    )
    return (await session.execute(statement)).scalar_one_or_none()
