"""Input types for request schemas that accept exactly what the OpenAPI document promises.

Pydantic's lax mode reads ``0`` as the date 1970-01-01 and ``true`` as the number 1; the
API documents a date string and an integer, so a client that sends anything else gets a
422 naming the field instead of a silently wrong record. Decimals document the string
form they accept (a pattern), so an empty string is not advertised as valid.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from core.i18n import N_

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
DATE_MESSAGE = N_("Must be a date such as 2026-03-01")
WHOLE_NUMBER_MESSAGE = N_("Must be a whole number")
NUMBER_MESSAGE = N_("Must be an amount such as 1234.50")
FLAG_MESSAGE = N_("Must be true or false")


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


def _no_float(value: Any) -> Any:
    """Integral JSON numbers (``39.0`` is a JSON Schema integer) are read as integers; others refused."""
    if isinstance(value, bool):
        raise ValueError(NUMBER_MESSAGE)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(NUMBER_MESSAGE)
        return int(value)
    return value


def _not_number(value: Any) -> Any:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        raise ValueError(FLAG_MESSAGE)
    return value


def _fraction(places: int, *, nonzero: bool) -> str:
    """The digits after the point: any ``places`` digits, or (``nonzero``) not all zeros."""
    if not nonzero:
        return rf"\d{{1,{places}}}"
    return "|".join(rf"0{{{k}}}[1-9]\d{{0,{places - k - 1}}}" for k in range(places))


def decimal_pattern(le: int, places: int, *, positive: bool) -> str:
    """A regular expression for the decimals in [0, le] (or (0, le]) with at most ``places`` places.

    ``le`` is a digit followed by zeros (100, 200, 1000): what the schemas use.
    """
    text = str(le)
    head, width = int(text[0]), len(text)
    if text[1:] != "0" * (width - 1):
        raise ValueError("decimal_pattern needs a bound such as 100, 200 or 1000")
    below = []
    if width > 1:
        below.append(rf"[1-9]\d{{0,{width - 2}}}")
    if head > 1:
        below.append(rf"[1-{head - 1}]\d{{{width - 1}}}")
    fraction = rf"(\.\d{{1,{places}}})?"
    top = rf"{text}(\.0{{1,{places}}})?"
    alternatives = [rf"({'|'.join(below)}){fraction}", top]
    if positive:
        alternatives.append(rf"0\.({_fraction(places, nonzero=True)})")
    else:
        alternatives.append(rf"0{fraction}")
    return "^(" + "|".join(alternatives) + ")$"


NO_FLOAT = BeforeValidator(_no_float)
"""Decimals are given as strings or integers, never as JSON floats (the house rule for money too)."""


def decimal_schema(le: int, places: int, *, positive: bool = False) -> WithJsonSchema:
    """The request schema of a bounded decimal: an integer or a numeric string, exactly as accepted.

    Use with ``NO_FLOAT`` and the matching ``Field`` bounds::

        Points = Annotated[Decimal, NO_FLOAT, Field(ge=0, le=1000, max_digits=6, decimal_places=2),
                           decimal_schema(1000, 2)]
    """
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


Flag = Annotated[bool, BeforeValidator(_not_number)]
"""A yes/no given as ``true``/``false`` (forms may send "on"/"yes"); never a number."""
