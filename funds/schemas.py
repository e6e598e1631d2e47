"""What the fund endpoints take and answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.fields import Day, Flag, Id, RequestModel
from core.i18n import N_
from core.money import MoneyField, NonNegativeMoneyField, PositiveMoneyField
from funds.models import (
    AllocationState,
    AllocationTarget,
    FundPurpose,
    FundScope,
    ReceiptSource,
    Restriction,
    StepDecision,
)


class FundCreate(RequestModel):
    name: str = Field(min_length=2, max_length=200, title=N_("Name"))
    scope: FundScope
    community_id: Id | None = Field(None, title=N_("Community"))
    custodian: str = Field(min_length=2, max_length=200)
    committee: str = Field(default="", max_length=2000)
    description: str = Field(default="", max_length=10000, title=N_("Description"))
    approval_threshold: PositiveMoneyField | None = None
    approval_steps: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=10
    )

    @model_validator(mode="after")
    def _scope(self) -> FundCreate:
        if self.scope is FundScope.community and self.community_id is None:
            raise ValueError(N_("A community fund names its community"))
        if self.scope is FundScope.street and self.community_id is not None:
            raise ValueError(N_("A street-wide fund names no community"))
        if any(not step.strip() or len(step) > 100 for step in self.approval_steps):
            raise ValueError(N_("Each approval step needs a name of at most 100 characters"))
        if self.approval_threshold is not None and not self.approval_steps:
            raise ValueError(N_("A threshold needs the approval steps above it"))
        return self


class ReceiptCreate(RequestModel):
    received_on: Day
    source: ReceiptSource = Field(title=N_("Source"))
    donor_name: str = Field(min_length=1, max_length=200)
    publish_donor: Flag = False
    amount: PositiveMoneyField = Field(title=N_("Amount"))
    receipt_no: str | None = Field(default=None, min_length=1, max_length=60)
    restriction: Restriction = Restriction.none
    purpose: FundPurpose | None = Field(None, title=N_("Evaluation"))
    community_id: Id | None = Field(None, title=N_("Community"))
    programme_id: Id | None = None
    in_kind_items: str = Field(default="", max_length=2000)
    valuation_basis: str = Field(default="", max_length=2000)
    note: str = Field(default="", max_length=2000, title=N_("Note"))

    @model_validator(mode="after")
    def _consistent(self) -> ReceiptCreate:
        if self.source is ReceiptSource.in_kind:
            if not self.in_kind_items.strip():
                raise ValueError(N_("List the items of an in-kind gift"))
            if not self.valuation_basis.strip():
                raise ValueError(N_("Give the basis of the in-kind valuation"))
            if self.restriction is not Restriction.none:
                raise ValueError(N_("An in-kind gift is not cash and carries no restriction"))
        wanted = {
            Restriction.purpose: self.purpose,
            Restriction.community: self.community_id,
            Restriction.programme: self.programme_id,
        }
        for kind, value in wanted.items():
            if kind is self.restriction and value is None:
                raise ValueError(N_("Name what the restriction is to"))
            if kind is not self.restriction and value is not None:
                raise ValueError(N_("Only the restriction chosen may be named"))
        return self


class AllocationCreate(RequestModel):
    pool_id: Id
    target: AllocationTarget = Field(title=N_("Target"))
    programme_id: Id | None = None
    award_id: Id | None = None
    contract_id: Id | None = None
    purpose: FundPurpose = Field(title=N_("Evaluation"))
    community_id: Id | None = Field(None, title=N_("Community"))
    title: str = Field(min_length=2, max_length=200, title=N_("Title"))
    amount: PositiveMoneyField = Field(title=N_("Amount"))
    note: str = Field(default="", max_length=2000, title=N_("Note"))

    @model_validator(mode="after")
    def _one_target(self) -> AllocationCreate:
        given = {
            AllocationTarget.programme: self.programme_id,
            AllocationTarget.award: self.award_id,
            AllocationTarget.contract: self.contract_id,
        }
        if given[self.target] is None or any(v is not None for k, v in given.items() if k is not self.target):
            raise ValueError(N_("Name exactly the programme, award or contract the money goes to"))
        return self


class DecisionIn(RequestModel):
    decision: StepDecision
    note: str = Field(default="", max_length=2000, title=N_("Note"))

    @model_validator(mode="after")
    def _reason(self) -> DecisionIn:
        if self.decision is StepDecision.rejected and len(self.note.strip()) < 2:
            raise ValueError(N_("Give the reason for a rejection"))
        return self


class AllocationPayIn(RequestModel):
    voucher_no: str = Field(min_length=1, max_length=60, title=N_("Voucher number"))
    paid_on: Day = Field(title=N_("Payment date"))


class ReturnIn(RequestModel):
    award_id: Id
    returned_on: Day
    note: str = Field(default="", max_length=2000, title=N_("Note"))


class StepOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    name: str


class PoolOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    restriction: Restriction
    purpose: FundPurpose | None
    community_id: int | None
    programme_id: int | None
    received: MoneyField
    committed: MoneyField
    available: MoneyField


class FundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    scope: FundScope
    community_id: int | None
    custodian: str
    committee: str
    description: str
    approval_threshold: MoneyField | None
    received: MoneyField
    in_kind_value: MoneyField
    committed: MoneyField
    spent: MoneyField
    returned: MoneyField
    available: MoneyField
    steps: list[StepOut]


class FundDetailOut(FundOut):
    pools: list[PoolOut]


class ReceiptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    fund_id: int
    pool_id: int | None
    received_on: dt.date
    source: ReceiptSource
    donor_name: str
    publish_donor: bool
    amount: MoneyField
    receipt_no: str | None
    attachment_id: int | None
    in_kind_items: str
    valuation_basis: str
    note: str


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    step_name: str
    decision: StepDecision
    note: str
    decided_by_name: str
    decided_at: dt.datetime


class AllocationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    fund_id: int
    pool_id: int
    target: AllocationTarget
    programme_id: int | None
    award_id: int | None
    contract_id: int | None
    purpose: FundPurpose
    community_id: int | None
    title: str
    amount: MoneyField
    returned: NonNegativeMoneyField
    state: AllocationState
    next_step: int
    step_count: int
    note: str
    requested_by: int
    requested_by_name: str
    requested_at: dt.datetime
    voucher_no: str | None
    paid_on: dt.date | None
    decisions: list[DecisionOut]


class ReturnOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    fund_id: int
    allocation_id: int
    clawback_id: int | None
    amount: MoneyField
    returned_on: dt.date


class PublicLine(BaseModel):
    label: str
    amount: MoneyField


class PublicReceipt(BaseModel):
    received_on: dt.date
    source: str
    donor: str
    amount: MoneyField
    in_kind: bool


class PublicAllocation(BaseModel):
    title: str
    target: str
    purpose: str
    amount: MoneyField
    returned: MoneyField
    state: str


class PublicFundOut(BaseModel):
    """The fund's public accounts (双公开): no donor who did not consent is named."""

    id: int
    name: str
    custodian: str
    committee: str
    received: MoneyField
    in_kind_value: MoneyField
    committed: MoneyField
    spent: MoneyField
    available: MoneyField
    leverage: Decimal | None
    by_source: list[PublicLine]
    receipts: list[PublicReceipt]
    allocations: list[PublicAllocation]


class FundingOut(BaseModel):
    allocation_id: int
    fund_id: int
    fund_name: str
    title: str
    amount: MoneyField
    returned: MoneyField
    state: AllocationState


class ProgrammeFundingsOut(BaseModel):
    """A programme financed by funds: its total budget is the sum of these fundings."""

    programme_id: int
    total_budget: MoneyField
    fundings_total: MoneyField
    fundings: list[FundingOut]
