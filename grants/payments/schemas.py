from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.fields import NO_FLOAT, decimal_schema
from core.i18n import N_
from core.money import MoneyField, PositiveMoneyField
from grants.models import AwardState, BudgetCategory
from grants.payments.models import (
    DisbursementState,
    DocumentKind,
    EvaluationPurpose,
    RectificationState,
    ReviewState,
)
from grants.schemas import TrancheOut

Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Reason = Annotated[str, Field(min_length=2, max_length=2000)]
Comment = Annotated[str, Field(max_length=2000)]
PositiveMoney = PositiveMoneyField
Quantity = Annotated[
    Decimal,
    NO_FLOAT,
    Field(ge=0, le=1_000_000_000, max_digits=12, decimal_places=2),
    decimal_schema(1_000_000_000, 2),
]
Score = Annotated[
    Decimal, NO_FLOAT, Field(ge=0, le=200, max_digits=6, decimal_places=2), decimal_schema(200, 2)
]


class SignIn(BaseModel):
    signed_on: dt.date
    document_id: Id | None = None


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: DocumentKind
    label: str
    created_at: dt.datetime


class AwardEvaluationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    purpose: EvaluationPurpose
    grade: str
    total: Decimal
    passed: bool
    recorded_at: dt.datetime


class EvaluationOutcomeIn(BaseModel):
    """An evaluation result entered by staff (e.g. from a third-party evaluator's report)."""

    purpose: EvaluationPurpose
    grade: str = Field(pattern=r"^(excellent|good|pass|fail)$", max_length=16)
    total: Score
    deadline: dt.date | None = None


class RectificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    purpose: EvaluationPurpose | None
    reason: str
    deadline: dt.date
    state: RectificationState
    opened_by: str
    opened_at: dt.datetime


class ClawbackOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    paid: MoneyField
    spent: MoneyField
    amount: MoneyField
    reason: str
    barred_until: dt.date | None
    recorded_at: dt.datetime


class AwardEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime
    action: str
    note: str
    actor: str


class Execution(BaseModel):
    """Budget execution: granted, due (not yet paid), paid, spent (approved claims), returned."""

    granted: MoneyField = Decimal("0.00")
    due: MoneyField = Decimal("0.00")
    paid: MoneyField = Decimal("0.00")
    spent: MoneyField = Decimal("0.00")
    returned: MoneyField = Decimal("0.00")


class AwardDetail(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    application_id: int
    organisation_id: int
    category_id: int | None
    title: str
    amount: MoneyField
    paid: MoneyField
    state: AwardState
    signed_on: dt.date | None
    awarded_on: dt.date
    tranches: list[TrancheOut]
    agreement_document_id: int | None = None
    evaluations: list[AwardEvaluationOut] = Field(default_factory=list)
    rectifications: list[RectificationOut] = Field(default_factory=list)
    clawback: ClawbackOut | None = None
    execution: Execution = Field(default_factory=Execution)
    events: list[AwardEventOut] = Field(default_factory=list)


class RectifyIn(BaseModel):
    deadline: dt.date
    reason: Reason


class TerminateIn(BaseModel):
    reason: Reason
    bar_until: dt.date | None = None


class CloseIn(BaseModel):
    note: Comment = ""


class ActualIn(BaseModel):
    indicator_id: Id
    actual: Quantity
    note: str = Field(default="", max_length=500)


class ProgressReportIn(BaseModel):
    period: str = Field(min_length=1, max_length=100)
    narrative: str = Field(min_length=2, max_length=20000)
    actuals: list[ActualIn] = Field(default_factory=list, max_length=50)


class ActualOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    indicator_id: int
    actual: Decimal
    note: str


class ProgressReportOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    award_id: int
    period: str
    narrative: str
    state: ReviewState
    version: int
    submitted_at: dt.datetime
    reviewed_at: dt.datetime | None
    review_comment: str | None
    actuals: list[ActualOut]


class ReviewIn(BaseModel):
    """Approve, or return with comments (the comment is then required)."""

    approve: bool
    comment: Comment = ""

    @model_validator(mode="after")
    def _comment_when_returning(self) -> ReviewIn:
        if not self.approve and len(self.comment.strip()) < 2:
            raise ValueError(N_("Say what needs to change when returning"))
        return self


class ExpenseClaimIn(BaseModel):
    category: BudgetCategory
    item: str = Field(min_length=1, max_length=200)
    amount: PositiveMoney
    spent_on: dt.date
    receipt_ids: list[Id] = Field(min_length=1, max_length=20)


class ExpenseClaimOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    award_id: int
    category: BudgetCategory
    item: str
    amount: MoneyField
    spent_on: dt.date
    state: ReviewState
    version: int
    submitted_at: dt.datetime
    reviewed_at: dt.datetime | None
    review_comment: str | None
    receipt_ids: list[int]


class DisbursementCreate(BaseModel):
    tranche_id: Id | None = None
    milestone_id: Id | None = None
    note: Comment = ""

    @model_validator(mode="after")
    def _one_target(self) -> DisbursementCreate:
        if (self.tranche_id is None) == (self.milestone_id is None):
            raise ValueError(N_("Give either a tranche or a contract milestone"))
        return self


class RejectIn(BaseModel):
    reason: Reason


class ApproveIn(BaseModel):
    note: Comment = ""


class PayIn(BaseModel):
    voucher_no: str = Field(min_length=1, max_length=60)
    paid_on: dt.date
    amount: PositiveMoney


class DisbursementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    award_id: int | None
    tranche_id: int | None
    contract_id: int | None
    milestone_id: int | None
    payee_organisation_id: int
    amount: MoneyField
    state: DisbursementState
    note: str
    requested_by: int
    requested_by_name: str
    requested_at: dt.datetime
    approved_by: int | None
    rejected_by: int | None
    decided_by_name: str | None
    decided_at: dt.datetime | None
    reject_reason: str | None
    voucher_no: str | None
    paid_on: dt.date | None
    paid_amount: MoneyField | None


class ExecutionRow(BaseModel):
    programme_id: int
    programme: str
    category_id: int | None = None
    category: str | None = None
    budget: MoneyField
    execution: Execution


class AwardBrief(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    organisation_id: int
    title: str
    amount: MoneyField
    paid: MoneyField
    state: AwardState
    signed_on: dt.date | None
    awarded_on: dt.date
