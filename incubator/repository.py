"""Every query of the incubator domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, String, cast, func, or_, select, update
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.identity.models import Role, User
from core.repository import CentreScopedRepository, Repository
from incubator.models import (
    IncubationStay,
    LegalStatus,
    MemberInvitation,
    MemberRole,
    Organisation,
    OrganisationMember,
    ServiceField,
    StayState,
    SupportActivity,
)


@dataclass(frozen=True)
class OrganisationFilters:
    q: str | None = None
    legal_status: LegalStatus | None = None
    service_field: ServiceField | None = None
    community: str | None = None
    incubation_state: StayState | None = None
    verified: bool | None = None


class OrganisationRepository(CentreScopedRepository[Organisation]):
    """Staff, finance and admins see their centre's organisations; applicants only their own."""

    model = Organisation
    not_found_message = N_("Organisation not found")

    def select(self) -> Select[Organisation]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            mine = select(OrganisationMember.organisation_id).where(
                OrganisationMember.user_id == self.principal.user_id
            )
            statement = statement.where(Organisation.id.in_(mine))
        return statement

    def filtered(self, filters: OrganisationFilters) -> Select[Organisation]:
        statement = self.select()
        if filters.q:
            pattern = f"%{filters.q.strip()}%"
            statement = statement.where(
                or_(Organisation.name.ilike(pattern), Organisation.uscc.ilike(pattern))
            )
        if filters.legal_status:
            statement = statement.where(Organisation.legal_status == filters.legal_status)
        if filters.service_field:
            # JSON list stored as text on both engines: match the quoted code.
            statement = statement.where(
                cast(Organisation.service_fields, String).like(f'%"{filters.service_field.value}"%')
            )
        if filters.community:
            statement = statement.where(Organisation.community == filters.community)
        if filters.incubation_state:
            statement = statement.where(Organisation.incubation_state == filters.incubation_state)
        if filters.verified is not None:
            statement = statement.where(
                Organisation.verified_at.is_not(None)
                if filters.verified
                else Organisation.verified_at.is_(None)
            )
        return statement.order_by(Organisation.name, Organisation.id)

    def barred(self, on: dt.date) -> Select[Organisation]:
        """Organisations barred on ``on``, the bar ending soonest first."""
        return (
            self.select()
            .where(Organisation.barred_until >= on)
            .order_by(Organisation.barred_until, Organisation.name, Organisation.id)
        )

    def with_members(self) -> Select[Organisation]:
        return self.select().options(selectinload(Organisation.members))


class StayRepository(CentreScopedRepository[IncubationStay]):
    model = IncubationStay
    not_found_message = N_("Incubation stay not found")

    def with_events(self) -> Select[IncubationStay]:
        return self.select().options(selectinload(IncubationStay.events))


class ActivityRepository(CentreScopedRepository[SupportActivity]):
    model = SupportActivity
    not_found_message = N_("Support activity not found")


class MemberRepository(Repository[OrganisationMember]):
    model = OrganisationMember

    async def user_ids(self, organisation_id: int) -> set[int]:
        rows = await self.session.execute(
            select(OrganisationMember.user_id).where(OrganisationMember.organisation_id == organisation_id)
        )
        return set(rows.scalars())

    async def owners(self, organisation_id: int) -> list[tuple[int, str | None]]:
        """The organisation's active owners with their language: who hears of its applications and awards."""
        rows = await self.session.execute(
            select(User.id, User.locale)
            .join(OrganisationMember, OrganisationMember.user_id == User.id)
            .where(
                OrganisationMember.organisation_id == organisation_id,
                OrganisationMember.role == MemberRole.owner,
                User.is_active.is_(True),
            )
            .order_by(User.id)
        )
        return [(user_id, locale) for user_id, locale in rows]

    async def has_owner(self, organisation_id: int) -> bool:
        rows = await self.session.execute(
            select(OrganisationMember.user_id)
            .where(
                OrganisationMember.organisation_id == organisation_id,
                OrganisationMember.role == MemberRole.owner,
            )
            .limit(1)
        )
        return rows.first() is not None

    async def accept_invitation(self, invitation_id: int, now: dt.datetime) -> bool:
        """Compare-and-set: an invitation is accepted once, and only before it expires."""
        result = await self.session.execute(
            update(MemberInvitation)
            .where(
                MemberInvitation.id == invitation_id,
                MemberInvitation.accepted_at.is_(None),
                MemberInvitation.expires_at > now,
            )
            .values(accepted_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def organisation_ids(self, user_id: int) -> list[int]:
        rows = await self.session.execute(
            select(OrganisationMember.organisation_id).where(OrganisationMember.user_id == user_id)
        )
        return list(rows.scalars())


async def activity_totals(
    repository: ActivityRepository,
    *,
    organisation_id: int | None,
    by_month: bool,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Sequence[tuple[int | None, str | None, int, Decimal, int]]:
    """Counts, hours and participants per organisation (and per month when asked)."""
    base = repository.select().subquery()
    month = func.substr(cast(base.c.held_on, String), 1, 7) if by_month else None
    columns = [
        base.c.organisation_id if organisation_id is None else None,
        month,
    ]
    group = [c for c in columns if c is not None]
    statement = select(
        *group,
        func.count(base.c.id),
        func.coalesce(func.sum(base.c.hours), 0),
        func.coalesce(func.sum(base.c.participants), 0),
    )
    if organisation_id is not None:
        statement = statement.where(base.c.organisation_id == organisation_id)
    if since is not None:
        statement = statement.where(base.c.held_on >= since)
    if until is not None:
        statement = statement.where(base.c.held_on <= until)
    if group:
        statement = statement.group_by(*group).order_by(*group)
    rows = (await repository.session.execute(statement)).all()
    result: list[tuple[int | None, str | None, int, Decimal, int]] = []
    for row in rows:
        values = list(row)
        org = values.pop(0) if organisation_id is None else organisation_id
        mon = values.pop(0) if by_month else None
        count, hours, participants = values
        result.append((org, mon, int(count), Decimal(hours), int(participants)))
    return result
