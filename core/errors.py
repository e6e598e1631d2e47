"""Domain errors carry their HTTP status; ``api`` renders them in one JSON shape.

``{"error": {"code", "message", "details"}}`` where ``details`` is a list of
``{"field", "message"}`` for field errors, so a form can show each message beside its field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class DomainError(Exception):
    status_code = 400
    code = "bad_request"
    keep_changes = False
    """When true, the edge commits what was flushed even though it answers with this error."""
    retry_after: int | None = None
    """Seconds after which the same request may succeed (sent as ``Retry-After``)."""

    def __init__(self, message: str, *, details: list[FieldError] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.extra = extra


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class LoginRefusedBase(DomainError):
    """A login that did not succeed (wrong credentials or throttled)."""

    keep_changes = True


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The current state does not allow the action (the message says why)."""

    status_code = 409
    code = "conflict"


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation_error"

    @classmethod
    def field(cls, field: str, message: str) -> ValidationFailed:
        return cls(message, details=[FieldError(field, message)])


class TooManyRequests(DomainError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Busy(Conflict):
    """Another transaction holds what this one needs (a row lock, a serialisation conflict):
    nothing was changed, and the same request may well succeed in a moment."""

    code = "busy"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InProgress(Conflict):
    """The same request (by idempotency key) is still being worked on."""

    code = "in_progress"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """The service cannot answer now (database unreachable or too slow, storage not writable)."""

    status_code = 503
    code = "unavailable"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"
