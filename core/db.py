"""Engine, sessions, the declarative base and the column types every domain shares.

The SQLite/PostgreSQL choice happens here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Enum, MetaData, Numeric, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, ORMExecuteState, Session, mapped_column
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from core.money import CENT, to_money

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Money(TypeDecorator[Decimal]):
    """Exact CNY amounts: NUMERIC(14,2) on PostgreSQL, integer fen on SQLite.

    SQLite has no decimal type: NUMERIC columns hold REAL, so ``committed + :x <= total``
    would compare floats. Storing fen as INTEGER keeps arithmetic in SQL exact there too.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(14, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = to_money(value)
        if dialect.name == "sqlite":
            return int(amount / CENT)
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) * CENT).quantize(CENT)
        return to_money(value)


class Fixed(TypeDecorator[Decimal]):
    """Exact decimals that are not money (hours, scores): NUMERIC on PostgreSQL, scaled integer on SQLite."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 10, scale: int = 2) -> None:
        super().__init__(precision, scale)
        self.precision = precision
        self.scale = scale
        self.quantum = Decimal(1).scaleb(-scale)

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value).quantize(self.quantum)
        if dialect.name == "sqlite":
            return int(amount.scaleb(self.scale))
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-self.scale).quantize(self.quantum)
        return Decimal(value).quantize(self.quantum)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps stored in UTC; always come back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def string_enum(kind: type[StrEnum], length: int) -> Enum:
    """An enum stored as its value in a VARCHAR (no database enum type to migrate)."""
    return Enum(kind, native_enum=False, length=length)


def compare_and_set(state: Any) -> dict[str, Any]:
    """Mapper arguments that make every UPDATE of a row a compare-and-set on its state.

    SQLAlchemy's version counter is pointed at the state column, with the application
    choosing the next value: a flush writes ``UPDATE … SET state = :to WHERE id = :id AND
    state = :from`` (``:from`` is the state this session read), and raises ``StaleDataError``
    when no row matched because another transaction moved the state first. Two requests
    racing to make the same transition therefore have exactly one winner; the loser's whole
    transaction rolls back and ``api`` answers 409. Edits that do not change the state are
    guarded the same way, so nothing is written over a state that changed meanwhile.
    """
    return {"version_id_col": state, "version_id_generator": False}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, emit BEGIN (SQLAlchemy's documented SQLite recipe), so
    # SAVEPOINT and transactional DDL behave as on PostgreSQL.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock at BEGIN: a transaction never fails half-way with
    # SQLITE_BUSY when it upgrades from reading to writing; others wait (busy_timeout).
    # Connections marked read-only (``execution_options(read_only=True)``) begin deferred.
    if connection.get_execution_options().get("read_only"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(
    url: str,
    *,
    statement_timeout_ms: int = 5000,
    lock_timeout_ms: int | None = None,
    pool: bool = True,
    pool_size: int = 10,
    max_overflow: int = 20,
) -> AsyncEngine:
    """The one place that knows how to talk to SQLite and to PostgreSQL.

    On PostgreSQL a lock wait gives up well before the statement timeout (by default at
    two fifths of it), so a request queued behind a busy row answers "busy, retry" rather
    than being cancelled as a slow statement.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    if lock_timeout_ms is None:
        lock_timeout_ms = max(statement_timeout_ms * 2 // 5, 1)
    kwargs["connect_args"] = {
        "server_settings": {
            "statement_timeout": str(statement_timeout_ms),
            "lock_timeout": str(lock_timeout_ms),
            "timezone": "UTC",
        }
    }
    if not pool:
        kwargs["poolclass"] = NullPool
    else:
        # No pre-ping: it is a round trip on every checkout. A connection broken by a server
        # restart fails its one request, and SQLAlchemy then invalidates the whole pool.
        kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_recycle=1800)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class ReadingSession(Session):
    """The session of a request that only reads: it refuses to flush and to run anything but
    a SELECT, so a write slipped into a reading route fails in its tests instead of being
    committed statement by statement."""


class WriteInReadingSession(RuntimeError):
    """A route marked as reading only tried to write (a programming error)."""


def _refuse_flush(session: Session, *_: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise WriteInReadingSession("a reading request tried to write")


def _refuse_write(state: ORMExecuteState) -> None:
    if not state.is_select:
        raise WriteInReadingSession("a reading request tried to write")


event.listen(ReadingSession, "before_flush", _refuse_flush)
event.listen(ReadingSession, "do_orm_execute", _refuse_write)


def reading_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for requests that only read, without BEGIN and COMMIT round trips.

    On PostgreSQL the connection is in autocommit: each SELECT runs in a snapshot of its
    own, which is what a transaction of reads gets anyway at READ COMMITTED (PostgreSQL's
    default and ours), so nothing a reader can see changes, and the request saves two round
    trips. On SQLite the reads share one deferred transaction (``read_only``), rolled back
    at the end. Every other request keeps ``session_factory``'s one transaction.
    """
    options = (
        {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {"read_only": True}
    )
    return async_sessionmaker(
        engine.execution_options(**options),
        sync_session_class=ReadingSession,
        expire_on_commit=False,
        autoflush=False,
    )


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Commit once, at the edge: the caller (request or job) owns the transaction."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
