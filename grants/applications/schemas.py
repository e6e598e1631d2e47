"""What the application, decision and publicity endpoints take and answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.fields import Day, ExactDecimal, Flag, Id, RequestModel, WholeNumber
from core.i18n import N_
from core.money import MoneyField, NonNegativeMoneyField, PositiveMoneyField
from grants.applications.models import (
    ApplicationState,
    BudgetCategory,
    FundedBy,
    IndicatorKind,
    ObjectionState,
)
from grants.fields import Fixed2, Reason, Text2k, Text10k


class BudgetLineIn(RequestModel):
    category: BudgetCategory = Field(title=N_("Category"))
    item: str = Field(min_length=1, max_length=200, title=N_("Item"))
    unit_price: NonNegativeMoneyField = Field(title=N_("Unit price"))
    quantity: Annotated[Decimal, ExactDecimal(1_000_000, 2, positive=True)] = Field(title=N_("Quantity"))
    funded_by: FundedBy = FundedBy.grant


class BudgetLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    category: BudgetCategory
    item: str
    unit_price: MoneyField
    quantity: Fixed2
    amount: MoneyField
    funded_by: FundedBy


class IndicatorIn(RequestModel):
    kind: IndicatorKind = Field(title=N_("Kind"))
    name: str = Field(min_length=1, max_length=200, title=N_("Name"))
    target: Annotated[Decimal, ExactDecimal(10_000_000, 2)] = Field(title=N_("Target"))
    unit: str = Field(min_length=1, max_length=20, title=N_("Unit"))


class IndicatorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: IndicatorKind
    name: str
    target: Decimal
    unit: str
    id: int
    seq: int


class ActivityIn(RequestModel):
    name: str = Field(min_length=1, max_length=200, title=N_("Name"))
    starts_on: Day = Field(title=N_("Start date"))
    ends_on: Day = Field(title=N_("End date"))
    description: Text2k = Field("", title=N_("Description"))

    @model_validator(mode="after")
    def _order(self) -> ActivityIn:
        if self.ends_on < self.starts_on:
            raise ValueError("The end date is before the start date")
        return self


class ApplicationIn(RequestModel):
    """What the applicant writes. Totals are computed by the server from the budget lines; a
    client may state the request it expects (``requested_amount``), and a statement that does
    not match the grant-funded lines is refused rather than silently replaced."""

    title: str = Field(min_length=2, max_length=200, title=N_("Title"))
    topic_id: Id | None = Field(None, title=N_("Topic"))
    category_id: Id | None = Field(None, title=N_("Category"))
    target_community: str = Field(default="", max_length=200)
    beneficiaries: Text2k = ""
    beneficiary_count: WholeNumber = Field(default=0, ge=0, le=10_000_000)
    needs: Text10k = ""
    objectives: Text10k = ""
    activities: list[ActivityIn] = Field(default_factory=list, max_length=50)
    budget_lines: list[BudgetLineIn] = Field(default_factory=list, max_length=200, title=N_("Budget lines"))
    indicators: list[IndicatorIn] = Field(default_factory=list, max_length=50, title=N_("Indicators"))
    requested_amount: NonNegativeMoneyField | None = Field(None, title=N_("Requested amount"))


class ApplicationCreate(ApplicationIn):
    programme_id: Id
    organisation_id: Id


class EligibilityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    passed: bool
    reason: str
    final_passed: bool | None
    staff_reason: str | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime
    action: str
    from_state: str | None
    to_state: str
    reason: str
    actor: str


class ApplicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    organisation_id: int
    topic_id: int | None
    category_id: int | None
    state: ApplicationState
    title: str
    target_community: str
    beneficiaries: str
    beneficiary_count: int
    needs: str
    objectives: str
    activities: list[dict[str, str]]
    requested_amount: MoneyField
    cofunding_amount: MoneyField
    total_budget: MoneyField
    approved_amount: MoneyField | None
    submitted_at: dt.datetime | None
    review_score: Fixed2 | None
    rank: int | None
    decision_reason: str | None
    publicity_starts_on: dt.date | None
    publicity_ends_on: dt.date | None
    budget_lines: list[BudgetLineOut]
    indicators: list[IndicatorOut]
    checks: list[EligibilityOut]
    events: list[EventOut]


DETAIL_FIELDS = tuple(
    name
    for name in ApplicationOut.model_fields
    if name not in ("budget_lines", "indicators", "checks", "events")
)
"""The application's own columns its detail shows (the rest are its collections)."""


class ApplicationBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    organisation_id: int
    title: str
    state: ApplicationState
    requested_amount: MoneyField
    approved_amount: MoneyField | None
    review_score: Fixed2 | None
    rank: int | None
    submitted_at: dt.datetime | None


class ReasonIn(RequestModel):
    reason: Reason = Field(title=N_("Reason"))


class CheckDecision(RequestModel):
    code: str = Field(min_length=1, max_length=40)
    passed: Flag
    reason: Text2k = Field("", title=N_("Reason"))


class ConfirmEligibility(RequestModel):
    decisions: list[CheckDecision] = Field(default_factory=list, max_length=20, title=N_("Decisions"))


class DecisionRow(RequestModel):
    application_id: Id
    approve: Flag = Field(title=N_("Decision"))
    amount: PositiveMoneyField | None = Field(None, title=N_("Amount"))
    reason: str = Field(default="", max_length=2000, title=N_("Reason"))
    """Required when rejecting or when the approved amount differs from the request."""


class DecideIn(RequestModel):
    decisions: list[DecisionRow] = Field(min_length=1, max_length=1000, title=N_("Decisions"))


class PublicityItem(BaseModel):
    application_id: int
    organisation: str
    project: str
    amount: MoneyField
    category: str | None
    starts_on: dt.date
    ends_on: dt.date


class ObjectionIn(RequestModel):
    application_id: Id
    content: str = Field(min_length=5, max_length=5000, title=N_("Content"))
    name: str = Field(default="", max_length=100, title=N_("Name"))
    contact: str = Field(default="", max_length=100)


class ObjectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str | None
    application_id: int
    lodged_at: dt.datetime
    content: str
    state: ObjectionState
    resolution: str | None


class ResolveObjection(RequestModel):
    upheld: Flag
    resolution: Reason = Field(title=N_("Resolution"))
