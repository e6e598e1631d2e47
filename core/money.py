"""Exact CNY money: Decimal with two places in code, never float."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache, partial
from typing import Annotated, Any

import annotated_types
from babel import Locale
from babel.numbers import get_decimal_symbol, get_group_symbol, get_minus_sign_symbol
from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from core.fields import NEGATIVE_MESSAGE, plain_decimal
from core.i18n import N_, current_locale

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # NUMERIC(14,2)


AMOUNT_FORMAT = N_("Must be an amount such as 1234.50")
AMOUNT_PLACES = N_("An amount has at most two decimal places")
AMOUNT_TOO_LARGE = N_("An amount is at most 999,999,999,999.99")
ABOVE_ZERO = N_("Must be above zero")


class MoneyError(ValueError):
    pass


@lru_cache(maxsize=8)
def _symbols(code: str) -> dict[int, str]:
    """The locale's decimal point, group separator and minus sign (from Babel's CLDR data),
    as a translation of the ones Python's own formatting writes; empty when they are the same."""
    locale = Locale.parse(code)
    table = {
        ".": get_decimal_symbol(locale),
        ",": get_group_symbol(locale),
        "-": get_minus_sign_symbol(locale),
    }
    return str.maketrans({k: v for k, v in table.items() if k != v})


def format_money(value: Decimal | None) -> str:
    """An amount as people read it, in the current language: two places, grouped (1,234.50).

    The one way money is shown to people (pages, PDFs, messages); JSON keeps plain strings.
    Python formats the number (the grouping of CLDR's ``#,##0.00``, rounding half to even
    as Babel does); the locale gives its symbols. A list page shows a hundred amounts or
    more, and Babel's pattern formatting cost it a sixth of its time.
    """
    return "" if value is None else formatted_in(value, current_locale())


def formatted_in(value: Decimal, locale: str) -> str:
    text = format(value, ",.2f")
    symbols = _symbols(locale)
    return text.translate(symbols) if symbols else text


def to_money(value: Decimal | int | str) -> Decimal:
    if isinstance(value, float):  # pragma: no cover - guarded by type checkers; belt and braces
        raise MoneyError("money must not be a float")
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError) as exc:
        raise MoneyError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise MoneyError("amount must be finite")
    quantized = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if abs(quantized) > MAX_AMOUNT:
        raise MoneyError("amount too large")
    return quantized


def split_by_shares(total: Decimal, shares: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` by percentage ``shares`` (adding to 100) so the parts add exactly to it.

    Largest-remainder method on fen: each part is floored to the fen, then the fen left over
    go one by one to the parts with the largest remainders (earliest first on ties).
    """
    total = to_money(total)
    if not shares:
        raise MoneyError("no shares")
    if sum(shares, Decimal(0)) != Decimal(100):
        raise MoneyError("shares must add up to 100")
    total_fen = int(total / CENT)
    raw = [Decimal(total_fen) * s / Decimal(100) for s in shares]
    floors = [int(r) for r in raw]
    left = total_fen - sum(floors)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [(Decimal(f) * CENT).quantize(CENT) for f in floors]


def split_into_payments(total: Decimal, shares: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` by ``shares`` into payments of at least one fen each.

    As ``split_by_shares``; a part that comes to 0.00 (a tiny share of a small amount) takes
    one fen from the largest part, since a payment of nothing cannot be made or approved.
    Raises ``MoneyError`` when ``total`` has fewer fen than there are parts.
    """
    parts = split_by_shares(total, shares)
    if to_money(total) < CENT * len(parts):
        raise MoneyError("amount too small for the number of payments")
    for i, part in enumerate(parts):
        if part == 0:
            largest = max(range(len(parts)), key=lambda j: (parts[j], -j))
            parts[largest] -= CENT
            parts[i] = CENT
    return parts


def _parse_money(value: object, *, signed: bool, positive: bool) -> object:
    """An amount exactly as documented: at most two decimals, within NUMERIC(14,2), never a float."""
    if not signed and isinstance(value, str) and value.startswith("-"):
        raise ValueError(NEGATIVE_MESSAGE)
    amount = plain_decimal(value, places=2, message=AMOUNT_FORMAT, places_message=AMOUNT_PLACES)
    if not isinstance(amount, Decimal):
        return amount  # not an amount at all: pydantic refuses it with its own message
    if not amount.is_finite():
        raise ValueError(AMOUNT_FORMAT)
    if abs(amount) > MAX_AMOUNT:
        raise ValueError(AMOUNT_TOO_LARGE)
    if not signed and amount < 0:
        raise ValueError(NEGATIVE_MESSAGE)
    if positive and amount <= 0:
        raise ValueError(ABOVE_ZERO)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def _accepted(*, signed: bool, positive: bool) -> WithJsonSchema:
    """What a request may send: an integer, or a string with at most two decimals."""
    if positive:
        pattern = r"^([1-9][0-9]{0,11}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
    else:
        pattern = rf"^{'-?' if signed else ''}(0|[1-9][0-9]{{0,11}})(\.[0-9]{{1,2}})?$"
    largest = int(MAX_AMOUNT)
    smallest = 1 if positive else (-largest if signed else 0)
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": smallest, "maximum": largest},
                {
                    "type": "string",
                    "pattern": pattern,
                    "examples": ["801875.00", "300"],
                    "description": "At most two decimals in ASCII digits; a JSON number only as an integer",
                },
            ]
        },
        mode="validation",
    )


def _answered(*, signed: bool) -> WithJsonSchema:
    """What a response holds: always a string with exactly two decimals."""
    pattern = r"^-?\d{1,12}\.\d{2}$" if signed else r"^\d{1,12}\.\d{2}$"
    return WithJsonSchema(
        {"type": "string", "pattern": pattern, "examples": ["801875.00"]}, mode="serialization"
    )


@dataclass(frozen=True)
class Money(annotated_types.GroupedMetadata):
    """An exact CNY amount in a schema: read as documented, answered as ``"801875.00"``.

    Accepted as a string with at most two decimals (``"1234.5"``) or an integer, within
    NUMERIC(14,2); never a JSON float (``100.5`` may already be ``100.499999…`` when read),
    an exponent, underscores, spaces or non-ASCII digits.
    """

    signed: bool = False
    positive: bool = False

    def __iter__(self) -> Iterator[Any]:
        yield BeforeValidator(partial(_parse_money, signed=self.signed, positive=self.positive))
        yield PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")
        yield _accepted(signed=self.signed, positive=self.positive)
        yield _answered(signed=self.signed)


MoneyField = Annotated[Decimal, Money(signed=True)]
"""A money amount, negative or not (responses mostly)."""

NonNegativeMoneyField = Annotated[Decimal, Money()]
"""A budget, a request, a price: never negative, and documented so."""

PositiveMoneyField = Annotated[Decimal, Money(positive=True)]
"""An award, a payment, a claim: above zero, documented so (no minus sign, no 0.00)."""


_DECIMAL_MARK = "\u0000dec:"


def dumps_exact(value: object) -> str:
    """JSON text in which every Decimal is written as a number exactly as it is (never via float)."""
    import json
    import re

    def default(item: object) -> object:
        if isinstance(item, Decimal):
            return f"{_DECIMAL_MARK}{item}"
        if hasattr(item, "isoformat"):
            return item.isoformat()
        raise TypeError(f"not JSON serialisable: {type(item).__name__}")

    text = json.dumps(value, default=default, ensure_ascii=False)
    return re.sub(r'"\\u0000dec:(-?[0-9.]+)"', r"\1", text)
