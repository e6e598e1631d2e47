"""Every query of purchased-service contracts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.identity.models import Role
from core.repository import CentreScopedRepository
from grants.contracts.models import Contract, ContractState


class ContractRepository(CentreScopedRepository[Contract]):
    """Contracts are the centre's business: staff, finance and admins see them."""

    model = Contract
    not_found_message = N_("Contract not found")

    def select(self) -> Select[Contract]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(Contract.id.is_(None))
        return statement

    def full(self) -> Select[Contract]:
        return self.select().options(
            selectinload(Contract.indicators),
            selectinload(Contract.milestones),
            selectinload(Contract.events),
        )

    def filtered(self, state: ContractState | None = None) -> Select[Contract]:
        statement = self.select()
        if state is not None:
            statement = statement.where(Contract.state == state)
        return statement.order_by(Contract.id.desc())


# --- unscoped reads for report builders (the caller has checked the centre) ---------------


async def contract_with_terms(session: AsyncSession, contract_id: int) -> Contract | None:
    """A contract with its indicators and milestones."""
    statement = (
        select(Contract)
        .options(selectinload(Contract.indicators), selectinload(Contract.milestones))
        .where(Contract.id == contract_id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def contract_centre(session: AsyncSession, contract_id: int) -> int | None:
    contract = await session.get(Contract, contract_id)
    return contract.centre_id if contract is not None else None


async def contracts_of_centre(session: AsyncSession, centre_id: int) -> Sequence[Contract]:
    """For choosing a report's subject: the centre's contracts, newest first."""
    statement = select(Contract).where(Contract.centre_id == centre_id).order_by(Contract.id.desc())
    return (await session.execute(statement)).scalars().all()
