"""Assigning evaluators, declaring conflicts of interest."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from core.fields import NOT_BOOL, Flag, Id, RequestModel
from core.i18n import N_
from evaluations.assignments.models import AssignmentState
from evaluations.rounds.models import RoundState
from evaluations.rubrics.schemas import Criterion
from evaluations.sheets.models import SheetState


class AssignmentCreate(RequestModel):
    subject_id: Id = Field(title=N_("Subject"))
    evaluator_id: Id = Field(title=N_("Evaluator"))


class AutoAssignRequest(RequestModel):
    evaluator_ids: list[Id] = Field(min_length=1, max_length=200, title=N_("Evaluators"))
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
    reason: str = Field(default="", max_length=500, title=N_("Reason"))


class EvaluatorConflictCreate(RequestModel):
    organisation_id: Id
    reason: str = Field(min_length=2, max_length=500, title=N_("Reason"))
    evaluator_id: Id | None = Field(None, title=N_("Evaluator"))
    """Staff may record a conflict for an evaluator; an evaluator records their own."""


class EvaluatorConflictRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    evaluator_id: int
    organisation_id: int
    reason: str
    created_at: dt.datetime
