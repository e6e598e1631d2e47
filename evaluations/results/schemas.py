"""Progress of a round, its results and the recommendation."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from core.fields import Flag, Id, RequestModel
from core.i18n import N_
from core.money import MoneyField
from evaluations.assignments.models import AssignmentState
from evaluations.rounds.models import RoundState
from evaluations.rubrics.schemas import GradeCode


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
    subject_id: Id = Field(title=N_("Subject"))
    recommended: Flag
    reason: str = Field(min_length=2, max_length=500, title=N_("Reason"))
