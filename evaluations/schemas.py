from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.fields import NOT_BOOL, ExactDecimal, Flag, Id, Instant, RequestModel, WholeNumber
from core.i18n import N_
from core.money import MoneyField, NonNegativeMoneyField
from evaluations.models import AssignmentState, RoundPurpose, RoundState, SheetKind, SheetState

Points = Annotated[Decimal, ExactDecimal(1000, 2)]
MaxPoints = Annotated[Decimal, ExactDecimal(100, 2, positive=True)]
MinScore = Annotated[Decimal, ExactDecimal(200, 2)]
Spread = Annotated[Decimal, ExactDecimal(100, 2)]
Key = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


class GradeCode(StrEnum):
    excellent = "excellent"
    good = "good"
    pass_ = "pass"
    fail = "fail"


GRADE_LABELS: dict[GradeCode, str] = {
    GradeCode.excellent: N_("Excellent"),
    GradeCode.good: N_("Good"),
    GradeCode.pass_: N_("Pass"),
    GradeCode.fail: N_("Fail"),
}


# --- rubrics -------------------------------------------------------------------------------


class Criterion(RequestModel):
    key: Key
    name: str = Field(min_length=1, max_length=100)
    guidance: str = Field(default="", max_length=1000)
    max_points: MaxPoints
    sub_criteria: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20
    )
    bonus: Flag = False


class Band(RequestModel):
    code: GradeCode
    min_score: MinScore


class RubricVersionIn(RequestModel):
    criteria: list[Criterion] = Field(min_length=1, max_length=30)
    bands: list[Band] | None = Field(default=None, min_length=1, max_length=4)
    """Omitted: 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, 不合格 below."""


class RubricCreate(RubricVersionIn):
    name: str = Field(min_length=2, max_length=200)
    purpose: RoundPurpose
    description: str = Field(default="", max_length=2000)


class RubricVersionRead(BaseModel):
    id: int
    rubric_id: int
    number: int
    criteria: list[Criterion]
    bands: list[Band]
    frozen: bool
    base_max: Decimal
    bonus_max: Decimal
    created_at: dt.datetime


class RubricRead(BaseModel):
    id: int
    name: str
    purpose: RoundPurpose
    description: str
    versions: list[RubricVersionRead]


# --- rounds and subjects -------------------------------------------------------------------


class RoundCreate(RequestModel):
    name: str = Field(min_length=2, max_length=200)
    purpose: RoundPurpose
    rubric_version_id: Id
    min_sheets_per_subject: WholeNumber = Field(default=3, ge=1, le=20)
    max_per_evaluator: Annotated[int, Field(ge=1, le=1000), NOT_BOOL] | None = None
    blind: Flag = False
    spread_threshold: Spread = Decimal(15)
    expert_weight: WholeNumber = Field(default=100, ge=0, le=100)
    public_weight: WholeNumber = Field(default=0, ge=0, le=100)
    due_at: Instant | None = None
    programme_budget: NonNegativeMoneyField | None = None
    category_budgets: dict[Annotated[str, Field(max_length=60)], NonNegativeMoneyField] = Field(
        default_factory=dict, max_length=50
    )

    @model_validator(mode="after")
    def _weights(self) -> RoundCreate:
        if self.expert_weight + self.public_weight != 100:
            raise ValueError(N_("The expert and public weights must add up to 100"))
        if self.expert_weight == 0:
            raise ValueError(N_("The expert panel must carry some weight"))
        if self.due_at is not None and self.due_at.tzinfo is None:
            self.due_at = self.due_at.replace(tzinfo=dt.UTC)
        return self


class RoundRead(BaseModel):
    id: int
    name: str
    purpose: RoundPurpose
    rubric_version_id: int
    rubric_id: int
    rubric_name: str
    rubric_version: int
    min_sheets_per_subject: int
    max_per_evaluator: int | None
    blind: bool
    spread_threshold: Decimal
    expert_weight: int
    public_weight: int
    due_at: dt.datetime | None
    state: RoundState
    closed_at: dt.datetime | None
    programme_budget: MoneyField | None
    category_budgets: dict[str, MoneyField]
    subject_count: int
    created_at: dt.datetime


DisplayKey = Annotated[str, Field(min_length=1, max_length=60)]
DisplayValue = Annotated[str, Field(max_length=5000)]


class SubjectCreate(RequestModel):
    subject_type: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    subject_id: Id
    organisation_id: Id | None = None
    category: str = Field(default="", max_length=60)
    title: str = Field(min_length=1, max_length=200)
    requested_amount: NonNegativeMoneyField | None = None
    display: dict[DisplayKey, DisplayValue] = Field(default_factory=dict, max_length=40)


class SubjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    round_id: int
    subject_type: str
    subject_id: int
    organisation_id: int | None
    category: str
    title: str
    requested_amount: MoneyField | None
    display: dict[str, Any]


