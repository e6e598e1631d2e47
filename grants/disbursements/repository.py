"""Queries of disbursements, scoped to the caller's centre."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.identity.models import Role
from core.repository import CentreScopedRepository
from grants.awards.models import Award, AwardAgreement
from grants.contracts.models import Contract, ContractMilestone
from grants.disbursements.models import Disbursement, DisbursementState
from incubator.models import Organisation


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


async def payment_context(
    session: AsyncSession, disbursements: Sequence[Disbursement]
) -> tuple[
    dict[int, Organisation],
    dict[int, Award],
    dict[int, int],
    dict[int, Contract],
    dict[int, tuple[int, int]],
    dict[int, int | None],
]:
    """What finance sees beside each disbursement, in one query per kind: payees, awards,
    tranche counts per award, contracts, milestone (number, count), agreement documents."""
    org_ids = {d.payee_organisation_id for d in disbursements}
    award_ids = {d.award_id for d in disbursements if d.award_id is not None}
    contract_ids = {d.contract_id for d in disbursements if d.contract_id is not None}
    milestone_ids = {d.milestone_id for d in disbursements if d.milestone_id is not None}
    organisations = {
        o.id: o
        for o in (await session.execute(select(Organisation).where(Organisation.id.in_(org_ids)))).scalars()
    }
    awards = {
        a.id: a
        for a in (
            await session.execute(
                select(Award).where(Award.id.in_(award_ids)).options(selectinload(Award.tranches))
            )
        ).scalars()
    }
    tranche_counts = {a.id: len(a.tranches) for a in awards.values()}
    contracts = {
        c.id: c
        for c in (await session.execute(select(Contract).where(Contract.id.in_(contract_ids)))).scalars()
    }
    milestone_rows = (
        await session.execute(
            select(ContractMilestone.id, ContractMilestone.seq, ContractMilestone.contract_id).where(
                ContractMilestone.id.in_(milestone_ids)
            )
        )
    ).all()
    counts = dict(
        (
            await session.execute(
                select(ContractMilestone.contract_id, func.count())
                .where(ContractMilestone.contract_id.in_(contract_ids))
                .group_by(ContractMilestone.contract_id)
            )
        ).all()
    )
    milestones = {row.id: (row.seq, int(counts.get(row.contract_id, 0))) for row in milestone_rows}
    agreements = dict(
        (
            await session.execute(
                select(AwardAgreement.award_id, AwardAgreement.document_id).where(
                    AwardAgreement.award_id.in_(award_ids)
                )
            )
        ).all()
    )
    return organisations, awards, tranche_counts, contracts, milestones, agreements
