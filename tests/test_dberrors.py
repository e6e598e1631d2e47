"""What a database failure is answered with: contention is a 409 to retry, a slow or absent
database a 503 to retry, a stored rule a 409, an unstorable value a 422; a bug stays a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError

from core.dberrors import meaning_of
from core.errors import Busy, Conflict, Unavailable, ValidationFailed


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _failure(
    sqlstate: str | None, message: str = "failed", kind: type = sa_exc.DBAPIError
) -> sa_exc.DBAPIError:
    error: sa_exc.DBAPIError = kind("UPDATE t SET x = 1", {}, _DriverError(message, sqlstate))
    return error


@pytest.mark.parametrize(
    ("sqlstate", "expected", "status", "retry"),
    [
        ("55P03", Busy, 409, True),  # lock_not_available: lock_timeout
        ("40001", Busy, 409, True),  # serialization_failure
        ("40P01", Busy, 409, True),  # deadlock_detected
        ("57014", Unavailable, 503, True),  # statement timeout
        ("53300", Unavailable, 503, True),  # too many connections
        ("08006", Unavailable, 503, True),  # connection failure
        ("57P01", Unavailable, 503, True),  # admin shutdown
        ("23505", Conflict, 409, False),  # unique
        ("23514", Conflict, 409, False),  # check
        ("23503", Conflict, 409, False),  # foreign key
        ("23502", ValidationFailed, 422, False),  # not null
        ("22003", ValidationFailed, 422, False),  # numeric out of range
        ("22021", ValidationFailed, 422, False),  # NUL byte / bad encoding
    ],
)
def test_postgresql_failures_have_a_meaning(sqlstate: str, expected: type, status: int, retry: bool) -> None:
    meaning = meaning_of(_failure(sqlstate))
    assert meaning is not None
    assert isinstance(meaning, expected)
    assert meaning.status_code == status
    assert (meaning.retry_after is not None) is retry
    assert meaning.message


def test_a_lost_compare_and_set_is_a_conflict() -> None:
    meaning = meaning_of(StaleDataError("UPDATE statement on table 'programmes' expected to update 1 row(s)"))
    assert isinstance(meaning, Conflict)
    assert meaning.status_code == 409


def test_sqlite_busy_and_rules() -> None:
    locked = meaning_of(_failure(None, "database is locked", sa_exc.OperationalError))
    assert isinstance(locked, Busy)
    unique = meaning_of(_failure(None, "UNIQUE constraint failed: users.email", sa_exc.IntegrityError))
    assert isinstance(unique, Conflict)
    assert unique.status_code == 409


def test_a_refused_connection_and_an_empty_pool_are_unavailable() -> None:
    assert isinstance(meaning_of(ConnectionRefusedError("connect")), Unavailable)
    assert isinstance(meaning_of(sa_exc.TimeoutError("QueuePool limit reached")), Unavailable)


def test_what_is_not_a_database_failure_stays_a_bug() -> None:
    assert meaning_of(ValueError("boom")) is None
    assert meaning_of(_failure("XX000", "internal error")) is None
    assert meaning_of(_failure("42P01", "relation does not exist")) is None
