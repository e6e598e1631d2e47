"""Issuing jury codes and what a public juror sees and submits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from core.fields import Id, RequestModel, WholeNumber
from core.i18n import N_
from evaluations.rubrics.schemas import Criterion


class JuryCodesRequest(RequestModel):
    subject_id: Id = Field(title=N_("Subject"))
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
