"""Sorting, text matching and paging of list queries, shared by the domains' repositories.

A list is sorted only by a key its repository names in a whitelist (key → column); any other
key is refused with a field error, so a URL can never choose an arbitrary column. Empty
values sort last in both directions on SQLite and PostgreSQL alike, and the record id breaks
ties so that pages never overlap.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Select, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from core.errors import ValidationFailed
from core.i18n import _
from core.repository import Paged, PageParams, count_of

SortColumns = Mapping[str, Any]


@dataclass(frozen=True)
class SortOrder:
    key: str
    descending: bool = False

    @classmethod
    def parse(cls, raw: str | None, allowed: SortColumns, default: str) -> SortOrder:
        """``name`` sorts ascending, ``-name`` descending; an unknown key is a 422 on ``sort``."""
        text = (raw or "").strip() or default
        descending = text.startswith("-")
        key = text.removeprefix("-")
        if key not in allowed:
            raise ValidationFailed.field(
                "sort",
                _("Sort: “{key}” is not a column this list can be sorted by (choose one of: {keys})").format(
                    key=key[:40], keys=", ".join(allowed)
                ),
            )
        return cls(key, descending)

    @property
    def param(self) -> str:
        return f"-{self.key}" if self.descending else self.key


def sorted_by(statement: Select[Any], columns: SortColumns, order: SortOrder, tiebreak: Any) -> Select[Any]:
    """``ORDER BY column IS NULL, column [DESC], tiebreak [DESC]`` for a whitelisted key."""
    column = columns.get(order.key)
    if column is None:
        raise ValidationFailed.field(
            "sort", _("Sort: “{key}” is not a column this list can be sorted by").format(key=order.key[:40])
        )
    direction = column.desc() if order.descending else column.asc()
    tie = tiebreak.desc() if order.descending else tiebreak.asc()
    return statement.order_by(None).order_by(column.is_(None), direction, tie)


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match with the LIKE wildcards in ``text`` taken literally."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")  # type: ignore[no-any-return]


def number_of(text: str) -> int | None:
    """The record number a user typed (``12``, ``#12``, ``No.12``), if the text is one."""
    digits = text.strip().lstrip("#").removeprefix("No.").removeprefix("no.").strip()
    if digits.isdigit() and len(digits) <= 12:
        return int(digits)
    return None


Columns = TypeVarTuple("Columns")

CHOICES = 50
"""How many records a chooser offers at once: it searches on the server for the rest."""


def chosen_first(
    statement: Select[*Columns],
    id_column: Any,
    labels: Sequence[Any],
    q: str,
    chosen: Collection[int],
    limit: int = CHOICES,
) -> Select[*Columns]:
    """A chooser's rows: the records already chosen, then the first ``limit`` whose label
    contains ``q`` (or whose number ``q`` is), in label order — one statement, whatever the
    size of the table."""
    matches: list[ColumnElement[bool]] = []
    if q.strip():
        matches.extend(contains(label, q) for label in labels)
        number = number_of(q)
        if number is not None:
            matches.append(id_column == number)
    match = or_(*matches) if matches else None
    ids = [i for i in chosen if i]
    if not ids:
        statement = statement if match is None else statement.where(match)
        return statement.order_by(*labels, id_column).limit(limit)
    is_chosen = id_column.in_(ids)
    if match is not None:
        statement = statement.where(or_(match, is_chosen))
    return statement.order_by(is_chosen.desc(), *labels, id_column).limit(limit + len(ids))


async def paginate_rows(session: AsyncSession, statement: Select[Any], params: PageParams) -> Paged[Any]:
    """One page of multi-column rows (a record with the names joined to it) and the total."""
    total = (await session.execute(count_of(statement))).scalar_one()
    rows = (await session.execute(statement.limit(params.page_size).offset(params.offset))).all()
    return Paged(
        items=[tuple(row) for row in rows], total=total, page=params.page, page_size=params.page_size
    )


async def all_rows(session: AsyncSession, statement: Select[Any], limit: int) -> Sequence[tuple[Any, ...]]:
    """Every row of a filtered list, up to ``limit`` (for exports)."""
    return [tuple(row) for row in (await session.execute(statement.limit(limit))).all()]
