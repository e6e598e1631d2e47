"""What a disbursement pays: an award's tranche or a contract's milestone, as one protocol.

Both are requested, decided and paid along one path (``grants.disbursements.service``): the
item moves due → requested → approved → paid (back to due when finance rejects) and its
holder's paid total (the award's, the contract's) grows by the amount. Each move is a
compare-and-set in the repository, with the database's CHECKs behind (``paid <= amount``,
one live request per item). A kind says only what is its own: which rows it moves, when it
may be requested, and what else a payment tells.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import _
from core.identity.principal import Principal
from core.money import format_money
from grants import notices, timeline
from grants.awards.models import Award, Tranche
from grants.contracts.models import Contract, ContractMilestone
from grants.disbursements.models import DisbursementState
from grants.disbursements.schemas import PayIn


@dataclass(frozen=True)
class Payable(ABC):
    """One item to be paid once: its row, its holder's row, the payee and the amount."""

    model: ClassVar[type[Tranche] | type[ContractMilestone]]
    """The row whose state moves (tranche, milestone)."""
    holder: ClassVar[type[Award] | type[Contract]]
    """The row whose paid total grows (award, contract)."""

    item_id: int
    holder_id: int
    centre_id: int
    payee_organisation_id: int
    amount: Decimal

    @abstractmethod
    def disbursement_targets(self) -> dict[str, int]:
        """The disbursement's columns that name the item and its holder."""

    @abstractmethod
    async def after_payment(self, session: AsyncSession, principal: Principal, data: PayIn) -> None:
        """What a kind records or tells beyond the disbursement when it is paid."""


@dataclass(frozen=True)
class TranchePayment(Payable):
    model = Tranche
    holder = Award

    def disbursement_targets(self) -> dict[str, int]:
        return {"award_id": self.holder_id, "tranche_id": self.item_id}

    async def after_payment(self, session: AsyncSession, principal: Principal, data: PayIn) -> None:
        """The award's timeline shows the payment and the grantee is told."""
        award = await session.get(Award, self.holder_id, populate_existing=True)
        assert award is not None
        note = _("{amount} yuan paid, voucher {voucher}").format(
            amount=format_money(self.amount), voucher=data.voucher_no
        )
        session.add(timeline.row(principal, award, "paid", note))
        await session.flush()
        await notices.award_changed(
            session,
            award,
            "paid",
            _("{amount} yuan paid on {day}").format(
                amount=f"{self.amount:,.2f}", day=data.paid_on.isoformat()
            ),
        )


@dataclass(frozen=True)
class MilestonePayment(Payable):
    model = ContractMilestone
    holder = Contract

    def disbursement_targets(self) -> dict[str, int]:
        return {"contract_id": self.holder_id, "milestone_id": self.item_id}

    async def after_payment(self, session: AsyncSession, principal: Principal, data: PayIn) -> None:
        """A contract's payments show in its disbursements and paid total alone."""


class DisbursementFacts(Protocol):
    """What a disbursement's payable, audit and answer are built from: the ORM record, or the
    row an approval's UPDATE returned."""

    @property
    def id(self) -> int: ...
    @property
    def centre_id(self) -> int: ...
    @property
    def award_id(self) -> int | None: ...
    @property
    def tranche_id(self) -> int | None: ...
    @property
    def contract_id(self) -> int | None: ...
    @property
    def milestone_id(self) -> int | None: ...
    @property
    def payee_organisation_id(self) -> int: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def state(self) -> DisbursementState: ...


def paid_by(disbursement: DisbursementFacts) -> Payable:
    """What a disbursement pays, from its own columns (no query)."""
    kind = TranchePayment if disbursement.tranche_id is not None else MilestonePayment
    item_id = disbursement.tranche_id or disbursement.milestone_id
    holder_id = disbursement.award_id or disbursement.contract_id
    assert item_id is not None
    assert holder_id is not None
    payee = disbursement.payee_organisation_id
    return kind(item_id, holder_id, disbursement.centre_id, payee, disbursement.amount)
