"""Every query of the incubator domain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, cast, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import BindParameter

from core.db import utcnow
from core.i18n import N_
from core.identity.models import Role, User
from core.identity.principal import Principal
from core.repository import CentreScopedRepository, Repository, Shape
from core.repository.listing import (
    CHOICES,
    SortOrder,
    chosen_first,
    contains,
    given,
    like_values,
    searched,
    sorted_by,
)
from incubator.models import (
    CapacityAssessment,
    CommunityMove,
    IncubationStay,
    LegalStatus,
    MemberInvitation,
    MemberRole,
    Organisation,
    OrganisationCategory,
    OrganisationMember,
    ServiceField,
    StayState,
    SupportActivity,
)
from incubator.schemas import OrganisationRead


@dataclass(frozen=True)
class OrganisationFilters:
    q: str | None = None
    centre_id: int | None = None
    legal_status: LegalStatus | None = None
    service_field: ServiceField | None = None
    community: str | None = None
    community_id: int | None = None
    category: OrganisationCategory | None = None
    incubation_state: StayState | None = None
    verified: bool | None = None
    founded_from: dt.date | None = None
    founded_to: dt.date | None = None

    def bound(self) -> dict[str, Any]:
        """The given filters' values, by the name ``OrganisationRepository.shaped`` binds
        each under (the search's pattern and number, ``searched``; a service field's quoted
        code as a pattern). Whether verified binds nothing: ``verified_yes`` or
        ``verified_no`` names the clause it chooses."""
        chosen = {
            "legal_status": self.legal_status,
            "community_id": self.community_id,
            "category": self.category,
            "incubation_state": self.incubation_state,
        }
        field = {"service_field": f'%"{self.service_field.value}"%'} if self.service_field else {}
        verified = {} if self.verified is None else {"verified_yes" if self.verified else "verified_no": True}
        return (
            given(centre_id=self.centre_id, founded_from=self.founded_from, founded_to=self.founded_to)
            | {name: value for name, value in chosen.items() if value}
            | searched(self.q)
            | like_values(community=self.community)
            | field
            | verified
        )


ORGANISATION_SORTS = {
    "number": Organisation.id,
    "name": Organisation.name,
    "kind": Organisation.kind,
    "legal_status": Organisation.legal_status,
    "community": Organisation.community,
    "incubation": Organisation.incubation_state,
    "founded": Organisation.founded_on,
    "verified": Organisation.verified_at,
}


PROFILE_COLUMNS = (
    *(getattr(Organisation, name) for name in OrganisationRead.model_fields if name != "verified"),
    Organisation.verified_at.is_not(None).label("verified"),  # a property of the model
)
"""What an organisation's profile shows (``incubator.schemas.OrganisationRead``)."""


def reads_centre_wide(principal: Principal) -> bool:
    """Whether ``principal`` reads every organisation of their centre (of every centre for
    the district), rather than those of their station or their own."""
    return not principal.station_only and (
        principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)
    )


