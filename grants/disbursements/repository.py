"""Queries of disbursements, scoped to the caller's centre."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import N_
from core.identity.models import Role
from core.repository import CentreScopedRepository
from grants.disbursements.models import OPEN_DISBURSEMENT_STATES, Disbursement, DisbursementState


class DisbursementRepository(CentreScopedRepository[Disbursement]):
    """Staff, finance and admins of the centre see its disbursements; nobody else does."""

    model = Disbursement
    not_found_message = N_("Disbursement not found")

    def select(self) -> Select[Disbursement]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(Disbursement.id.is_(None))
        return statement

    def filtered(
        self, state: DisbursementState | None = None, award_id: int | None = None
    ) -> Select[Disbursement]:
        statement = self.select()
        if state is not None:
            statement = statement.where(Disbursement.state == state)
        if award_id is not None:
            statement = statement.where(Disbursement.award_id == award_id)
        return statement.order_by(Disbursement.requested_at.desc(), Disbursement.id.desc())


async def open_disbursement(
    session: AsyncSession, *, award_id: int | None = None, contract_id: int | None = None
) -> Disbursement | None:
    statement = select(Disbursement).where(Disbursement.state.in_(OPEN_DISBURSEMENT_STATES))
    if award_id is not None:
        statement = statement.where(Disbursement.award_id == award_id)
    if contract_id is not None:
        statement = statement.where(Disbursement.contract_id == contract_id)
    return (await session.execute(statement.limit(1))).scalar_one_or_none()
