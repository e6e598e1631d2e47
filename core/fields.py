"""Input types for request schemas that accept exactly what the OpenAPI document promises.

Pydantic's lax mode reads ``0`` as the date 1970-01-01, ``true`` as the number 1 and
``"1e3"``, ``"1_000"`` or Arabic-Indic digits as decimals; the API documents a date string,
an integer and a plain decimal, so a client that sends anything else gets a 422 naming the
field instead of a silently wrong record. Decimals document the string form they accept
(a pattern), so the schema and the server agree on every value.

Every request body derives from ``RequestModel``: unknown fields are refused (a misspelt
field is an error, not silently dropped) and no text may hold a character the database
cannot store.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Annotated, Any

import annotated_types
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from core.i18n import N_

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ISO_DATETIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}")
# A plain decimal: optional minus, ASCII digits without leading zeros, an optional fraction.
# No exponent, no underscores, no spaces, no "5." or ".5".
_PLAIN_DECIMAL = re.compile(r"^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$")
# PostgreSQL text cannot hold NUL; a lone surrogate cannot be encoded as UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

DATE_MESSAGE = N_("Must be a date such as 2026-03-01")
WHOLE_NUMBER_MESSAGE = N_("Must be a whole number")
NUMBER_MESSAGE = N_("Must be an amount such as 1234.50")
NEGATIVE_MESSAGE = N_("Must not be negative")
FLOAT_MESSAGE = N_('Write a number with decimals as a string, such as "100.50"')
FLAG_MESSAGE = N_("Must be true or false")
UNSTORABLE_MESSAGE = N_("Contains a character that cannot be stored (such as a NUL byte)")
PLACES_MESSAGES = {
    1: N_("At most one decimal place"),
    2: N_("At most two decimal places"),
}


def unstorable(value: object) -> bool:
    """Whether ``value`` (text, or lists and maps of it) holds a character the database refuses."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(unstorable(item) for item in value)
    if isinstance(value, dict):
        return any(unstorable(key) or unstorable(item) for key, item in value.items())
    return False


