"""The filters the applications list and the projects list share.

Both lists show a record of a programme (an application, or the award made on one) with
its organisation, category and target community, and both are searched alike:
free text on the title and organisation (or the record's number), programme, state,
organisation name, category name or code, community. Each list adds its own dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_, select

from core.repository.listing import contains, number_of
from grants.applications.models import Application
from grants.programmes.models import ProgrammeCategory
from incubator.models import Organisation

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


def organisation_named(organisation_id: Any, text: str) -> ColumnElement[bool]:
    """The organisation ``organisation_id`` refers to has ``text`` in its name: a semi-join,
    so that a list filters on its own table and joins the names to the page alone."""
    return organisation_id.in_(select(Organisation.id).where(contains(Organisation.name, text)))  # type: ignore[no-any-return]


def matches_text(record: Any, q: str, organisation_id: Any = None) -> ColumnElement[bool]:
    """The record's title or its organisation's name contains ``q``, or ``q`` is its number
    (the free-text search of the applications, projects and contracts lists).
    ``organisation_id`` is the record's column naming the organisation (its own
    ``organisation_id`` unless given)."""
    number = number_of(q)
    organisation = record.organisation_id if organisation_id is None else organisation_id
    matches = [contains(record.title, q), organisation_named(organisation, q)]
    if number is not None:
        matches.append(record.id == number)
    return or_(*matches)


def filter_programme_records(statement: S, record: Any, filters: ProgrammeRecordFilters) -> S:
    """``statement`` (over ``record``, Application or Award, and no other table) narrowed by
    the filters both lists share; a name is matched by a semi-join on its table."""
    if filters.centre_id is not None:
        statement = statement.where(record.centre_id == filters.centre_id)
    if filters.q:
        statement = statement.where(matches_text(record, filters.q))
    if filters.programme_id is not None:
        statement = statement.where(record.programme_id == filters.programme_id)
    if filters.state is not None:
        statement = statement.where(record.state == filters.state)
    if filters.organisation:
        statement = statement.where(organisation_named(record.organisation_id, filters.organisation))
    if filters.category:
        categories = select(ProgrammeCategory.id).where(
            or_(
                contains(ProgrammeCategory.name, filters.category), ProgrammeCategory.code == filters.category
            )
        )
        statement = statement.where(record.category_id.in_(categories))
    if filters.community:
        community = contains(Application.target_community, filters.community)
        if record is not Application:  # an award: the community its application targets
            community = record.application_id.in_(select(Application.id).where(community))
        statement = statement.where(community)
    return statement
