from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.fields import Day, ExactDecimal, Id, RequestModel
from core.i18n import N_
from core.money import MoneyField, PositiveMoneyField
from grants.contracts.models import ContractState, MilestoneCondition, MilestoneState, ProcurementMethod
from grants.fields import Quantity, Reason
from incubator.models import ServiceField

Pct = Annotated[Decimal, ExactDecimal(100, 2, positive=True)]
RulePct = Annotated[Decimal, ExactDecimal(100, 2)]
Score = Annotated[Decimal, ExactDecimal(100, 2)]


class ContractIndicatorIn(RequestModel):
    name: str = Field(min_length=1, max_length=200, title=N_("Name"))
    target: Quantity = Field(title=N_("Target"))
    unit: str = Field(min_length=1, max_length=20, title=N_("Unit"))


class ContractIndicatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    target: Decimal
    unit: str
    id: int
    seq: int
    actual: Decimal | None


class MilestoneIn(RequestModel):
    share_pct: Pct = Field(title=N_("Share (%)"))
    condition: MilestoneCondition = Field(title=N_("Condition"))
    description: str = Field(default="", max_length=500, title=N_("Description"))


class MilestoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int
    share_pct: Decimal
    condition: MilestoneCondition
    description: str
    amount: MoneyField
    payable: MoneyField | None
    state: MilestoneState
    due_on: dt.date | None
    paid_on: dt.date | None


class ContractIn(RequestModel):
    purchaser: str = Field(min_length=2, max_length=200, title=N_("Purchaser"))
    purchaser_uscc: str | None = Field(
        default=None,
        min_length=18,
        max_length=18,
        pattern=r"^[0-9A-Z]{18}$",
        title=N_("Purchaser's credit code"),
    )
    provider_id: Id = Field(title=N_("Provider"))
    title: str = Field(min_length=2, max_length=200, title=N_("Title"))
    service_category: ServiceField = Field(title=N_("Service category"))
    content: str = Field(default="", max_length=20000, title=N_("Content"))
    procurement_method: ProcurementMethod = Field(title=N_("Procurement method"))
    amount: PositiveMoneyField = Field(title=N_("Amount"))
    starts_on: Day = Field(title=N_("Start date"))
    ends_on: Day = Field(title=N_("End date"))
    full_payment_from: RulePct = Field(Decimal("90"), title=N_("Full payment from (score)"))
    pro_rata_from: RulePct = Field(Decimal("60"), title=N_("Pro-rata payment from (score)"))
    indicators: list[ContractIndicatorIn] = Field(default_factory=list, max_length=50, title=N_("Indicators"))
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=20, title=N_("Payment milestones"))

    @model_validator(mode="after")
    def _consistent(self) -> ContractIn:
        if self.ends_on < self.starts_on:
            raise ValueError(N_("The end date is before the start date"))
        if self.pro_rata_from >= self.full_payment_from:
            raise ValueError(N_("The pro-rata threshold must be below the full-payment threshold"))
        return self


class ContractEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime
    action: str
    from_state: str | None
    to_state: str
    note: str
    actor: str


class ContractOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    purchaser: str
    purchaser_uscc: str | None
    provider_id: int
    title: str
    service_category: str
    content: str
    procurement_method: ProcurementMethod
    amount: MoneyField
    paid: MoneyField
    starts_on: dt.date
    ends_on: dt.date
    state: ContractState
    signed_on: dt.date | None
    started_on: dt.date | None
    full_payment_from: Decimal
    pro_rata_from: Decimal
    evaluation_score: Decimal | None
    payment_factor: Decimal | None
    evaluated_on: dt.date | None
    closed_on: dt.date | None
    termination_reason: str | None
    indicators: list[ContractIndicatorOut]
    milestones: list[MilestoneOut]
    events: list[ContractEventOut]


class ContractBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    purchaser: str
    provider_id: int
    title: str
    procurement_method: ProcurementMethod
    amount: MoneyField
    paid: MoneyField
    state: ContractState
    starts_on: dt.date
    ends_on: dt.date


class DateIn(RequestModel):
    on: Day = Field(title=N_("Date"))


class ContractActualIn(RequestModel):
    indicator_id: Id
    actual: Quantity = Field(title=N_("Actual"))


class EvaluateIn(RequestModel):
    """Without a score: the evaluation starts. With a score: the result is recorded and the
    payment rule applied to the final milestone(s)."""

    score: Score | None = Field(None, title=N_("Performance score"))
    on: Day | None = Field(None, title=N_("Date"))
    actuals: list[ContractActualIn] = Field(
        default_factory=list, max_length=50, title=N_("Indicator actuals")
    )


class CompleteIn(RequestModel):
    note: str = Field(default="", max_length=2000, title=N_("Note"))


class ContractTerminateIn(RequestModel):
    reason: Reason = Field(title=N_("Reason"))
    bar_until: Day | None = Field(None, title=N_("Barred until"))