# --- assignments and conflicts ------------------------------------------------------------


class AssignmentCreate(RequestModel):
    subject_id: Id
    evaluator_id: Id


class AutoAssignRequest(RequestModel):
    evaluator_ids: list[Id] = Field(min_length=1, max_length=200)
    per_subject: Annotated[int, Field(ge=1, le=20), NOT_BOOL] | None = None
    """Evaluators per subject; the round's minimum when omitted."""


class AssignmentRead(BaseModel):
    id: int
    round_id: int
    round_name: str
    round_state: RoundState
    subject_id: int
    subject_title: str
    evaluator_id: int
    evaluator_name: str
    state: AssignmentState
    conflict_reason: str | None
    declared_at: dt.datetime | None
    due_at: dt.datetime | None
    sheet_state: SheetState | None


class Shortfall(BaseModel):
    subject_id: int
    title: str
    missing: int


class AutoAssignResult(BaseModel):
    created: list[AssignmentRead]
    short: list[Shortfall]


class AssignmentDetail(AssignmentRead):
    """What the evaluator sees: the subject (identity removed when blind) and the rubric."""

    blind: bool
    display: dict[str, Any]
    criteria: list[Criterion]


class DeclarationIn(RequestModel):
    has_conflict: Flag
    reason: str = Field(default="", max_length=500)


class EvaluatorConflictCreate(RequestModel):
    organisation_id: Id
    reason: str = Field(min_length=2, max_length=500)
    evaluator_id: Id | None = None
    """Staff may record a conflict for an evaluator; an evaluator records their own."""


class EvaluatorConflictRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    evaluator_id: int
    organisation_id: int
    reason: str
    created_at: dt.datetime


# --- score sheets --------------------------------------------------------------------------


class ScoreItemIn(RequestModel):
    criterion_key: Key
    score: Points | None = None
    comment: str = Field(default="", max_length=2000)


class SheetIn(RequestModel):
    items: list[ScoreItemIn] = Field(default_factory=list, max_length=40)
    comment: str = Field(default="", max_length=5000)


class ScoreItemRead(BaseModel):
    criterion_key: str
    score: Decimal | None
    comment: str


class SheetRead(BaseModel):
    id: int | None
    assignment_id: int | None
    kind: SheetKind
    state: SheetState
    total: Decimal
    comment: str
    items: list[ScoreItemRead]
    submitted_at: dt.datetime | None


class JuryCodesRequest(RequestModel):
    subject_id: Id
    count: WholeNumber = Field(ge=1, le=500)


class JuryCodesRead(BaseModel):
    subject_id: int
    codes: list[str]


class JuryBallot(BaseModel):
    round_name: str
    subject_title: str
    display: dict[str, Any]
    criteria: list[Criterion]


class PublicSheetRead(BaseModel):
    total: Decimal
    submitted_at: dt.datetime


# --- progress, results, recommendation ----------------------------------------------------


class ProgressEvaluator(BaseModel):
    assignment_id: int
    evaluator_id: int
    evaluator_name: str
    state: AssignmentState
    submitted: bool


class ProgressSubject(BaseModel):
    subject_id: int
    title: str
    category: str
    required: int
    submitted: int
    public_submitted: int
    needs_reassignment: bool
    evaluators: list[ProgressEvaluator]


class ProgressRead(BaseModel):
    round_id: int
    state: RoundState
    can_close: bool
    close_blocked_reason: str | None
    subjects: list[ProgressSubject]


class SubjectResult(BaseModel):
    subject_id: int
    subject_type: str
    subject_ref: int
    title: str
    category: str
    expert_sheets: int
    public_sheets: int
    mean: Decimal | None
    trimmed_mean: Decimal | None
    normalised: Decimal | None
    stdev: Decimal | None
    spread: Decimal | None
    public_mean: Decimal | None
    final_score: Decimal | None
    grade: GradeCode | None
    grade_label: str | None
    rank_in_category: int | None
    flagged: bool


class Agreement(BaseModel):
    icc1: Decimal | None
    alpha: Decimal | None
    sheets: int


class ResultsRead(BaseModel):
    round_id: int
    agreement: Agreement
    subjects: list[SubjectResult]


class RecommendationItem(BaseModel):
    subject_id: int
    subject_type: str
    subject_ref: int
    title: str
    category: str
    rank_in_category: int | None
    final_score: Decimal | None
    requested_amount: MoneyField | None
    recommended: bool
    reason: str
    adjusted: bool


class CategoryTotal(BaseModel):
    category: str
    budget: MoneyField | None
    recommended_total: MoneyField


class RecommendationRead(BaseModel):
    round_id: int
    programme_budget: MoneyField | None
    recommended_total: MoneyField
    categories: list[CategoryTotal]
    items: list[RecommendationItem]


class AdjustmentIn(RequestModel):
    subject_id: Id
    recommended: Flag
    reason: str = Field(min_length=2, max_length=500)
