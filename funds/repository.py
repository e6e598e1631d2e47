"""Every query of funds: scoped reads, and the conditional UPDATEs that move money.

Money moves only here, and only as ``UPDATE … WHERE committed + :x <= received`` (or the
like): the database checks the bound in the statement that changes it, so concurrent
requests can never commit more than a pool or a fund received. CHECK constraints stand
behind every one of them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.files import StoredFile
from core.i18n import N_
from core.identity.models import Role
from core.repository import CentreScopedRepository
from funds.models import (
    LIVE_ALLOCATION_STATES,
    AllocationState,
    AllocationTarget,
    Fund,
    FundAllocation,
    FundPool,
    FundReceipt,
    FundReturn,
    ReceiptSource,
)
from grants.awards.models import Award, Clawback
from grants.programmes.models import Programme

ZERO = Decimal("0.00")


class FundRepository(CentreScopedRepository[Fund]):
    """The centre's staff, finance, admins and district readers see its funds."""

    model = Fund
    not_found_message = N_("Fund not found")

    def select(self) -> Select[Fund]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(Fund.id.is_(None))
        return statement.options(selectinload(Fund.steps))

    def listed(self) -> Select[Fund]:
        return self.select().order_by(Fund.id)


class AllocationRepository(CentreScopedRepository[FundAllocation]):
    model = FundAllocation
    not_found_message = N_("Allocation not found")

    def select(self) -> Select[FundAllocation]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(FundAllocation.id.is_(None))
        return statement.options(selectinload(FundAllocation.decisions))

    def of_fund(self, fund_id: int, state: AllocationState | None = None) -> Select[FundAllocation]:
        statement = self.select().where(FundAllocation.fund_id == fund_id)
        if state is not None:
            statement = statement.where(FundAllocation.state == state)
        return statement.order_by(FundAllocation.id.desc())


class ReceiptRepository(CentreScopedRepository[FundReceipt]):
    model = FundReceipt
    not_found_message = N_("Receipt not found")

    def select(self) -> Select[FundReceipt]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(FundReceipt.id.is_(None))
        return statement

    def of_fund(self, fund_id: int, source: ReceiptSource | None = None) -> Select[FundReceipt]:
        statement = self.select().where(FundReceipt.fund_id == fund_id)
        if source is not None:
            statement = statement.where(FundReceipt.source == source)
        return statement.order_by(FundReceipt.received_on.desc(), FundReceipt.id.desc())


# Pools -------------------------------------------------------------------------------------


async def pools_of(session: AsyncSession, fund_id: int) -> Sequence[FundPool]:
    rows = await session.execute(
        select(FundPool)
        .where(FundPool.fund_id == fund_id)
        .order_by(FundPool.id)
        .execution_options(populate_existing=True)
    )
    return rows.scalars().all()


async def pool_by_key(session: AsyncSession, fund_id: int, key: str) -> FundPool | None:
    rows = await session.execute(select(FundPool).where(FundPool.fund_id == fund_id, FundPool.key == key))
    return rows.scalar_one_or_none()


async def pool_of_fund(session: AsyncSession, fund_id: int, pool_id: int) -> FundPool | None:
    rows = await session.execute(
        select(FundPool)
        .where(FundPool.id == pool_id, FundPool.fund_id == fund_id)
        .execution_options(populate_existing=True)
    )
    return rows.scalar_one_or_none()


async def fresh_fund(session: AsyncSession, fund_id: int) -> Fund:
    rows = await session.execute(
        select(Fund)
        .options(selectinload(Fund.steps))
        .where(Fund.id == fund_id)
        .execution_options(populate_existing=True)
    )
    return rows.scalar_one()


# Money in ----------------------------------------------------------------------------------


async def credit_cash(session: AsyncSession, fund_id: int, pool_id: int, amount: Decimal) -> None:
    await session.execute(
        update(FundPool)
        .where(FundPool.id == pool_id)
        .values(received=FundPool.received + amount)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Fund)
        .where(Fund.id == fund_id)
        .values(received=Fund.received + amount)
        .execution_options(synchronize_session=False)
    )


async def credit_in_kind(session: AsyncSession, fund_id: int, amount: Decimal) -> None:
    await session.execute(
        update(Fund)
        .where(Fund.id == fund_id)
        .values(in_kind_value=Fund.in_kind_value + amount)
        .execution_options(synchronize_session=False)
    )


# Money out ---------------------------------------------------------------------------------


