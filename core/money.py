"""Exact CNY money: Decimal with two places in code, never float."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")  # NUMERIC(14,2)


class MoneyError(ValueError):
    pass


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


AMOUNT_FORMAT = "Must be an amount such as 1234.50"  # msgid, translated where shown


def _parse_money(value: object) -> object:
    if isinstance(value, float):
        raise ValueError(AMOUNT_FORMAT)
    if isinstance(value, (str, int, Decimal)):
        try:
            return to_money(value)
        except MoneyError as exc:
            raise ValueError(AMOUNT_FORMAT) from exc
    return value


MoneyField = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    Field(max_digits=14, decimal_places=2),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^-?\d{1,12}\.\d{2}$", "examples": ["801875.00"]}),
]
"""A money amount in schemas: accepted as a string or integer, always answered as ``"801875.00"``."""


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


NonNegativeMoneyField = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    Field(ge=0, max_digits=14, decimal_places=2),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,12}\.\d{2}$", "examples": ["801875.00"]}),
]
"""A budget, a request, a price: ``MoneyField`` that is never negative, and documented so
(``Annotated[MoneyField, Field(ge=0)]`` would keep the minus sign in the OpenAPI pattern)."""


PositiveMoneyField = Annotated[
    Decimal,
    BeforeValidator(_parse_money),
    Field(gt=0, max_digits=14, decimal_places=2),
    PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^(0\.(0[1-9]|[1-9]\d)|[1-9]\d{0,11}\.\d{2})$",
            "examples": ["801875.00"],
        }
    ),
]
"""An award, a payment, a claim: ``MoneyField`` above zero, documented so (no minus sign, no 0.00)."""
