"""Queries of programmes and community needs, scoped to the caller's centre."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.errors import NotFound
from core.i18n import N_, _
from core.identity.principal import Principal
from core.repository import CentreScopedRepository, Shape
from core.repository.listing import contains, given, like_values, searched
from grants.applications.models import Application
from grants.programmes.models import (
    CalendarDay,
    CommunityNeed,
    Programme,
    ProgrammeCategory,
    ProgrammeState,
    ProgrammeTopic,
)
from incubator.repository import organisation_named


class ProgrammeRepository(CentreScopedRepository[Programme]):
    model = Programme
    not_found_message = N_("Programme not found")

    def full(self) -> Select[Programme]:
        return self.select().options(
            selectinload(Programme.categories),
            selectinload(Programme.tranche_plan),
            selectinload(Programme.topics),
        )

    async def with_names(
        self, programme_id: int, category_id: int | None, topic_id: int | None
    ) -> tuple[Any, str, str]:
        """What a page about one application shows of its programme (id, name, state, its
        window) with the name of one of its categories and the title of one of its topics,
        in one statement of columns."""
        row = await self.direct("with_names", self._with_names).first(
            self.session, {"programme_id": programme_id, "category_id": category_id, "topic_id": topic_id}
        )
        if row is None:
            raise NotFound(_(self.not_found_message))
        return row, row.category or "", row.topic or ""

    def _with_names(self) -> Select[*tuple[Any, ...]]:
        return (
            self.select()
            .with_only_columns(
                Programme.id,
                Programme.name,
                Programme.state,
                Programme.opens_at,
                Programme.closes_at,
                ProgrammeCategory.name.label("category"),
                ProgrammeTopic.title.label("topic"),
                maintain_column_froms=True,
            )
            .outerjoin(
                ProgrammeCategory,
                (ProgrammeCategory.id == bindparam("category_id"))
                & (ProgrammeCategory.programme_id == Programme.id),
            )
            .outerjoin(
                ProgrammeTopic,
                (ProgrammeTopic.id == bindparam("topic_id")) & (ProgrammeTopic.programme_id == Programme.id),
            )
            .where(Programme.id == bindparam("programme_id"))
        )


class NeedRepository(CentreScopedRepository[CommunityNeed]):
    """A station officer sees the needs of their own community only."""

    model = CommunityNeed
    not_found_message = N_("Record not found")

    def select(self) -> Select[CommunityNeed]:
        statement = super().select()
        if self.principal.station_only:
            statement = statement.where(CommunityNeed.community_id == self.principal.community_id)
        return statement

    def newest_first(self) -> Select[CommunityNeed]:
        return self.select().order_by(CommunityNeed.id.desc())


async def release_committed(
    session: AsyncSession, programme_id: int, category_id: int | None, amount: Decimal
) -> None:
    """Give ``amount`` back to the programme's (and category's) budget: one conditional UPDATE each."""
    await session.execute(
        update(Programme)
        .where(Programme.id == programme_id)
        .values(committed=Programme.committed - amount)
        .execution_options(synchronize_session=False)
    )
    if category_id is not None:
        await session.execute(
            update(ProgrammeCategory)
            .where(ProgrammeCategory.id == category_id)
            .values(committed=ProgrammeCategory.committed - amount)
            .execution_options(synchronize_session=False)
        )


async def with_tranche_plan(session: AsyncSession, programme_id: int) -> Programme:
    return (
        await session.execute(
            select(Programme)
            .options(selectinload(Programme.tranche_plan))
            .where(Programme.id == programme_id)
        )
    ).scalar_one()


async def publicised(session: AsyncSession, programme_id: int | None) -> Sequence[Programme]:
    """Programmes in publicity (re-read: populate_existing), or that one programme if it is."""
    statement = (
        select(Programme)
        .where(Programme.state == ProgrammeState.publicised)
        .execution_options(populate_existing=True)
    )
    if programme_id is not None:
        statement = statement.where(Programme.id == programme_id)
    return (await session.execute(statement)).scalars().all()


async def reserve_programme_budget(session: AsyncSession, programme_id: int, amount: Decimal) -> bool:
    """``committed += amount`` only while within the total budget, checked in the same statement."""
    result = await session.execute(
        update(Programme)
        .where(Programme.id == programme_id, Programme.committed + amount <= Programme.total_budget)
        .values(committed=Programme.committed + amount)
        .returning(Programme.id)
    )
    return result.first() is not None


async def reserve_category_budget(session: AsyncSession, category_id: int, amount: Decimal) -> bool:
    """``committed += amount`` only while within the category budget, checked in the same statement."""
    result = await session.execute(
        update(ProgrammeCategory)
        .where(
            ProgrammeCategory.id == category_id,
            ProgrammeCategory.committed + amount <= ProgrammeCategory.budget,
        )
        .values(committed=ProgrammeCategory.committed + amount)
        .returning(ProgrammeCategory.id)
    )
    return result.first() is not None


async def release_budget(
    session: AsyncSession, programme_id: int, category_id: int | None, amount: Decimal
) -> None:
    await session.execute(
        update(Programme).where(Programme.id == programme_id).values(committed=Programme.committed - amount)
    )
    if category_id is not None:
        await session.execute(
            update(ProgrammeCategory)
            .where(ProgrammeCategory.id == category_id)
            .values(committed=ProgrammeCategory.committed - amount)
        )


async def calendar_days(session: AsyncSession, years: Iterable[int] | None = None) -> Sequence[CalendarDay]:
    """The entered calendar days (holidays and adjusted working days), of the given years or all."""
    statement = select(CalendarDay)
    if years is not None:
        statement = statement.where(CalendarDay.year.in_(list(years)))
    return (await session.execute(statement)).scalars().all()


async def forget_calendar_year(session: AsyncSession, year: int) -> None:
    await session.execute(delete(CalendarDay).where(CalendarDay.year == year))


async def programmes_newest_first(session: AsyncSession, principal: Principal) -> list[Programme]:
    """The programmes the principal's centre sees, newest year first."""
    programmes = select(Programme)
    if not principal.sees_all_centres:
        programmes = programmes.where(Programme.centre_id == principal.centre_id)
    return list((await session.execute(programmes.order_by(Programme.year.desc(), Programme.id))).scalars())


