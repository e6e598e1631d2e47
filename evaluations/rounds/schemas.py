"""Creating and reading review rounds and their subjects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.fields import NOT_BOOL, ExactDecimal, Flag, Id, Instant, RequestModel, WholeNumber
from core.i18n import N_
from core.money import MoneyField, NonNegativeMoneyField
from evaluations.rounds.models import RoundState
from evaluations.rubrics.models import RoundPurpose

Spread = Annotated[Decimal, ExactDecimal(100, 2)]


class RoundCreate(RequestModel):
    name: str = Field(min_length=2, max_length=200, title=N_("Name"))
    purpose: RoundPurpose = Field(title=N_("Evaluation"))
    rubric_version_id: Id = Field(title=N_("Review rubric"))
    min_sheets_per_subject: WholeNumber = Field(
        default=3, ge=1, le=20, title=N_("Minimum score sheets per subject")
    )
    max_per_evaluator: Annotated[int, Field(ge=1, le=1000), NOT_BOOL] | None = Field(
        None, title=N_("Maximum subjects per evaluator")
    )
    blind: Flag = False
    spread_threshold: Spread = Field(Decimal(15), title=N_("Spread threshold"))
    expert_weight: WholeNumber = Field(default=100, ge=0, le=100, title=N_("Expert weight"))
    public_weight: WholeNumber = Field(default=0, ge=0, le=100, title=N_("Public jury weight"))
    due_at: Instant | None = None
    programme_budget: NonNegativeMoneyField | None = Field(None, title=N_("Programme budget"))
    category_budgets: dict[Annotated[str, Field(max_length=60)], NonNegativeMoneyField] = Field(
        default_factory=dict, max_length=50, title=N_("Category budgets")
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
    subject_id: Id = Field(title=N_("Subject"))
    organisation_id: Id | None = None
    category: str = Field(default="", max_length=60, title=N_("Category"))
    title: str = Field(min_length=1, max_length=200, title=N_("Title"))
    requested_amount: NonNegativeMoneyField | None = Field(None, title=N_("Requested amount"))
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
