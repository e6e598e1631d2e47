"""Money is never a float: amounts and their splits go API → database → API exactly.

The Money columns that exist today are the review round's programme budget (with
category budgets) and a round subject's requested amount; grants' programmes, awards and
disbursements add theirs here when they land (same property, their endpoints).
"""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from core.money import MAX_AMOUNT, MoneyError, MoneyField, split_by_shares, split_into_payments
from evaluations.rounds.models import ReviewRound, RoundSubject
from tests.factories import Actor, make_centre, make_user

AMOUNTS = st.decimals(min_value=Decimal("0.00"), max_value=MAX_AMOUNT, places=2, allow_nan=False)
TOTALS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999999999.99"), places=2)
SHARES = st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=5).filter(
    lambda s: sum(s) < 100
)


class Priced(BaseModel):
    amount: MoneyField


@given(amount=AMOUNTS)
def test_money_fields_answer_strings_with_two_decimals(amount: Decimal) -> None:
    dumped = json.loads(Priced(amount=amount).model_dump_json())
    assert isinstance(dumped["amount"], str)
    assert dumped["amount"] == f"{amount:.2f}"
    assert Priced.model_validate_json(json.dumps(dumped)).amount == amount


def test_money_fields_refuse_floats() -> None:
    with pytest.raises(ValueError, match="float"):
        Priced.model_validate({"amount": 0.1})


async def _rubric_version(client: httpx.AsyncClient, staff: Actor) -> int:
    response = await client.post(
        "/api/v1/rubrics",
        json={
            "name": "金额测试评审表",
            "purpose": "application_review",
            "criteria": [{"key": "a", "name": "甲", "max_points": "100"}],
        },
        headers=staff.headers,
    )
    assert response.status_code == 201, response.text
    version: int = response.json()["versions"][0]["id"]
    return version


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(total=TOTALS, cut=SHARES)
async def test_budget_and_its_split_come_back_exactly(
    client: httpx.AsyncClient, session: AsyncSession, total: Decimal, cut: list[int]
) -> None:
    shares = [Decimal(c) for c in cut]
    shares.append(Decimal(100) - sum(shares))
    parts = split_by_shares(total, shares)
    assert sum(parts) == total
    staff = await make_user(session, await make_centre(session), Role.staff)
    version = await _rubric_version(client, staff)
    categories = {f"类别{i}": f"{part:.2f}" for i, part in enumerate(parts)}
    created = await client.post(
        "/api/v1/review-rounds",
        json={
            "name": "金额往返",
            "purpose": "application_review",
            "rubric_version_id": version,
            "programme_budget": f"{total:.2f}",
            "category_budgets": categories,
        },
        headers=staff.headers,
    )
    assert created.status_code == 201, created.text
    round_id = created.json()["id"]
    for i, part in enumerate(parts):
        subject = await client.post(
            f"/api/v1/review-rounds/{round_id}/subjects",
            json={
                "subject_type": "application",
                "subject_id": i + 1,
                "title": f"项目{i}",
                "category": f"类别{i}",
                "requested_amount": f"{part:.2f}",
            },
            headers=staff.headers,
        )
        assert subject.status_code == 201, subject.text
    read = (await client.get(f"/api/v1/review-rounds/{round_id}", headers=staff.headers)).json()
    assert read["programme_budget"] == f"{total:.2f}"
    assert read["category_budgets"] == categories
    subjects = (await client.get(f"/api/v1/review-rounds/{round_id}/subjects", headers=staff.headers)).json()
    answered = [item["requested_amount"] for item in subjects["items"]]
    assert answered == [f"{part:.2f}" for part in parts]
    assert all(isinstance(value, str) for value in answered)
    # and in the database, as Decimal, adding up to the total to the fen
    stored_total = (
        await session.execute(select(ReviewRound.programme_budget).where(ReviewRound.id == round_id))
    ).scalar_one()
    stored_parts = (
        (
            await session.execute(
                select(RoundSubject.requested_amount)
                .where(RoundSubject.round_id == round_id)
                .order_by(RoundSubject.id)
            )
        )
        .scalars()
        .all()
    )
    assert stored_total == total
    assert isinstance(stored_total, Decimal)
    assert list(stored_parts) == parts
    assert sum(p for p in stored_parts if p is not None) == total


@given(total=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2), cut=SHARES)
def test_payments_are_at_least_a_fen_each_and_add_up(total: Decimal, cut: list[int]) -> None:
    shares = [Decimal(c) / 100 for c in cut]  # hundredths of a percent: tiny shares happen
    shares.append(Decimal(100) - sum(shares, Decimal(0)))
    if total < Decimal("0.01") * len(shares):
        with pytest.raises(MoneyError):
            split_into_payments(total, shares)
        return
    parts = split_into_payments(total, shares)
    assert sum(parts) == total
    assert min(parts) >= Decimal("0.01")
    exact = split_by_shares(total, shares)
    assert all(abs(p - e) <= Decimal("0.01") * len(parts) for p, e in zip(parts, exact, strict=True))
