"""A small generic repository: composable ``Select`` statements, scoping, pagination."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import Integer, Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Base
from core.errors import NotFound
from core.i18n import N_, _
from core.identity.principal import Principal
from core.repository import direct
from core.repository.direct import DirectRead

M = TypeVar("M", bound=Base)
T = TypeVar("T")
S = TypeVar("S", bound=Select[Any])

MAX_PAGE_SIZE = 200
BUILT_LIMIT = 4096
"""How many built statements are kept (one per statement and distinct repository state: in
practice per user and statement); past it they are all dropped and built again."""

_BUILT: dict[Hashable, Any] = {}
_BY_ID: weakref.WeakKeyDictionary[Select[Any], Select[Any]] = weakref.WeakKeyDictionary()
RECORD_ID = "seedbed_record_id"
PAGE_LIMIT, PAGE_OFFSET = "seedbed_page_limit", "seedbed_page_offset"
Shape = frozenset[str]
"""Which of a list's filters are given: the names of their bound parameters. A list's
statement is built once per shape (``Repository.page_of``, ``listing.paginate_cut_first``),
its values bound at each execution."""


def page_window(statement: S) -> S:
    """``statement`` cut to one page whose size and offset are bound at each execution."""
    return statement.limit(bindparam(PAGE_LIMIT, type_=Integer())).offset(
        bindparam(PAGE_OFFSET, type_=Integer())
    )


def window_of(params: PageParams) -> dict[str, int]:
    """The values of ``page_window``'s parameters for one page."""
    return {PAGE_LIMIT: params.page_size, PAGE_OFFSET: params.offset}


