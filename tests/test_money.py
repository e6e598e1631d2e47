from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from core.i18n import use_locale
from core.money import MAX_AMOUNT, MoneyError, format_money, formatted_in, split_by_shares, to_money


def test_awkward_amount_splits_to_the_fen() -> None:
    parts = split_by_shares(Decimal("33333.33"), [Decimal(50), Decimal(30), Decimal(20)])
    # 1,666,666.5 / 999,999.9 / 666,666.6 fen: the two fen left go to the largest remainders.
    assert parts == [Decimal("16666.66"), Decimal("10000.00"), Decimal("6666.67")]
    assert sum(parts) == Decimal("33333.33")


def test_shares_must_add_to_100() -> None:
    with pytest.raises(MoneyError):
        split_by_shares(Decimal("100.00"), [Decimal(50), Decimal(40)])


def test_floats_are_refused() -> None:
    with pytest.raises(MoneyError):
        to_money(0.1)  # type: ignore[arg-type]


@given(
    total=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2),
    cut=st.lists(st.integers(min_value=1, max_value=97), min_size=1, max_size=4),
)
def test_splits_never_lose_or_create_money(total: Decimal, cut: list[int]) -> None:
    shares = [Decimal(c) for c in cut]
    rest = Decimal(100) - sum(shares)
    if rest <= 0:
        return
    shares.append(rest)
    parts = split_by_shares(total, shares)
    assert sum(parts) == to_money(total)
    assert all(p >= 0 for p in parts)
    assert all(p == p.quantize(Decimal("0.01")) for p in parts)


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_money_is_shown_grouped_with_two_places_in_either_language(locale: str) -> None:
    with use_locale(locale):
        assert format_money(Decimal("1234567.5")) == "1,234,567.50"
        assert format_money(Decimal("0.05")) == "0.05"
        assert format_money(Decimal("-300")) == "-300.00"
        assert format_money(MAX_AMOUNT) == "999,999,999,999.99"
        assert format_money(None) == ""


@given(
    st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, allow_nan=False, allow_infinity=False, places=3),
    st.sampled_from(["zh", "en", "de", "fr"]),
)
def test_money_is_shown_as_babel_shows_it_in_each_language(amount: Decimal, locale: str) -> None:
    """Grouping, places, rounding and the locale's own symbols (a comma for the decimal point
    in German, a narrow space to group in French) are those of CLDR's ``#,##0.00``."""
    expected = format_decimal(amount, "#,##0.00", locale=locale, decimal_quantization=True)
    assert formatted_in(amount, locale) == expected
    if locale in ("zh", "en"):
        with use_locale(locale):
            assert format_money(amount) == expected
