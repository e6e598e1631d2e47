"""Sorting, text matching and paging of list queries, shared by the domains' repositories.

A list is sorted only by a key its repository names in a whitelist (key → column); any other
key is refused with a field error, so a URL can never choose an arbitrary column. Empty
values sort last in both directions on SQLite and PostgreSQL alike, and the record id breaks
ties so that pages never overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Integer, Select, bindparam, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from core.errors import ValidationFailed
from core.i18n import _
from core.repository import (
    PAGE_LIMIT,
    PAGE_OFFSET,
    Paged,
    PageParams,
    Repository,
    Shape,
    count_of,
    window_of,
)
from core.repository.direct import DirectRead

SortColumns = Mapping[str, Any]
SortJoins = Mapping[str, Sequence[tuple[Any, Any]]]
"""The tables a sort key needs joined, as (table, on clause) pairs, for the keys that sort
by a name other tables hold (an organisation's, a project's or contract's title)."""


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
    column = _sort_column(columns, order)
    return statement.order_by(None).order_by(*_ordering(column, tiebreak, order.descending))


def _sort_column(columns: SortColumns, order: SortOrder) -> Any:
    column = columns.get(order.key)
    if column is None:
        raise ValidationFailed.field(
            "sort", _("Sort: “{key}” is not a column this list can be sorted by").format(key=order.key[:40])
        )
    return column


def _ordering(column: Any, tiebreak: Any, descending: bool) -> tuple[Any, Any, Any]:
    if descending:
        return column.is_(None), column.desc(), tiebreak.desc()
    return column.is_(None), column.asc(), tiebreak.asc()


def cut_before_naming(
    named: Select[*tuple[Any, ...]],
    ids: Select[*tuple[Any, ...]],
    record_id: Any,
    columns: SortColumns,
    order: SortOrder,
    limit: int | BindParameter[int],
    offset: int | BindParameter[int] = 0,
    joins: SortJoins | None = None,
) -> Select[*tuple[Any, ...]]:
    """The rows of ``named`` (a record with the names of what it refers to joined) for one
    page of ``ids`` (the record's id, scoped and filtered on its own table), in ``order``.

    The page is sorted and cut on the record's table first, joining only the table the sort
    key needs (``joins``); the names are joined to those rows alone. Joining them before the
    cut makes PostgreSQL hash a whole table of organisations to show the fifty on a page."""
    column = _sort_column(columns, order)
    inner = ids.add_columns(column.label("sort"))
    for table, on in (joins or {}).get(order.key, ()):
        inner = inner.outerjoin(table, on)
    page = (
        inner.order_by(None)
        .order_by(*_ordering(column, record_id, order.descending))
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    return named.join(page, page.c.id == record_id).order_by(
        *_ordering(page.c.sort, page.c.id, order.descending)
    )


IdsOf = Callable[[Shape], Select[*tuple[Any, ...]]]
"""A list's ids statement for a shape of its filters, each given filter a bound parameter."""


async def paginate_cut_first(
    repository: Repository[Any],
    name: str,
    named: Callable[[], Select[*tuple[Any, ...]]],
    ids: IdsOf,
    values: Mapping[str, Any],
    record_id: Any,
    columns: SortColumns,
    order: SortOrder,
    params: PageParams,
    joins: SortJoins | None = None,
    *,
    as_rows: bool = False,
) -> Paged[Any]:
    """One page of a list of records with names joined (``cut_before_naming``) and the
    total, counted on the record's table alone.

    ``values`` are the given filters' values by the name of their bound parameter;
    ``ids(shape)`` writes the filtered ids for those names. The page's statement and its
    count are built once per list (``name``), shape, sort order and state of the repository
    (``Repository.kept``), and a request binds its values and the page's window: building
    them, and SQLAlchemy's cache key of each, cost more than running them. ``as_rows``
    reads the page as rows of columns by name, with the driver's call where safe, without
    ORM objects (for a page that only prints them)."""
    shape = frozenset(values)

    def build() -> tuple[DirectRead[Any], Any]:
        listed = ids(shape)
        statement = cut_before_naming(
            named(), listed, record_id, columns, order,
            bindparam(PAGE_LIMIT, type_=Integer()), bindparam(PAGE_OFFSET, type_=Integer()), joins,
        )  # fmt: skip
        return DirectRead(count_of(listed)), DirectRead(statement) if as_rows else statement

    count, page = repository.kept(("cut_first", name, shape, order, as_rows), build)
    total = (await count.all(repository.session, values))[0][0]
    window = {**values, **window_of(params)}
    if isinstance(page, DirectRead):
        rows = await page.all(repository.session, window)
    else:
        rows = list((await repository.session.execute(page, window)).all())
    return Paged(items=rows, total=total, page=params.page, page_size=params.page_size)


async def all_cut_first(
    session: AsyncSession,
    named: Select[*tuple[Any, ...]],
    ids: IdsOf,
    values: Mapping[str, Any],
    record_id: Any,
    columns: SortColumns,
    order: SortOrder,
    limit: int,
    joins: SortJoins | None = None,
) -> list[tuple[Any, ...]]:
    """Every row of a list of records with names joined, up to ``limit``, in ``order``
    (an export: ``cut_before_naming`` without a page); filtered as ``paginate_cut_first``."""
    statement = cut_before_naming(
        named, ids(frozenset(values)), record_id, columns, order, limit, joins=joins
    )
    return [tuple(row) for row in (await session.execute(statement, dict(values))).all()]


def like_pattern(text: str) -> str:
    """The LIKE pattern of a case-insensitive substring match of ``text`` (stripped), with
    the LIKE wildcards in it taken literally."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def searched(q: str | None) -> dict[str, Any]:
    """The bound values of a list's free-text search: ``q``, its pattern (``like_pattern``),
    and ``q_number``, the record number it may be (``number_of``)."""
    if not q:
        return {}
    number = number_of(q)
    return {"q": like_pattern(q)} | ({} if number is None else {"q_number": number})


def like_values(**texts: str | None) -> dict[str, str]:
    """The bound patterns (``like_pattern``) of the text filters given, by name."""
    return {name: like_pattern(text) for name, text in texts.items() if text}


def given(**values: Any) -> dict[str, Any]:
    """The filters given (not None), by the name of their bound parameter."""
    return {name: value for name, value in values.items() if value is not None}


def contains(column: Any, text: str | BindParameter[str]) -> ColumnElement[bool]:
    """Case-insensitive substring match with the LIKE wildcards in ``text`` taken literally;
    a bound parameter is given its pattern (``like_pattern``) at each execution."""
    pattern = text if isinstance(text, BindParameter) else like_pattern(text)
    return column.ilike(pattern, escape="\\")  # type: ignore[no-any-return]


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