async def categories_of(session: AsyncSession, programme_ids: Sequence[int]) -> Sequence[ProgrammeCategory]:
    return (
        (
            await session.execute(
                select(ProgrammeCategory)
                .where(ProgrammeCategory.programme_id.in_(programme_ids))
                .order_by(ProgrammeCategory.id)
            )
        )
        .scalars()
        .all()
    )


async def programme_with_plan(session: AsyncSession, programme_id: int) -> Programme | None:
    """Unscoped, for report builders: a programme with its categories and tranche plan."""
    statement = (
        select(Programme)
        .options(selectinload(Programme.categories), selectinload(Programme.tranche_plan))
        .where(Programme.id == programme_id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def programme_centre(session: AsyncSession, programme_id: int) -> int | None:
    programme = await session.get(Programme, programme_id)
    return programme.centre_id if programme is not None else None


async def programmes_of_centre(session: AsyncSession, centre_id: int) -> list[Programme]:
    """For choosing a report's subject: the centre's programmes, newest first."""
    statement = (
        select(Programme)
        .where(Programme.centre_id == centre_id)
        .order_by(Programme.year.desc(), Programme.id.desc())
    )
    return list((await session.execute(statement)).scalars())


async def programme_names(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Programmes' names by id (for feeds and timelines)."""
    if not ids:
        return {}
    rows = await session.execute(select(Programme.id, Programme.name).where(Programme.id.in_(ids)))
    return {row_id: str(value) for row_id, value in rows}


# --- the filters the applications list and the projects list share -----------------------
# Both lists show a record of a programme (an application, or the award made on one) with
# its organisation, category and target community, and both are searched alike:
# free text on the title and organisation (or the record's number), programme, state,
# organisation name, category name or code, community. Each list adds its own dates.

S = TypeVar("S", bound="Select[Any]")


@dataclass(frozen=True)
class ProgrammeRecordFilters:
    """What the applications and projects lists are both filtered by (each list's filters
    extend it); text filters match anywhere in the text."""

    q: str | None = None
    centre_id: int | None = None
    programme_id: int | None = None
    state: StrEnum | None = None
    organisation: str | None = None
    category: str | None = None
    community: str | None = None

    def bound(self) -> dict[str, Any]:
        """The given filters' values, by the name ``filter_programme_records`` binds each
        under (a text filter's is its LIKE pattern; a category is matched by name or code)."""
        return (
            given(centre_id=self.centre_id, programme_id=self.programme_id, state=self.state)
            | searched(self.q)
            | like_values(organisation=self.organisation, category=self.category, community=self.community)
            | ({"category_code": self.category} if self.category else {})
        )


def matches_text(record: Any, shape: Shape, organisation_id: Any = None) -> ColumnElement[bool]:
    """The record's title or its organisation's name contains the search ``q``, or ``q`` is
    its number (``q_number``, when in ``shape``): the free-text search of the applications,
    projects and contracts lists (``listing.searched`` gives the values).
    ``organisation_id`` is the record's column naming the organisation (its own
    ``organisation_id`` unless given)."""
    organisation = record.organisation_id if organisation_id is None else organisation_id
    matches = [contains(record.title, bindparam("q")), organisation_named(organisation, bindparam("q"))]
    if "q_number" in shape:
        matches.append(record.id == bindparam("q_number"))
    return or_(*matches)


def filter_programme_records(statement: S, record: Any, shape: Shape) -> S:
    """``statement`` (over ``record``, Application or Award, and no other table) narrowed by
    the filters both lists share that ``shape`` names, each a bound parameter
    (``ProgrammeRecordFilters.bound``); a name is matched by a semi-join on its table."""
    if "centre_id" in shape:
        statement = statement.where(record.centre_id == bindparam("centre_id"))
    if "q" in shape:
        statement = statement.where(matches_text(record, shape))
    if "programme_id" in shape:
        statement = statement.where(record.programme_id == bindparam("programme_id"))
    if "state" in shape:
        statement = statement.where(record.state == bindparam("state"))
    if "organisation" in shape:
        statement = statement.where(organisation_named(record.organisation_id, bindparam("organisation")))
    if "category" in shape:
        categories = select(ProgrammeCategory.id).where(
            or_(
                contains(ProgrammeCategory.name, bindparam("category")),
                ProgrammeCategory.code == bindparam("category_code"),
            )
        )
        statement = statement.where(record.category_id.in_(categories))
    if "community" in shape:
        community = contains(Application.target_community, bindparam("community"))
        if record is not Application:  # an award: the community its application targets
            community = record.application_id.in_(select(Application.id).where(community))
        statement = statement.where(community)
    return statement
