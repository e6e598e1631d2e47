"""Input and output types shared by the schemas of the grant aggregates."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

from core.fields import ExactDecimal, RequiredText
from core.money import PositiveMoneyField

Pct = Annotated[Decimal, ExactDecimal(100, 2)]


# Percentages and quantities are answered like money: strings with two decimals.
Fixed2 = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")]


Text2k = Annotated[str, Field(max_length=2000)]


Text10k = Annotated[str, Field(max_length=10000)]


# Blanks do not count towards a required text, on the JSON face as on the forms (which strip).
Reason = Annotated[RequiredText, Field(max_length=2000)]


Narrative = Annotated[RequiredText, Field(max_length=20000)]


PositiveMoney = PositiveMoneyField


Comment = Annotated[str, Field(max_length=2000)]


Quantity = Annotated[Decimal, ExactDecimal(1_000_000_000, 2)]


Score = Annotated[Decimal, ExactDecimal(200, 2)]
