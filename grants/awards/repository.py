"""Queries of awards and what hangs off them (reports, claims, spending, execution sums)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.db import Money
from core.i18n import N_
from core.identity.models import Role
from core.repository import CentreScopedRepository
from grants.awards.models import (
    Award,
    Clawback,
    ExpenseClaim,
    ProgressReport,
    ReviewState,
    Tranche,
    TrancheState,
)


class AwardRepository(CentreScopedRepository[Award]):
    model = Award
    not_found_message = N_("Award not found")

    def __init__(self, session: object, principal: object, member_org_ids: list[int] | None = None) -> None:
        super().__init__(session, principal)  # type: ignore[arg-type]
        self.member_org_ids = member_org_ids

    def select(self) -> Select[Award]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(Award.organisation_id.in_(self.member_org_ids or []))
        return statement

    def full(self) -> Select[Award]:
        return self.select().options(selectinload(Award.tranches))


DUE_STATES = (TrancheState.due, TrancheState.requested, TrancheState.approved)


def money_sum(column: Any) -> Any:
    return type_coerce(func.coalesce(func.sum(column), 0), Money())


async def reports_of(session: AsyncSession, award_id: int) -> Sequence[ProgressReport]:
    rows = await session.execute(
        select(ProgressReport)
        .where(ProgressReport.award_id == award_id)
        .options(selectinload(ProgressReport.actuals))
        .order_by(ProgressReport.id)
    )
    return rows.scalars().all()


async def claims_of(session: AsyncSession, award_id: int) -> Sequence[ExpenseClaim]:
    rows = await session.execute(
        select(ExpenseClaim)
        .where(ExpenseClaim.award_id == award_id)
        .options(selectinload(ExpenseClaim.receipts))
        .order_by(ExpenseClaim.id)
    )
    return rows.scalars().all()


async def spent_on_award(session: AsyncSession, award_id: int) -> Decimal:
    value = (
        await session.execute(
            select(money_sum(ExpenseClaim.amount)).where(
                ExpenseClaim.award_id == award_id, ExpenseClaim.state == ReviewState.approved
            )
        )
    ).scalar_one()
    return Decimal(value)


async def execution_by(session: AsyncSession, group: Any, award_filter: Any) -> dict[Any, dict[str, Decimal]]:
    """Granted, due, paid, spent and returned summed per value of ``group`` (an Award column)."""
    result: dict[Any, dict[str, Decimal]] = {}

    def row(key: Any) -> dict[str, Decimal]:
        return result.setdefault(
            key, {k: Decimal("0.00") for k in ("granted", "due", "paid", "spent", "returned")}
        )

    granted = await session.execute(
        select(group, money_sum(Award.amount), money_sum(Award.paid)).where(award_filter).group_by(group)
    )
    for key, amount, paid in granted:
        row(key)["granted"] = amount
        row(key)["paid"] = paid
    due = await session.execute(
        select(group, money_sum(Tranche.amount))
        .join(Award, Award.id == Tranche.award_id)
        .where(award_filter, Tranche.state.in_(DUE_STATES))
        .group_by(group)
    )
    for key, amount in due:
        row(key)["due"] = amount
    spent = await session.execute(
        select(group, money_sum(ExpenseClaim.amount))
        .join(Award, Award.id == ExpenseClaim.award_id)
        .where(award_filter, ExpenseClaim.state == ReviewState.approved)
        .group_by(group)
    )
    for key, amount in spent:
        row(key)["spent"] = amount
    returned = await session.execute(
        select(group, money_sum(Clawback.amount))
        .join(Award, Award.id == Clawback.award_id)
        .where(award_filter)
        .group_by(group)
    )
    for key, amount in returned:
        row(key)["returned"] = amount
    return result


async def award_for_review(session: AsyncSession, centre_id: int, award_id: int) -> Award | None:
    """One award of a centre with its tranches, for the evaluator assigned to it (no role filter)."""
    statement = (
        select(Award)
        .where(Award.id == award_id, Award.centre_id == centre_id)
        .options(selectinload(Award.tranches))
    )
    return (await session.execute(statement)).scalar_one_or_none()
