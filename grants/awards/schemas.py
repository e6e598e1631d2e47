"""What the award endpoints take and answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.fields import Day, Flag, Id, RequestModel
from core.i18n import N_
from core.money import MoneyField
from grants.applications.models import (
    BudgetCategory,
)
from grants.awards.models import (
    AwardState,
    DocumentKind,
    EvaluationPurpose,
    RectificationState,
    ReviewState,
    TrancheState,
)
from grants.fields import Comment, Fixed2, Narrative, PositiveMoney, Quantity, Reason, Score
from grants.programmes.models import TrancheTrigger


class TrancheOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    seq: int
    share_pct: Fixed2
    trigger: TrancheTrigger
    amount: MoneyField
    state: TrancheState
    due_on: dt.date | None
    paid_on: dt.date | None


class AwardOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    programme_id: int
    application_id: int
    organisation_id: int
    title: str
    amount: MoneyField
    paid: MoneyField
    state: AwardState
    signed_on: dt.date | None
    awarded_on: dt.date
    tranches: list[TrancheOut]


class SignIn(RequestModel):
    signed_on: Day = Field(title=N_("Signing date"))
    document_id: Id | None = Field(None, title=N_("Signed copy"))


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


class EvaluationOutcomeIn(RequestModel):
    """An evaluation result entered by staff (e.g. from a third-party evaluator's report).

    The grade follows from the total through the grade bands of the centre's project
    rubric (SPEC §5); it is never entered on its own. A client may state the grade it
    expects: a grade the total does not earn is refused.
    """

    purpose: EvaluationPurpose = Field(title=N_("Evaluation"))
    total: Score = Field(title=N_("Total score"))
    grade: str | None = Field(
        default=None,
        pattern=r"^(excellent|good|pass|fail)$",
        max_length=16,
        description="derived from the total; when given it must be the grade the total earns",
        title=N_("Grade"),
    )
    deadline: Day | None = Field(None, title=N_("Deadline"))


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


class RectifyIn(RequestModel):
    deadline: Day = Field(title=N_("Deadline"))
    reason: Reason = Field(title=N_("Reason"))


class TerminateIn(RequestModel):
    reason: Reason = Field(title=N_("Reason"))
    bar_until: Day | None = Field(None, title=N_("Barred until"))


class CloseIn(RequestModel):
    note: Comment = Field("", title=N_("Note"))


class ProgressActualIn(RequestModel):
    indicator_id: Id
    actual: Quantity = Field(title=N_("Actual"))
    note: str = Field(default="", max_length=500, title=N_("Note"))


class ProgressReportIn(RequestModel):
    period: str = Field(min_length=1, max_length=100, title=N_("Period"))
    narrative: Annotated[Narrative, Field(title=N_("Narrative"))]
    actuals: list[ProgressActualIn] = Field(
        default_factory=list, max_length=50, title=N_("Indicator actuals")
    )


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


class ReviewIn(RequestModel):
    """Approve, or return with comments (the comment is then required)."""

    approve: Flag = Field(title=N_("Decision"))
    comment: Comment = Field("", title=N_("Comment"))

    @model_validator(mode="after")
    def _comment_when_returning(self) -> ReviewIn:
        if not self.approve and len(self.comment.strip()) < 2:
            raise ValueError(N_("Say what needs to change when returning"))
        return self


class ExpenseClaimIn(RequestModel):
    category: BudgetCategory = Field(title=N_("Category"))
    item: str = Field(min_length=1, max_length=200, title=N_("Item"))
    amount: PositiveMoney = Field(title=N_("Amount"))
    spent_on: Day = Field(title=N_("Date spent"))
    receipt_ids: list[Id] = Field(min_length=1, max_length=20, title=N_("Receipts"))


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