class OrganisationRepository(CentreScopedRepository[Organisation]):
    """Staff, finance and admins see their centre's organisations; applicants only their own."""

    model = Organisation
    not_found_message = N_("Organisation not found")

    def select(self) -> Select[Organisation]:
        statement = super().select()
        if self.principal.station_only:
            return statement.where(Organisation.community_id == self.principal.community_id)
        if not reads_centre_wide(self.principal):
            mine = select(OrganisationMember.organisation_id).where(
                OrganisationMember.user_id == self.principal.user_id
            )
            statement = statement.where(Organisation.id.in_(mine))
        return statement

    def _name_and_membership(self) -> Select[*tuple[Any, ...]]:
        member = exists().where(
            OrganisationMember.organisation_id == Organisation.id,
            OrganisationMember.user_id == bindparam("member_user_id"),
        )
        return (
            self.select()
            .with_only_columns(Organisation.name, member.label("member"), maintain_column_froms=True)
            .where(Organisation.id == bindparam("organisation_id"))
        )

    async def profile(self, organisation_id: int) -> Any:
        """The organisation's own columns as ``OrganisationRead`` shows them (one named tuple,
        no ORM object), else ``NotFound``."""
        return await self.row_of(organisation_id, "profile", *PROFILE_COLUMNS)

    async def name_and_membership(self, organisation_id: int, user_id: int) -> tuple[str, bool] | None:
        """The organisation's name, if the caller may read it, and whether ``user_id`` is one
        of its members: one statement of two columns (an application's page shows no more)."""
        row = await self.direct("name_and_membership", self._name_and_membership).first(
            self.session, {"organisation_id": organisation_id, "member_user_id": user_id}
        )
        return None if row is None else (row[0], bool(row[1]))

    @staticmethod
    async def by_id(session: AsyncSession, organisation_id: int) -> Organisation | None:
        """Unscoped, for rules that look across the centre (the parent chain)."""
        return await session.get(Organisation, organisation_id)

    def filtered(self, filters: OrganisationFilters, order: SortOrder | None = None) -> Select[Organisation]:
        """Filtered by what staff look for (text anywhere in name or code, or the number);
        sorted by a whitelisted key (default: by name)."""
        values = filters.bound()
        return self.shaped(frozenset(values), order).params(values)

    def shaped(self, shape: Shape, order: SortOrder | None = None) -> Select[Organisation]:
        """``filtered`` for the filters ``shape`` names, each a bound parameter
        (``OrganisationFilters.bound``): a statement built once serves every value."""
        statement = self.select()
        if "centre_id" in shape:
            statement = statement.where(Organisation.centre_id == bindparam("centre_id"))
        if "q" in shape:
            q: BindParameter[str] = bindparam("q")
            matches = [contains(Organisation.name, q), contains(Organisation.uscc, q)]
            if "q_number" in shape:
                matches.append(Organisation.id == bindparam("q_number"))
            statement = statement.where(or_(*matches))
        for name in ("legal_status", "community_id", "category", "incubation_state"):
            if name in shape:
                statement = statement.where(getattr(Organisation, name) == bindparam(name))
        if "service_field" in shape:
            # JSON list stored as text on both engines: match the quoted code.
            statement = statement.where(
                cast(Organisation.service_fields, String).like(bindparam("service_field"))
            )
        if "community" in shape:
            statement = statement.where(contains(Organisation.community, bindparam("community")))
        if "founded_from" in shape:
            statement = statement.where(Organisation.founded_on >= bindparam("founded_from"))
        if "founded_to" in shape:
            statement = statement.where(Organisation.founded_on <= bindparam("founded_to"))
        if "verified_yes" in shape:
            statement = statement.where(Organisation.verified_at.is_not(None))
        elif "verified_no" in shape:
            statement = statement.where(Organisation.verified_at.is_(None))
        if order is not None:
            return sorted_by(statement, ORGANISATION_SORTS, order, Organisation.id)
        return statement.order_by(Organisation.name, Organisation.id)

    def with_verified(self, statement: Select[Organisation]) -> Select[Any]:
        """``statement`` with the ``verified`` flag the model computes, as a column (for
        ``paginate_columns``)."""
        return statement.add_columns(Organisation.verified_at.is_not(None).label("verified"))

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


async def counted_organisations(
    session: AsyncSession, centre_ids: Sequence[int]
) -> tuple[Sequence[Any], Sequence[Any]]:
    """Every organisation of these centres with its community moves (oldest first), for the
    cultivation counts; one query each, of the columns the counts read (rows, not ORM
    objects: a district's ten thousand organisations cost 5x as much built as objects)."""
    if not centre_ids:
        return [], []
    orgs = await session.execute(
        select(
            Organisation.id,
            Organisation.centre_id,
            Organisation.name,
            Organisation.community_id,
            Organisation.category,
            Organisation.legal_status,
            Organisation.founded_on,
            Organisation.filed_on,
            Organisation.registered_on,
            Organisation.created_at,
            Organisation.exited_on,
            Organisation.flagship_on,
        )
        .where(Organisation.centre_id.in_(centre_ids))
        .order_by(Organisation.id)
    )
    moves = await session.execute(
        select(CommunityMove.organisation_id, CommunityMove.moved_on, CommunityMove.from_community_id)
        .join(Organisation, Organisation.id == CommunityMove.organisation_id)
        .where(Organisation.centre_id.in_(centre_ids))
        .order_by(CommunityMove.organisation_id, CommunityMove.moved_on, CommunityMove.id)
    )
    return orgs.all(), moves.all()


async def organisations_by_id(
    session: AsyncSession, organisation_ids: Collection[int]
) -> Sequence[Organisation]:
    return (
        (await session.execute(select(Organisation).where(Organisation.id.in_(organisation_ids))))
        .scalars()
        .all()
    )


async def member_role(session: AsyncSession, organisation_id: int, user_id: int) -> MemberRole | None:
    row = await session.execute(
        select(OrganisationMember.role).where(
            OrganisationMember.organisation_id == organisation_id, OrganisationMember.user_id == user_id
        )
    )
    return row.scalar_one_or_none()


async def organisations_of(session: AsyncSession, user_id: int) -> list[Organisation]:
    rows = await session.execute(
        select(Organisation)
        .join(OrganisationMember, OrganisationMember.organisation_id == Organisation.id)
        .where(OrganisationMember.user_id == user_id)
        .order_by(Organisation.name)
    )
    return list(rows.scalars())