async def reserve_in_pool(session: AsyncSession, pool_id: int, amount: Decimal) -> bool:
    """Commit ``amount`` from one pool if it still holds it (one statement, checked by the database)."""
    result = await session.execute(
        update(FundPool)
        .where(FundPool.id == pool_id, FundPool.committed + amount <= FundPool.received)
        .values(committed=FundPool.committed + amount)
        .returning(FundPool.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def reserve_in_fund(session: AsyncSession, fund_id: int, amount: Decimal) -> bool:
    result = await session.execute(
        update(Fund)
        .where(Fund.id == fund_id, Fund.committed + amount <= Fund.received)
        .values(committed=Fund.committed + amount)
        .returning(Fund.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def release(session: AsyncSession, fund_id: int, pool_id: int, amount: Decimal) -> None:
    """Give back a reservation (a rejected allocation): never below zero, by the CHECKs."""
    await session.execute(
        update(FundPool)
        .where(FundPool.id == pool_id)
        .values(committed=FundPool.committed - amount)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Fund)
        .where(Fund.id == fund_id)
        .values(committed=Fund.committed - amount)
        .execution_options(synchronize_session=False)
    )


async def record_spent(session: AsyncSession, fund_id: int, amount: Decimal) -> bool:
    result = await session.execute(
        update(Fund)
        .where(Fund.id == fund_id, Fund.spent + amount <= Fund.committed)
        .values(spent=Fund.spent + amount)
        .returning(Fund.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def take_back(
    session: AsyncSession, allocation: FundAllocation, amount: Decimal, *, was_paid: bool
) -> bool:
    """Money returned through an allocation: the allocation's ``returned`` grows (never past its
    amount), and the fund and pool commit that much less, so it is available again."""
    moved = await session.execute(
        update(FundAllocation)
        .where(
            FundAllocation.id == allocation.id,
            FundAllocation.returned + amount <= FundAllocation.amount,
            FundAllocation.state.in_((AllocationState.approved, AllocationState.paid)),
        )
        .values(returned=FundAllocation.returned + amount)
        .returning(FundAllocation.id)
        .execution_options(synchronize_session=False)
    )
    if moved.first() is None:
        return False
    await session.execute(
        update(FundPool)
        .where(FundPool.id == allocation.pool_id)
        .values(committed=FundPool.committed - amount)
        .execution_options(synchronize_session=False)
    )
    values = {"committed": Fund.committed - amount, "returned": Fund.returned + amount}
    if was_paid:
        values["spent"] = Fund.spent - amount
    await session.execute(
        update(Fund)
        .where(Fund.id == allocation.fund_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return True


# Programmes financed by funds --------------------------------------------------------------


async def lock_programme(session: AsyncSession, programme_id: int) -> Programme | None:
    """The programme row, locked for the rest of the transaction (its budget is being reset)."""
    rows = await session.execute(
        select(Programme)
        .where(Programme.id == programme_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return rows.scalar_one_or_none()


async def programme_fundings_total(session: AsyncSession, programme_id: int) -> Decimal:
    rows = await session.execute(
        select(func.coalesce(func.sum(FundAllocation.amount), 0)).where(
            FundAllocation.target == AllocationTarget.programme,
            FundAllocation.programme_id == programme_id,
            FundAllocation.state.in_((AllocationState.approved, AllocationState.paid)),
        )
    )
    return Decimal(rows.scalar_one() or 0)


async def set_programme_budget(session: AsyncSession, programme_id: int, total: Decimal) -> bool:
    """A funded programme's budget is the sum of its fundings, never below what it committed."""
    result = await session.execute(
        update(Programme)
        .where(Programme.id == programme_id, Programme.committed <= total)
        .values(total_budget=total)
        .returning(Programme.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def programme_fundings(
    session: AsyncSession, programme_id: int
) -> Sequence[tuple[FundAllocation, Fund]]:
    rows = await session.execute(
        select(FundAllocation, Fund)
        .join(Fund, Fund.id == FundAllocation.fund_id)
        .where(
            FundAllocation.target == AllocationTarget.programme,
            FundAllocation.programme_id == programme_id,
            FundAllocation.state.in_((AllocationState.approved, AllocationState.paid)),
        )
        .order_by(FundAllocation.id)
    )
    return [(a, f) for a, f in rows.all()]


# Returns -----------------------------------------------------------------------------------


async def clawback_of_award(session: AsyncSession, award_id: int) -> tuple[Award, Clawback] | None:
    rows = await session.execute(
        select(Award, Clawback).join(Clawback, Clawback.award_id == Award.id).where(Award.id == award_id)
    )
    row = rows.first()
    return (row[0], row[1]) if row is not None else None


async def allocations_behind_award(session: AsyncSession, award: Award) -> Sequence[FundAllocation]:
    """The allocations an award's money came from: those made to the award itself, or else those
    made to its programme's budget."""
    live = (AllocationState.approved, AllocationState.paid)
    direct = await session.execute(
        select(FundAllocation)
        .where(FundAllocation.award_id == award.id, FundAllocation.state.in_(live))
        .order_by(FundAllocation.id)
        .execution_options(populate_existing=True)
    )
    found = direct.scalars().all()
    if found:
        return found
    via_programme = await session.execute(
        select(FundAllocation)
        .where(
            FundAllocation.target == AllocationTarget.programme,
            FundAllocation.programme_id == award.programme_id,
            FundAllocation.state.in_(live),
        )
        .order_by(FundAllocation.id)
        .execution_options(populate_existing=True)
    )
    return via_programme.scalars().all()


async def returns_of_clawback(session: AsyncSession, clawback_id: int) -> Sequence[FundReturn]:
    rows = await session.execute(select(FundReturn).where(FundReturn.clawback_id == clawback_id))
    return rows.scalars().all()


async def returns_of_fund(session: AsyncSession, fund_id: int) -> Sequence[FundReturn]:
    rows = await session.execute(
        select(FundReturn).where(FundReturn.fund_id == fund_id).order_by(FundReturn.id.desc())
    )
    return rows.scalars().all()


# Public accounts and reports ---------------------------------------------------------------


async def public_fund(session: AsyncSession, fund_id: int) -> Fund | None:
    rows = await session.execute(
        select(Fund).options(selectinload(Fund.steps)).where(Fund.id == fund_id, Fund.is_public.is_(True))
    )
    return rows.scalar_one_or_none()


async def public_funds(session: AsyncSession) -> Sequence[Fund]:
    rows = await session.execute(
        select(Fund).options(selectinload(Fund.steps)).where(Fund.is_public.is_(True)).order_by(Fund.id)
    )
    return rows.scalars().all()


async def fund_by_id(session: AsyncSession, fund_id: int) -> Fund | None:
    rows = await session.execute(select(Fund).options(selectinload(Fund.steps)).where(Fund.id == fund_id))
    return rows.scalar_one_or_none()


async def receipts_between(
    session: AsyncSession, fund_id: int, start: object | None = None, end: object | None = None
) -> Sequence[FundReceipt]:
    statement = select(FundReceipt).where(FundReceipt.fund_id == fund_id)
    if start is not None:
        statement = statement.where(FundReceipt.received_on >= start)
    if end is not None:
        statement = statement.where(FundReceipt.received_on <= end)
    rows = await session.execute(statement.order_by(FundReceipt.received_on, FundReceipt.id))
    return rows.scalars().all()


async def live_allocations(session: AsyncSession, fund_id: int) -> Sequence[FundAllocation]:
    rows = await session.execute(
        select(FundAllocation)
        .where(FundAllocation.fund_id == fund_id, FundAllocation.state.in_(LIVE_ALLOCATION_STATES))
        .order_by(FundAllocation.requested_at, FundAllocation.id)
    )
    return rows.scalars().all()


async def fund_receipts_for_export(
    session: AsyncSession, centre_id: int | None
) -> Sequence[tuple[FundReceipt, Fund]]:
    statement = select(FundReceipt, Fund).join(Fund, Fund.id == FundReceipt.fund_id)
    if centre_id is not None:
        statement = statement.where(Fund.centre_id == centre_id)
    rows = await session.execute(statement.order_by(Fund.id, FundReceipt.received_on, FundReceipt.id))
    return [(r, f) for r, f in rows.all()]


async def fund_allocations_for_export(
    session: AsyncSession, centre_id: int | None
) -> Sequence[tuple[FundAllocation, Fund]]:
    statement = select(FundAllocation, Fund).join(Fund, Fund.id == FundAllocation.fund_id)
    if centre_id is not None:
        statement = statement.where(Fund.centre_id == centre_id)
    rows = await session.execute(statement.order_by(Fund.id, FundAllocation.id))
    return [(a, f) for a, f in rows.all()]


async def award_fundings(
    session: AsyncSession, award_ids: Sequence[int]
) -> Sequence[tuple[FundAllocation, Fund]]:
    """Allocations made straight to the given awards (360Giving names the fund as funder)."""
    if not award_ids:
        return []
    rows = await session.execute(
        select(FundAllocation, Fund)
        .join(Fund, Fund.id == FundAllocation.fund_id)
        .where(
            FundAllocation.award_id.in_(award_ids),
            FundAllocation.state.in_((AllocationState.approved, AllocationState.paid)),
        )
        .order_by(FundAllocation.id)
    )
    return [(a, f) for a, f in rows.all()]


async def stored_file(session: AsyncSession, file_id: int) -> StoredFile | None:
    rows = await session.execute(select(StoredFile).where(StoredFile.id == file_id))
    return rows.scalar_one_or_none()


async def award_amount(session: AsyncSession, award_id: int) -> Decimal:
    rows = await session.execute(select(Award.amount).where(Award.id == award_id))
    return Decimal(rows.scalar_one())


async def fund_names(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Community funds by id, by their names."""
    if not ids:
        return {}
    rows = await session.execute(select(Fund.id, Fund.name).where(Fund.id.in_(ids)))
    return {row_id: str(value) for row_id, value in rows}
