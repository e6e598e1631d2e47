"""Hot statements sent with the driver's own call: a SELECT of columns, or an INSERT / UPDATE /
DELETE with RETURNING, built once with SQLAlchemy, compiled once per dialect, its values and
rows typed by the same column types SQLAlchemy would apply.

Why: on PostgreSQL a statement through ``AsyncSession.execute`` costs about 0.37 ms of
Python here and through ``AsyncConnection.execute`` 0.29 ms; the same statement through
asyncpg's ``fetch`` costs 0.14 ms. Every request resolves its principal, and a detail reads
a handful of statements, so on a two-core server that difference was most of a read.

Where it is safe, and only there, the statement goes straight to the driver:
- PostgreSQL through asyncpg, on a connection in autocommit (``reading_session_factory``'s
  sessions), or already inside the transaction SQLAlchemy began on it: the driver call
  sees exactly what SQLAlchemy's would. Before SQLAlchemy has sent its BEGIN (it sends it
  with its first statement), only a read marked ``outside_transaction`` (the principal's
  lookup) goes direct. Every other statement, and every one on SQLite, runs through
  SQLAlchemy's ``AsyncConnection.execute``.
- The statement's bind and result processors (enums, money, UTC timestamps) are the ones
  its column types give for the dialect, so both paths return the same values.
- Listeners of ``before_cursor_execute`` / ``after_cursor_execute`` (the bench's capture of
  the SQL, the tests that count statements and rows) still see every statement.
- A driver error is raised as SQLAlchemy would raise it (an ``IntegrityError`` for a unique
  violation, an ``OperationalError`` for a timeout, each a ``DBAPIError`` carrying the
  SQLSTATE), with the connection invalidated when the driver lost it, so the error handlers
  and the services' ``except IntegrityError`` answer it as any other.

Writes (``DirectWrite``) go to the driver only inside the request's transaction: when
SQLAlchemy has not yet sent its BEGIN, it is begun on the driver as SQLAlchemy's own first
statement would begin it, so the session's COMMIT or ROLLBACK ends it. A reading session
refuses them as it refuses any write; pending ORM changes are flushed first, as the
session's autoflush would before its own statement.
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.elements import ColumnElement

from core.db import ReadingSession, WriteInReadingSession

R = TypeVar("R")

_DRIVER = "seedbed_driver_connection"
_ADAPTER = "seedbed_adapted_connection"


@dataclass(frozen=True)
class _Plan:
    sql: str
    names: tuple[str, ...]
    bind_processors: tuple[Callable[[Any], Any] | None, ...]
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]
    """(column index, result processor) of the columns that have one."""
    fixed: dict[str, Any]
    """The values built into the statement (a scope's centre, a limit), by name; a
    ``bindparam`` without one is given at each execution."""
    defaults: tuple[tuple[str, Callable[[], Any]], ...] = ()
    """A write's columns SQLAlchemy fills in Python at each execution (``default=`` and
    ``onupdate=`` callables and scalars), by name."""


class _Cursor:
    """What a cursor listener may look at: the rows fetched (``_rows``, as the async
    adapters' cursors hold them) and their count."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self) -> None:
        self._rows: Sequence[Any] = ()
        self.rowcount = -1


class _Direct(Generic[R]):
    """A statement built once whose rows (selected or returned columns) come back as
    ``make(values)``, by default named tuples of the columns' keys; its plan is kept per
    dialect."""

    def __init__(self, statement: Any, columns: list[Any], keys: Sequence[str | None], make: Any) -> None:
        self.statement = statement
        self.columns = columns
        self.keys = tuple(keys)
        named: Any = namedtuple  # its fields are the statement's keys, known only here
        default: Callable[[Iterable[Any]], Any] = named("DirectRow", self.keys, rename=True)._make
        self.make: Callable[[Iterable[Any]], R] = make or default
        self._plans: dict[str, _Plan] = {}

    async def _run(
        self, connection: AsyncConnection, driver: Any | None, params: Mapping[str, Any] | None
    ) -> list[R]:
        """Through the driver when given one, else through SQLAlchemy's ``execute``."""
        make = self.make
        if driver is None:
            result = await connection.execute(self.statement, dict(params or {}))
            return [make(row) for row in result]
        plan = self._plans.get(connection.dialect.name)
        if plan is None:
            compiled = self.statement.compile(dialect=connection.dialect)
            plan = self._plans[connection.dialect.name] = await _planned(
                connection, driver, compiled, self.columns
            )
        values = {**plan.fixed, **params} if params else plan.fixed
        if plan.defaults:
            values = {**values, **{name: default() for name, default in plan.defaults}}
        records = await _fetch(connection, driver, plan, [values[name] for name in plan.names])
        return _typed(plan, records, make)


class DirectRead(_Direct[R]):
    """A SELECT of columns whose rows come back as ``make(values)`` (by default a named
    tuple of the selected columns' keys), run with the driver's call where safe."""

    def __init__(
        self,
        statement: Select[*tuple[Any, ...]],
        make: Callable[[Iterable[Any]], R] | None = None,
        *,
        outside_transaction: bool = False,
    ) -> None:
        columns = list(statement.selected_columns)
        if not all(isinstance(column, ColumnElement) for column in columns):
            raise TypeError("DirectRead reads columns, not ORM entities")
        generic = statement.compile()
        self.expanding = bool(
            getattr(generic, "post_compile_params", None) or getattr(generic, "literal_execute_params", None)
        )
        """An IN list (an applicant's organisations): its parameters are expanded by
        SQLAlchemy at execution, so such a read always runs through SQLAlchemy."""
        self.outside_transaction = outside_transaction
        """May run on its own before the request's transaction has begun (the principal's
        lookup: at READ COMMITTED a statement sees what is committed when it starts,
        inside a transaction or not)."""
        super().__init__(statement, columns, statement.selected_columns.keys(), make)

    async def all(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> list[R]:
        return await self.all_on(await connection_of(session), params)

    async def first(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> R | None:
        rows = await self.all(session, params)
        return rows[0] if rows else None

    async def all_on(self, connection: AsyncConnection, params: Mapping[str, Any] | None = None) -> list[R]:
        driver = None if self.expanding else await _driver_for(connection, self.outside_transaction)
        return await self._run(connection, driver, params)


class DirectWrite(_Direct[R]):
    """An INSERT, UPDATE or DELETE with RETURNING, built once, whose returned rows come back
    as ``make(values)`` (by default named tuples of the returned columns' keys): the rows
    written, or none when a compare-and-set found nothing to move. On PostgreSQL it is sent
    with the driver's call inside the session's transaction; elsewhere through SQLAlchemy's
    ``AsyncConnection.execute``."""

    def __init__(self, statement: UpdateBase, make: Callable[[Iterable[Any]], R] | None = None) -> None:
        columns = list(statement.exported_columns)
        if not columns:
            raise TypeError("DirectWrite needs RETURNING: its rows tell what was written")
        if not all(isinstance(column, ColumnElement) for column in columns):
            raise TypeError("DirectWrite returns columns, not ORM entities")
        super().__init__(statement, columns, statement.exported_columns.keys(), make)

    async def run(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> list[R]:
        if isinstance(session.sync_session, ReadingSession):
            raise WriteInReadingSession("a reading request tried to write")
        if session.new or session.dirty or session.deleted:
            await session.flush()
        return await self.run_on(await connection_of(session), params)

    async def first(self, session: AsyncSession, params: Mapping[str, Any] | None = None) -> R | None:
        rows = await self.run(session, params)
        return rows[0] if rows else None

    async def run_on(self, connection: AsyncConnection, params: Mapping[str, Any] | None = None) -> list[R]:
        return await self._run(connection, await _writing_driver(connection), params)


@dataclass(frozen=True)
class _Keyed:
    plan: _Plan
    positions: tuple[str, ...]
    """The compiled name of each of the cache key's bound values, in the key's order."""
    make: Callable[[Iterable[Any]], Any]


_KEYED: dict[Hashable, _Keyed | None] = {}
_UNPLANNED: Any = object()
KEYED_LIMIT = 1024


async def rows(connection: AsyncConnection, statement: Select[*tuple[Any, ...]]) -> list[Any]:
    """The rows of a statement built for this request (a list filtered as asked), with the
    driver's call where safe: its plan is kept per structure, by SQLAlchemy's cache key
    (the statement with its values taken out, as SQLAlchemy's own compiled cache keys it),
    and this request's values are the key's. Rows are named tuples of the statement's keys
    on that path, SQLAlchemy's rows otherwise (both read by attribute and by position)."""
    driver = await _driver_for(connection)
    key = None if driver is None else statement._generate_cache_key()
    keyed = None if key is None else _KEYED.get((connection.dialect.name, key.key), _UNPLANNED)
    if key is None or keyed is None:
        return list((await connection.execute(statement)).all())
    if keyed is _UNPLANNED:
        keyed = await _keyed_plan(connection, driver, statement, key)
        if keyed is None:
            return list((await connection.execute(statement)).all())
    values = [bound.effective_value for bound in key.bindparams]
    by_name = dict(zip(keyed.positions, values, strict=True))
    records = await _fetch(connection, driver, keyed.plan, [by_name[name] for name in keyed.plan.names])
    return _typed(keyed.plan, records, keyed.make)


async def _keyed_plan(
    connection: AsyncConnection, driver: Any, statement: Select[*tuple[Any, ...]], key: Any
) -> _Keyed | None:
    """The plan of this statement's structure; None (kept, so asked once) when it cannot be
    run by the driver: an IN list to expand, or a value that is not one of the key's."""
    compiled = statement.compile(dialect=connection.dialect)
    columns = list(statement.selected_columns)
    positions = tuple(compiled.bind_names.get(bound) for bound in key.bindparams)
    keyed: _Keyed | None = None
    usable = (
        not getattr(compiled, "post_compile_params", None)
        and not getattr(compiled, "literal_execute_params", None)
        and all(isinstance(column, ColumnElement) for column in columns)
        and None not in positions
        and set(compiled.positiontup or ()) <= set(positions)
    )
    if usable:
        named: Any = namedtuple
        keys = tuple(statement.selected_columns.keys())
        keyed = _Keyed(
            plan=await _planned(connection, driver, compiled, columns),
            positions=positions,  # type: ignore[arg-type]
            make=named("DirectRow", keys, rename=True)._make,
        )
    if len(_KEYED) >= KEYED_LIMIT:
        _KEYED.clear()
    _KEYED[(connection.dialect.name, key.key)] = keyed
    return keyed


async def _planned(connection: AsyncConnection, driver: Any, compiled: Any, columns: list[Any]) -> _Plan:
    """A compiled statement's plan. The result processors are chosen as SQLAlchemy chooses
    them from a cursor's description: by the type the server names for each column
    (asyncpg's numeric processors need it), asked of the server once per plan."""
    dialect = connection.dialect
    names = tuple(compiled.positiontup or ())
    sql = str(compiled)
    try:
        described = (await driver.prepare(sql)).get_attributes()
    except Exception as error:
        raise await _wrapped(connection, driver, sql, [], error) from error
    result_processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, attribute.type.oid)
        for column, attribute in zip(columns, described, strict=True)
    )
    return _Plan(
        sql=sql,
        names=names,
        bind_processors=tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
        ),
        processed=tuple((i, process) for i, process in enumerate(result_processors) if process is not None),
        fixed=compiled.construct_params(_check=False),
        defaults=_python_defaults(compiled, names),
    )


def _python_defaults(compiled: Any, names: tuple[str, ...]) -> tuple[tuple[str, Callable[[], Any]], ...]:
    """The columns of a write that SQLAlchemy fills in Python at each execution: an INSERT's
    ``default=`` and an UPDATE's ``onupdate=``, a scalar or a callable without arguments."""
    found: list[tuple[str, Callable[[], Any]]] = []
    for column, attribute in [(c, "default") for c in getattr(compiled, "insert_prefetch", ())] + [
        (c, "onupdate") for c in getattr(compiled, "update_prefetch", ())
    ]:
        default = getattr(column, attribute)
        if column.key not in names or default is None or not (default.is_scalar or default.is_callable):
            raise TypeError(f"DirectWrite cannot fill {column.key!r}: give it a value")
        found.append((column.key, _filler(default)))
    return tuple(found)


def _filler(default: Any) -> Callable[[], Any]:
    """A column default's value at each execution: its scalar, or its callable's answer
    (SQLAlchemy wraps a callable without arguments into one that takes the context)."""
    if default.is_scalar:
        return lambda: default.arg
    make = default.arg
    return lambda: make(None)


async def _fetch(connection: AsyncConnection, driver: Any, plan: _Plan, values: list[Any]) -> Any:
    """The statement sent with asyncpg's ``fetch``, between the cursor events listeners expect."""
    args = tuple(  # a tuple, as SQLAlchemy hands positional parameters to cursor listeners
        value if process is None else process(value)
        for process, value in zip(plan.bind_processors, values, strict=True)
    )
    sync = connection.sync_connection
    assert sync is not None
    dispatch = sync.dispatch
    cursor = _Cursor()
    dispatch.before_cursor_execute(sync, cursor, plan.sql, args, None, False)
    try:
        records = await driver.fetch(plan.sql, *args)
    except Exception as error:
        raise await _wrapped(connection, driver, plan.sql, args, error) from error
    cursor._rows, cursor.rowcount = records, len(records)
    dispatch.after_cursor_execute(sync, cursor, plan.sql, args, None, False)
    return records


def _typed(plan: _Plan, records: Any, make: Callable[[Iterable[Any]], Any]) -> list[Any]:
    steps = plan.processed
    if not steps:
        return [make(record) for record in records]
    rows = []
    for record in records:
        values = list(record)
        for index, process in steps:
            values[index] = process(values[index])
        rows.append(make(values))
    return rows


async def _driver_for(connection: AsyncConnection, outside_transaction: bool = False) -> Any | None:
    """The asyncpg connection to send a read to directly, or None to leave it to SQLAlchemy.

    Direct where the driver call sees what SQLAlchemy's would: a reading session's
    connection (autocommit), or a connection already inside the transaction SQLAlchemy began
    on it (a read then joins that transaction, as SQLAlchemy's would). Not on a connection
    whose transaction SQLAlchemy has begun but not yet sent (it sends BEGIN with its first
    statement): the read would run before the transaction, unless the read says it may
    (``outside_transaction``)."""
    if connection.dialect.driver != "asyncpg":
        return None
    driver = await _driver_of(connection)
    return driver if _direct(connection, driver, outside_transaction) else None


def _direct(connection: AsyncConnection, driver: Any, outside_transaction: bool) -> bool:
    sync = connection.sync_connection
    return sync is not None and (
        outside_transaction
        or sync.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        or bool(driver.is_in_transaction())
    )


_CONNECTION = "seedbed_session_connection"


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """``session.connection()``, asked of SQLAlchemy once per transaction of the session:
    each call crosses into SQLAlchemy's greenlet, about as costly as the driver's call for
    the statement itself. Kept with the transaction it belongs to; a new transaction (after
    a commit or a rollback) asks again, and so does every statement inside a savepoint
    (``begin_nested``), whose SAVEPOINT SQLAlchemy sends when its connection is first asked."""
    sync = session.sync_session
    transaction = sync.get_transaction()
    kept = session.info.get(_CONNECTION)
    if (
        kept is not None
        and transaction is not None
        and kept[0]() is transaction
        and transaction.is_active
        and sync.get_nested_transaction() is None
    ):
        connection: AsyncConnection = kept[1]
        return connection
    connection = await session.connection()
    # The transaction by a weak reference: it refers to its session, so a strong one in the
    # session's ``info`` would be a cycle that only a full garbage collection frees.
    session.info[_CONNECTION] = (weakref.ref(sync.get_transaction()), connection)
    return connection


async def _writing_driver(connection: AsyncConnection) -> Any | None:
    """The asyncpg connection to send a write to, inside the transaction SQLAlchemy began on
    this connection; None to leave it to SQLAlchemy (SQLite, an autocommit connection)."""
    if connection.dialect.driver != "asyncpg":
        return None
    sync = connection.sync_connection
    if sync is None or sync.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return None
    driver = await _driver_of(connection)
    if not driver.is_in_transaction():
        await _begin(connection)
        if not driver.is_in_transaction():
            return None
    return driver


async def _begin(connection: AsyncConnection) -> None:
    """Send the BEGIN SQLAlchemy's adapter sends before its first statement on a connection,
    through the adapter itself, so it holds the transaction and the session's COMMIT or
    ROLLBACK ends it (with the isolation level and read-only options it was given)."""
    adapter = connection.info.get(_ADAPTER)
    if adapter is None:
        await _driver_of(connection)
        adapter = connection.info[_ADAPTER]
    if getattr(adapter, "_transaction", False) is None:
        async with adapter._execute_mutex:
            if adapter._transaction is None:
                await adapter._start_transaction()


async def _driver_of(connection: AsyncConnection) -> Any:
    """The asyncpg connection under this pooled connection (kept in the pooled connection's
    ``info``, which lives as long as the driver connection does), and SQLAlchemy's adapter
    around it beside it."""
    info = connection.info
    driver = info.get(_DRIVER)
    if driver is None:
        raw = await connection.get_raw_connection()
        info[_ADAPTER] = raw.dbapi_connection
        driver = info[_DRIVER] = raw.driver_connection
    return driver


async def _wrapped(
    connection: AsyncConnection, driver: Any, sql: str, args: Sequence[Any], error: Exception
) -> sa_exc.DBAPIError:
    """The driver's error as SQLAlchemy would raise it: translated by the dialect into its
    DB-API class (so a unique violation is an ``IntegrityError``), wrapped in the matching
    ``DBAPIError`` whose ``orig`` carries the SQLSTATE; a connection the driver lost is
    invalidated, not returned to the pool."""
    lost = bool(driver.is_closed()) or isinstance(error, OSError)
    if lost:
        connection.info.pop(_DRIVER, None)
        connection.info.pop(_ADAPTER, None)
        await connection.invalidate(error)
    dialect = connection.dialect
    dbapi: Any = dialect.dbapi
    translated: BaseException = error
    try:
        dialect_connection: Any = type(connection.info.get(_ADAPTER) or object)
        translate = getattr(dialect_connection, "_handle_exception_no_connection", None)
        if translate is not None:
            translate(dbapi, error)
    except Exception as adapted:  # the dialect raises the translated error
        translated = adapted
    wrapped = sa_exc.DBAPIError.instance(
        sql, list(args), translated, dbapi.Error, connection_invalidated=lost, dialect=dialect
    )
    return wrapped if isinstance(wrapped, sa_exc.DBAPIError) else sa_exc.DBAPIError(sql, args, error)
