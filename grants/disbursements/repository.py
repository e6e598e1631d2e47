"""Queries of disbursements, scoped to the caller's centre."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import N_
from core.identity.models import Role
from core.repository import CentreScopedRepository
from grants.disbursements.models import Disbursement, DisbursementState


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


async def paid_for_award(session: AsyncSession, award_id: int) -> Sequence[Disbursement]:
    """The payments made on one award, oldest first."""
    statement = (
        select(Disbursement)
        .where(Disbursement.award_id == award_id, Disbursement.state == DisbursementState.paid)
        .order_by(Disbursement.paid_on, Disbursement.id)
    )
    return (await session.execute(statement)).scalars().all()