class RequestModel(BaseModel):
    """The base of every request body: unknown fields are refused, text must be storable.

    Nested request models check their own fields, so an error names the exact field
    (``budget_lines.3.item``). Response models derive from ``BaseModel``, not from this.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        if unstorable(value):
            raise ValueError(UNSTORABLE_MESSAGE)
        return value


def _date_only(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATE.match(value.strip()):
        raise ValueError(DATE_MESSAGE)
    if isinstance(value, (bool, int, float, Decimal)):
        raise ValueError(DATE_MESSAGE)
    return value


def _datetime_only(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATETIME.match(value.strip()):
        raise ValueError(DATE_MESSAGE)
    if isinstance(value, (bool, int, float, Decimal)):
        raise ValueError(DATE_MESSAGE)
    return value


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(WHOLE_NUMBER_MESSAGE)
    return value


Day = Annotated[dt.date, BeforeValidator(_date_only)]
"""A calendar date given as ``YYYY-MM-DD`` (never a number)."""

Instant = Annotated[dt.datetime, BeforeValidator(_datetime_only)]
"""A point in time given as an ISO 8601 string (never a number)."""

NOT_BOOL = BeforeValidator(_not_bool)
WholeNumber = Annotated[int, NOT_BOOL]
"""An integer that is not ``true``/``false``. Give bounds as ``= Field(ge=..)`` on the field, or
as ``Annotated[int, Field(ge=..), NOT_BOOL]`` in an alias (bounds first, or the schema loses them)."""

MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID), NOT_BOOL]
"""A record id (a PostgreSQL ``integer``), never ``true``."""


def plain_decimal(
    value: Any, *, places: int, message: str = NUMBER_MESSAGE, places_message: str | None = None
) -> Any:
    """``value`` as a Decimal when it is written exactly as documented, else a ``ValueError``.

    Strings match ``_PLAIN_DECIMAL`` with at most ``places`` decimals; JSON numbers are
    accepted when integral (``39.0`` is a JSON Schema integer), never ``true`` or ``1.5``.
    A minus sign is left to the caller's bounds (money and ``ExactDecimal`` refuse it).
    """
    if isinstance(value, bool):
        raise ValueError(message)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(FLOAT_MESSAGE)
        return Decimal(int(value))
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        match = _PLAIN_DECIMAL.match(value)
        if match is None:
            raise ValueError(message)
        if match.group(3) is not None and len(match.group(3)) > places:
            raise ValueError(places_message or PLACES_MESSAGES.get(places, message))
        return Decimal(value)
    return value


def _unsigned_decimal(value: Any, *, places: int) -> Any:
    if isinstance(value, str) and value.startswith("-"):
        raise ValueError(NEGATIVE_MESSAGE)
    return plain_decimal(value, places=places)


def _fraction(places: int, *, nonzero: bool) -> str:
    """The digits after the point: any ``places`` digits, or (``nonzero``) not all zeros."""
    if not nonzero:
        return rf"[0-9]{{1,{places}}}"
    return "|".join(rf"0{{{k}}}[1-9][0-9]{{0,{places - k - 1}}}" for k in range(places))


def decimal_pattern(le: int, places: int, *, positive: bool) -> str:
    """A regular expression for the decimals in [0, le] (or (0, le]) with at most ``places`` places.

    ``le`` is a digit followed by zeros (100, 200, 1000): what the schemas use. ASCII digits
    only (``\\d`` would admit Arabic-Indic and full-width digits).
    """
    text = str(le)
    head, width = int(text[0]), len(text)
    if text[1:] != "0" * (width - 1):
        raise ValueError("decimal_pattern needs a bound such as 100, 200 or 1000")
    below = []
    if width > 1:
        below.append(rf"[1-9][0-9]{{0,{width - 2}}}")
    if head > 1:
        below.append(rf"[1-{head - 1}][0-9]{{{width - 1}}}")
    fraction = rf"(\.[0-9]{{1,{places}}})?"
    top = rf"{text}(\.0{{1,{places}}})?"
    alternatives = [rf"({'|'.join(below)}){fraction}", top]
    if positive:
        alternatives.append(rf"0\.({_fraction(places, nonzero=True)})")
    else:
        alternatives.append(rf"0{fraction}")
    return "^(" + "|".join(alternatives) + ")$"


def decimal_schema(le: int, places: int, *, positive: bool = False) -> WithJsonSchema:
    """The request schema of a bounded decimal: an integer or a numeric string, exactly as accepted."""
    lower = 1 if positive else 0
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": lower, "maximum": le},
                {"type": "string", "pattern": decimal_pattern(le, places, positive=positive)},
            ]
        },
        mode="validation",
    )


@dataclass(frozen=True)
class ExactDecimal(annotated_types.GroupedMetadata):
    """An exact decimal in [0, le] (or (0, le] when ``positive``) with at most ``places`` places.

    Given as a string matching the documented pattern or as an integer, never as a JSON
    float, ``true``, an exponent or anything Python's ``Decimal`` would stretch to read::

        Hours = Annotated[Decimal, ExactDecimal(100, 1, positive=True)]
    """

    le: int
    places: int
    positive: bool = False

    def __iter__(self) -> Iterator[Any]:
        yield BeforeValidator(partial(_unsigned_decimal, places=self.places))
        yield annotated_types.Gt(0) if self.positive else annotated_types.Ge(0)
        yield annotated_types.Le(self.le)
        yield decimal_schema(self.le, self.places, positive=self.positive)


def _not_number(value: Any) -> Any:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        raise ValueError(FLAG_MESSAGE)
    return value


Flag = Annotated[bool, BeforeValidator(_not_number)]
"""A yes/no given as ``true``/``false`` (forms may send "on"/"yes"); never a number."""


# A required text in which blanks do not count, on the JSON face as on the forms (which
# strip): at least two characters once the blanks around them are taken away. The pattern
# says so in the OpenAPI document, so a client sees the same rule the server applies.
BLANKS_AROUND_DO_NOT_COUNT = r"^\s*\S[\s\S]*\S\s*$"

RequiredText = Annotated[
    str, StringConstraints(strip_whitespace=True), Field(min_length=2, pattern=BLANKS_AROUND_DO_NOT_COUNT)
]
