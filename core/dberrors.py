"""What a database failure means to the person who sent the request.

Contention (a lock wait that gave up, a serialisation failure, a deadlock, a compare-and-set
that lost its race) is a 409 that says "try again" with ``Retry-After``; a database that is
too slow or unreachable is a 503 with ``Retry-After``; a stored rule that refused the change
(unique, check, foreign key) is a 409, and a value the database cannot store is a 422. Only
what is none of these is left to be a 500. Nothing was changed in any of these cases: the
transaction that failed is rolled back whole.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError

from core.errors import Busy, Conflict, DomainError, Unavailable, ValidationFailed
from core.i18n import _

# PostgreSQL SQLSTATE codes (Appendix A of its manual).
_BUSY = {"55P03", "40001", "40P01"}  # lock_not_available, serialization_failure, deadlock_detected
_TOO_SLOW = {"57014"}  # query_canceled: the statement timeout
_UNREACHABLE_CLASSES = ("08", "53", "57P")  # connection exceptions, insufficient resources, shutdown
_CONSTRAINT = {"23505", "23514", "23503", "23P01"}
_BAD_VALUE_CLASS = "22"  # data exceptions: out of range, untranslatable characters, bad dates
_NOT_NULL = "23502"


def _busy() -> DomainError:
    return Busy(_("Someone else is changing this right now; nothing was changed, please try again"))


def _unavailable() -> DomainError:
    return Unavailable(
        _("The database is not answering in time; nothing was changed, please try again shortly")
    )


def _sqlstate(error: sa_exc.DBAPIError) -> str | None:
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return str(code) if code else None


def _sqlite_meaning(error: sa_exc.DBAPIError) -> DomainError | None:
    message = str(error.orig).lower()
    if "database is locked" in message or "database is busy" in message:
        return _busy()
    if "unable to open database" in message or "disk i/o error" in message or "readonly" in message:
        return _unavailable()
    if isinstance(error, sa_exc.IntegrityError):
        if "not null" in message:
            return ValidationFailed(_("A required value is missing"))
        return Conflict(_("The change conflicts with what is already recorded; reload and check"))
    return None


def meaning_of(error: BaseException) -> DomainError | None:
    """The domain error to answer for a database failure, or None when it is a real bug."""
    if isinstance(error, StaleDataError):
        return Conflict(_("Someone else changed this at the same moment; reload the page to see it"))
    if isinstance(error, sa_exc.TimeoutError):  # no pool connection free in time
        return _unavailable()
    if isinstance(error, ConnectionError):  # the database refused or dropped the connection
        return _unavailable()
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    state = _sqlstate(error)
    if state is None:
        if error.connection_invalidated:
            return _unavailable()
        return _sqlite_meaning(error)
    if state in _BUSY:
        return _busy()
    if state in _TOO_SLOW:
        return _unavailable()
    if state.startswith(_UNREACHABLE_CLASSES):
        return _unavailable()
    if state in _CONSTRAINT:
        return Conflict(_("The change conflicts with what is already recorded; reload and check"))
    if state == _NOT_NULL:
        return ValidationFailed(_("A required value is missing"))
    if state.startswith(_BAD_VALUE_CLASS):
        return ValidationFailed(_("A value cannot be stored as given; check the figures and the text"))
    return None
