"""Every query of the grants domain (programmes, applications, awards)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.identity.models import Role
from core.repository import CentreScopedRepository
from grants.models import Application, Award, CommunityNeed, Programme


class ProgrammeRepository(CentreScopedRepository[Programme]):
    model = Programme
    not_found_message = N_("Programme not found")

    def full(self) -> Select[Programme]:
        return self.select().options(
            selectinload(Programme.categories),
            selectinload(Programme.tranche_plan),
            selectinload(Programme.topics),
        )


class NeedRepository(CentreScopedRepository[CommunityNeed]):
    model = CommunityNeed
    not_found_message = N_("Record not found")


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


class AwardRepository(CentreScopedRepository[Award]):
    model = Award
    not_found_message = N_("Award not found")

    def __init__(self, session: object, principal: object, member_org_ids: list[int] | None = None) -> None:
        super().__init__(session, principal)  # type: ignore[arg-type]
        self.member_org_ids = member_org_ids

    def select(self) -> Select[Award]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(Award.organisation_id.in_(self.member_org_ids or []))
        return statement

    def full(self) -> Select[Award]:
        return self.select().options(selectinload(Award.tranches))


__all__ = ["select"]
