"""Score sheets in and out."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, Field

from core.fields import RequestModel
from core.i18n import N_
from evaluations.rubrics.schemas import Key, Points
from evaluations.sheets.models import SheetKind, SheetState


class ScoreItemIn(RequestModel):
    criterion_key: Key
    score: Points | None = Field(None, title=N_("Performance score"))
    comment: str = Field(default="", max_length=2000, title=N_("Comment"))


class SheetIn(RequestModel):
    items: list[ScoreItemIn] = Field(default_factory=list, max_length=40)
    comment: str = Field(default="", max_length=5000, title=N_("Comment"))


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