def _frozen(value: Any) -> Hashable:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, set | frozenset):
        return frozenset(value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value  # type: ignore[no-any-return]


def count_of(statement: Select[*tuple[Any, ...]]) -> Select[int]:
    """How many rows ``statement`` returns (its ordering dropped): a list's total."""
    return select(func.count()).select_from(statement.order_by(None).subquery())


@dataclass(frozen=True)
class PageParams:
    page: int = 1
    page_size: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class Paged(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    page_size: int


class Repository(Generic[M]):
    model: ClassVar[type[Any]]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def select(self) -> Select[M]:
        return select(self.model)

    def built(self, build: Callable[[], S]) -> S:
        """The statement ``build`` (a method of this repository that takes no argument) returns,
        built once per distinct state of the repository and kept.

        A scoped statement depends only on what the repository holds (the principal, and
        for some the ids of the caller's organisations) and on nothing else: the key is
        the method and all of that state, so two callers share a statement only when their
        scope is the same. Building a statement and working out its cache key costs about
        as much as running it; a kept one has its key already.
        """
        return self.kept(getattr(build, "__func__", build), build)

    def kept(self, name: Hashable, build: Callable[[], T]) -> T:
        """What ``build`` returns (statements, reads of them), built once per ``name`` and
        distinct state of the repository and kept, as ``built`` keeps a statement."""
        key = self._state_key(name)
        found: T | None = _BUILT.get(key)
        if found is None:
            if len(_BUILT) >= BUILT_LIMIT:
                _BUILT.clear()
            found = _BUILT[key] = build()
        return found

    def _state_key(self, name: Hashable) -> Hashable:
        state = tuple(sorted((k, _frozen(v)) for k, v in vars(self).items() if k != "session"))
        return (type(self), name, state)

    def direct(
        self,
        name: Hashable,
        build: Callable[[], Select[Any]],
        make: Callable[[Iterable[Any]], Any] | None = None,
    ) -> DirectRead[Any]:
        """A ``DirectRead`` of the statement ``build`` returns, built and compiled once per
        ``name`` and distinct state of the repository (as ``built`` keeps statements)."""
        return self.kept(("direct", name), lambda: DirectRead(build(), make))

    async def read_rows(self, statement: Select[*tuple[Any, ...]]) -> list[Any]:
        """The rows of a statement of columns built for this request, with the driver's call
        where safe (``core.repository.direct.rows``): for reads that only show them."""
        return await direct.rows(await direct.connection_of(self.session), statement)

    async def get_one_or_none(
        self, statement: Select[M], params: Mapping[str, Any] | None = None
    ) -> M | None:
        result = await self.session.execute(statement, params)
        return result.unique().scalar_one_or_none()

    async def get_all(self, statement: Select[M]) -> Sequence[M]:
        result = await self.session.execute(statement)
        return result.unique().scalars().all()

    async def paginate_columns(self, statement: Select[Any], params: PageParams) -> Paged[Row[Any]]:
        """One page as rows of columns, without ORM objects, for a read that only shows them.

        A statement of the model runs on the session's connection, where each row holds the
        model's columns by name (and any column added to the statement). Building fifty
        objects, with their identity map and instrumentation, costs more than reading
        their rows.
        """
        connection = await direct.connection_of(self.session)
        total = (await direct.rows(connection, count_of(statement)))[0][0]
        rows = await direct.rows(connection, statement.limit(params.page_size).offset(params.offset))
        return Paged(items=rows, total=total, page=params.page, page_size=params.page_size)

    async def page_of(
        self,
        name: Hashable,
        build: Callable[[Shape], Select[Any]],
        values: Mapping[str, Any],
        params: PageParams,
    ) -> Paged[Any]:
        """One page of a list of columns whose filters are bound parameters, as rows (named
        tuples of the columns' keys) read with the driver's call where safe, and its total.

        ``values`` are the given filters' values by the name of their ``bindparam``;
        ``build(shape)`` writes the list's statement for those names alone. It is built,
        with its count, once per ``name``, shape and state of the repository: a request
        binds its values and builds no statement. Building a filtered statement, then its
        count and its cache key, cost about as much as running both.
        """
        shape = frozenset(values)
        count, page = self.kept(("page_of", name, shape), lambda: _page_reads(build(shape)))
        total = (await count.all(self.session, values))[0][0]
        rows = await page.all(self.session, {**values, **window_of(params)})
        return Paged(items=rows, total=total, page=params.page, page_size=params.page_size)

    async def paginate(self, statement: Select[M], params: PageParams) -> Paged[M]:
        total = (await self.session.execute(count_of(statement))).scalar_one()
        rows = await self.get_all(statement.limit(params.page_size).offset(params.offset))
        return Paged(items=rows, total=total, page=params.page, page_size=params.page_size)


def _page_reads(statement: Select[Any]) -> tuple[DirectRead[Any], DirectRead[Any]]:
    return DirectRead(count_of(statement)), DirectRead(page_window(statement))


class CentreScopedRepository(Repository[M]):
    """Every query starts from the principal's centre: routes cannot forget to filter.

    A record of another centre is simply not found (404), so its existence never leaks.
    """

    not_found_message: ClassVar[str] = N_("Record not found")

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        super().__init__(session)
        self.principal = principal

    def select(self) -> Select[M]:
        statement = select(self.model)
        if not self.principal.sees_all_centres:
            statement = statement.where(self.model.centre_id == self.principal.centre_id)
        return statement

    async def get(self, record_id: int, statement: Select[M] | None = None) -> M:
        """The record of that id within the caller's scope (``select``, or ``statement``
        built from it), else ``NotFound``. The statement of one record is built once per
        base statement; a base from ``built`` is itself built once."""
        base = statement if statement is not None else self.built(self.select)
        by_id = _BY_ID.get(base)
        if by_id is None:
            by_id = _BY_ID[base] = base.where(self.model.id == bindparam(RECORD_ID))
        record = await self.get_one_or_none(by_id, {RECORD_ID: record_id})
        if record is None:
            raise NotFound(_(self.not_found_message))
        return record

    async def row_of(self, record_id: int, name: Hashable, *columns: Any) -> Any:
        """Only ``columns`` of the record of that id within the caller's scope, as a named
        tuple read with the driver's call where safe (``core.repository.direct``), else
        ``NotFound``: for a read that shows the record and builds no ORM object of it."""
        read = self.direct(
            ("row_of", name),
            lambda: (
                self.select()
                .with_only_columns(*columns, maintain_column_froms=True)
                .where(self.model.id == bindparam(RECORD_ID))
            ),
        )
        row = await read.first(self.session, {RECORD_ID: record_id})
        if row is None:
            raise NotFound(_(self.not_found_message))
        return row