async def member_organisation_ids(session: AsyncSession, user_id: int) -> list[int]:
    """Ids of the organisations the user is a member of (one column, no ORM objects)."""
    rows = await session.execute(
        select(OrganisationMember.organisation_id).where(OrganisationMember.user_id == user_id)
    )
    return list(rows.scalars())


async def latest_capacity_score(session: AsyncSession, organisation_id: int) -> Decimal | None:
    row = await session.execute(
        select(CapacityAssessment.total)
        .where(CapacityAssessment.organisation_id == organisation_id)
        .order_by(CapacityAssessment.assessed_on.desc(), CapacityAssessment.id.desc())
        .limit(1)
    )
    return row.scalar_one_or_none()


async def uscc_taken(session: AsyncSession, centre_id: int, code: str, exclude_id: int | None) -> bool:
    """Whether another organisation of the centre has this unified social credit code."""
    clash = select(Organisation.id).where(Organisation.centre_id == centre_id, Organisation.uscc == code)
    if exclude_id is not None:
        clash = clash.where(Organisation.id != exclude_id)
    return (await session.execute(clash)).first() is not None


async def mark_verified(session: AsyncSession, organisation_id: int, user_id: int) -> dt.datetime | None:
    """Compare-and-set: the verification time, or None when it was verified already."""
    return (
        await session.execute(
            update(Organisation)
            .where(Organisation.id == organisation_id, Organisation.verified_at.is_(None))
            .values(verified_at=utcnow(), verified_by=user_id)
            .returning(Organisation.verified_at)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()


async def members_with_users(
    session: AsyncSession, organisation_id: int
) -> list[tuple[OrganisationMember, User]]:
    rows = await session.execute(
        select(OrganisationMember, User)
        .join(User, User.id == OrganisationMember.user_id)
        .where(OrganisationMember.organisation_id == organisation_id)
        .order_by(OrganisationMember.role, User.email)
    )
    return [(member, user) for member, user in rows]


async def invitation_with_organisation(
    session: AsyncSession, token_hash: str
) -> tuple[MemberInvitation, Organisation] | None:
    row = (
        await session.execute(
            select(MemberInvitation, Organisation)
            .join(Organisation, Organisation.id == MemberInvitation.organisation_id)
            .where(MemberInvitation.token_hash == token_hash)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def membership(session: AsyncSession, organisation_id: int, user_id: int) -> OrganisationMember | None:
    return (
        await session.execute(
            select(OrganisationMember).where(
                OrganisationMember.organisation_id == organisation_id, OrganisationMember.user_id == user_id
            )
        )
    ).scalar_one_or_none()


async def set_incubation_state(session: AsyncSession, organisation_id: int, state: StayState) -> None:
    await session.execute(
        update(Organisation).where(Organisation.id == organisation_id).values(incubation_state=state)
    )


async def has_active_stay(session: AsyncSession, organisation_id: int) -> bool:
    return (
        await session.execute(
            select(IncubationStay.id).where(
                IncubationStay.organisation_id == organisation_id, IncubationStay.is_active.is_(True)
            )
        )
    ).first() is not None


async def active_stay_id(session: AsyncSession, organisation_id: int) -> int | None:
    return (
        await session.execute(
            select(IncubationStay.id).where(
                IncubationStay.organisation_id == organisation_id, IncubationStay.is_active.is_(True)
            )
        )
    ).scalar_one_or_none()


async def capacity_assessments(session: AsyncSession, organisation_id: int) -> list[CapacityAssessment]:
    """An organisation's capacity assessments, oldest first."""
    rows = await session.execute(
        select(CapacityAssessment)
        .where(CapacityAssessment.organisation_id == organisation_id)
        .order_by(CapacityAssessment.assessed_on, CapacityAssessment.id)
    )
    return list(rows.scalars())


# --- unscoped reads for report builders (the caller has checked the centre) ---------------


async def organisation_by_id(session: AsyncSession, organisation_id: int) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def stays_with_events(session: AsyncSession, organisation_id: int) -> Sequence[IncubationStay]:
    statement = (
        select(IncubationStay)
        .options(selectinload(IncubationStay.events))
        .where(IncubationStay.organisation_id == organisation_id)
        .order_by(IncubationStay.applied_on, IncubationStay.id)
    )
    return (await session.execute(statement)).scalars().all()


async def activities_of(session: AsyncSession, organisation_id: int) -> Sequence[SupportActivity]:
    statement = (
        select(SupportActivity)
        .where(SupportActivity.organisation_id == organisation_id)
        .order_by(SupportActivity.held_on, SupportActivity.id)
    )
    return (await session.execute(statement)).scalars().all()


async def assessments_of(session: AsyncSession, organisation_id: int) -> Sequence[CapacityAssessment]:
    statement = (
        select(CapacityAssessment)
        .where(CapacityAssessment.organisation_id == organisation_id)
        .order_by(CapacityAssessment.assessed_on, CapacityAssessment.id)
    )
    return (await session.execute(statement)).scalars().all()


async def unverified_count(session: AsyncSession, principal: Principal) -> int:
    """Organisations of the principal's centre (or all) not verified yet."""
    statement = select(func.count(Organisation.id)).where(Organisation.verified_at.is_(None))
    if not principal.sees_all_centres:
        statement = statement.where(Organisation.centre_id == principal.centre_id)
    return int((await session.execute(statement)).scalar_one())


async def organisations_of_centre(
    session: AsyncSession, centre_id: int, q: str = "", chosen: Collection[int] = (), limit: int = CHOICES
) -> list[tuple[int, str]]:
    """For choosing a report's subject: (id, name) of the centre's organisations matching
    ``q``, the chosen ones first — a page of them, never the whole centre."""
    statement = select(Organisation.id, Organisation.name).where(Organisation.centre_id == centre_id)
    rows = await session.execute(
        chosen_first(statement, Organisation.id, [Organisation.name], q, chosen, limit)
    )
    return [(org_id, name) for org_id, name in rows]


async def organisation_choices(
    repository: OrganisationRepository, q: str = "", chosen: Collection[int] = (), limit: int = CHOICES
) -> list[tuple[int, str]]:
    """(id, name) of the organisations the caller sees matching ``q`` (name or number), the
    chosen ones first, at most ``limit`` more: what a chooser offers."""
    statement = repository.select().with_only_columns(Organisation.id, Organisation.name)
    rows = await repository.session.execute(
        chosen_first(statement, Organisation.id, [Organisation.name], q, chosen, limit)
    )
    return [(org_id, name) for org_id, name in rows]


async def unverified_organisations(
    session: AsyncSession, principal: Principal, limit: int
) -> list[tuple[int, str, dt.datetime]]:
    """(id, name, registered at) of organisations awaiting verification, oldest first."""
    statement = select(Organisation.id, Organisation.name, Organisation.created_at).where(
        Organisation.verified_at.is_(None)
    )
    if not principal.sees_all_centres:
        statement = statement.where(Organisation.centre_id == principal.centre_id)
    rows = await session.execute(statement.order_by(Organisation.created_at).limit(limit))
    return [(org_id, name, created) for org_id, name, created in rows]


async def overdue_stays(
    session: AsyncSession, principal: Principal, today: dt.date, limit: int
) -> list[tuple[int, int, str, dt.date | None]]:
    """(stay, organisation, name, planned end) of active stays past their planned end."""
    statement = (
        select(IncubationStay.id, Organisation.id, Organisation.name, IncubationStay.planned_end)
        .join(Organisation, Organisation.id == IncubationStay.organisation_id)
        .where(
            IncubationStay.is_active.is_(True),
            IncubationStay.planned_end.is_not(None),
            IncubationStay.planned_end < today,
        )
    )
    if not principal.sees_all_centres:
        statement = statement.where(IncubationStay.centre_id == principal.centre_id)
    rows = await session.execute(statement.order_by(IncubationStay.planned_end).limit(limit))
    return [(stay_id, org_id, name, end) for stay_id, org_id, name, end in rows]


async def organisations_per_centre(session: AsyncSession) -> dict[int, tuple[int, int]]:
    """Centre -> (organisations, of them unverified), for the district's view."""
    rows = await session.execute(
        select(
            Organisation.centre_id,
            func.count(Organisation.id),
            func.count(Organisation.id).filter(Organisation.verified_at.is_(None)),
        ).group_by(Organisation.centre_id)
    )
    return {centre_id: (int(total), int(unverified)) for centre_id, total, unverified in rows}


async def incubating_per_centre(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(IncubationStay.centre_id, func.count(IncubationStay.id))
        .where(IncubationStay.state == StayState.incubating)
        .group_by(IncubationStay.centre_id)
    )
    return {centre_id: int(count) for centre_id, count in rows}


async def organisation_names(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Organisations' names by id (for feeds and timelines)."""
    if not ids:
        return {}
    rows = await session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
    return {row_id: str(value) for row_id, value in rows}


def organisation_named(organisation_id: Any, text: str | BindParameter[str]) -> ColumnElement[bool]:
    """The organisation ``organisation_id`` refers to has ``text`` in its name: a semi-join,
    so that a list filters on its own table and joins the names to the page alone."""
    return organisation_id.in_(select(Organisation.id).where(contains(Organisation.name, text)))  # type: ignore[no-any-return]
