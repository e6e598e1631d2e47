"""Every query of purchased-service contracts."""

from __future__ import annotations

from sqlalchemy import Select
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
