"""The filters the applications list and the projects list share.

Both lists show a record of a programme (an application, or the award made on one) with
its organisation, category and target community joined, and both are searched alike:
free text on the title and organisation (or the record's number), programme, state,
organisation name, category name or code, community. Each list adds its own dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_

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


def matches_text(record: Any, q: str) -> ColumnElement[bool]:
    """The record's title or its organisation's name contains ``q``, or ``q`` is its number
    (the free-text search of the applications, projects and contracts lists)."""
    number = number_of(q)
    matches = [contains(record.title, q), contains(Organisation.name, q)]
    if number is not None:
        matches.append(record.id == number)
    return or_(*matches)


def filter_programme_records(statement: S, record: Any, filters: ProgrammeRecordFilters) -> S:
    """``statement`` (over ``record``, Application or Award, with Organisation,
    ProgrammeCategory and Application joined) narrowed by the filters both lists share."""
    if filters.centre_id is not None:
        statement = statement.where(record.centre_id == filters.centre_id)
    if filters.q:
        statement = statement.where(matches_text(record, filters.q))
    if filters.programme_id is not None:
        statement = statement.where(record.programme_id == filters.programme_id)
    if filters.state is not None:
        statement = statement.where(record.state == filters.state)
    if filters.organisation:
        statement = statement.where(contains(Organisation.name, filters.organisation))
    if filters.category:
        statement = statement.where(
            or_(
                contains(ProgrammeCategory.name, filters.category), ProgrammeCategory.code == filters.category
            )
        )
    if filters.community:
        statement = statement.where(contains(Application.target_community, filters.community))
    return statement
