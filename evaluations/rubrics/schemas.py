"""Rubric criteria, grade bands and the grades they give."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field

from core.fields import ExactDecimal, Flag, RequestModel
from core.i18n import N_
from evaluations.rubrics.models import RoundPurpose

Points = Annotated[Decimal, ExactDecimal(1000, 2)]


MaxPoints = Annotated[Decimal, ExactDecimal(100, 2, positive=True)]


MinScore = Annotated[Decimal, ExactDecimal(200, 2)]


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


class Criterion(RequestModel):
    key: Key
    name: str = Field(min_length=1, max_length=100, title=N_("Name"))
    guidance: str = Field(default="", max_length=1000)
    max_points: MaxPoints = Field(title=N_("Maximum points"))
    sub_criteria: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=20
    )
    bonus: Flag = False


class Band(RequestModel):
    code: GradeCode
    min_score: MinScore


class RubricVersionIn(RequestModel):
    criteria: list[Criterion] = Field(min_length=1, max_length=30, title=N_("Criteria"))
    bands: list[Band] | None = Field(default=None, min_length=1, max_length=4, title=N_("Grade bands"))
    """Omitted: 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, 不合格 below."""


class RubricCreate(RubricVersionIn):
    name: str = Field(min_length=2, max_length=200, title=N_("Name"))
    purpose: RoundPurpose = Field(title=N_("Evaluation"))
    description: str = Field(default="", max_length=2000, title=N_("Description"))


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
