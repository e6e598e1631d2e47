"""What the programme endpoints take and answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.fields import Day, ExactDecimal, Flag, Id, Instant, RequestModel, WholeNumber
from core.money import MoneyField
from grants.fields import Fixed2, Pct, PositiveMoney, Text2k, Text10k
from grants.programmes.models import ProgrammeKind, ProgrammeState, TrancheTrigger


class CategoryIn(RequestModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=100)
    budget: PositiveMoney


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    budget: MoneyField
    committed: MoneyField


class TrancheRowIn(RequestModel):
    share_pct: Annotated[Decimal, ExactDecimal(100, 2, positive=True)]
    trigger: TrancheTrigger


class TrancheRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    share_pct: Fixed2
    trigger: TrancheTrigger


class ProgrammeBase(RequestModel):
    name: str = Field(min_length=2, max_length=200)
    year: WholeNumber = Field(ge=2000, le=2100)
    kind: ProgrammeKind
    description: Text10k = ""
    total_budget: PositiveMoney
    max_award_registered: PositiveMoney
    max_award_community: PositiveMoney
    allow_unregistered: Flag = False
    min_cofunding_pct: Pct = Decimal("0")
    management_fee_cap_pct: Pct = Decimal("10")
    personnel_cap_pct: Pct = Decimal("30")
    rubric_version_id: Id | None = None
    min_reviewers: WholeNumber = Field(default=3, ge=1, le=20)
    blind_review: Flag = False
    opens_at: Instant
    closes_at: Instant
    publicity_working_days: WholeNumber = Field(default=5, ge=1, le=30)
    publicity_contact: str = Field(default="", max_length=200)
    categories: list[CategoryIn] = Field(default_factory=list, max_length=20)
    tranche_plan: list[TrancheRowIn] = Field(min_length=1, max_length=10)

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            from core.clock import SHANGHAI

            return value.replace(tzinfo=SHANGHAI)
        return value


class ProgrammeCreate(ProgrammeBase):
    pass


class ProgrammeUpdate(ProgrammeBase):
    pass


class TopicOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    need_id: int | None
    title: str
    description: str


class ProgrammeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    centre_id: int
    name: str
    year: int
    kind: ProgrammeKind
    state: ProgrammeState
    description: str
    total_budget: MoneyField
    committed: MoneyField
    max_award_registered: MoneyField
    max_award_community: MoneyField
    allow_unregistered: bool
    min_cofunding_pct: Fixed2
    management_fee_cap_pct: Fixed2
    personnel_cap_pct: Fixed2
    rubric_version_id: int | None
    min_reviewers: int
    blind_review: bool
    opens_at: dt.datetime
    closes_at: dt.datetime
    publicity_working_days: int
    publicity_contact: str
    review_round_id: int | None
    categories: list[CategoryOut]
    tranche_plan: list[TrancheRowOut]
    topics: list[TopicOut]


class NeedIn(RequestModel):
    community_id: Id | None = None
    community: str = Field(default="", max_length=100, description="the community's name, if no community_id")
    description: str = Field(min_length=2, max_length=5000)
    source: str = Field(min_length=1, max_length=200)


class NeedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    community_id: int | None
    community: str
    description: str
    source: str
    id: int
    created_at: dt.datetime


class TopicIn(RequestModel):
    title: str = Field(min_length=2, max_length=200)
    description: Text2k = ""
    need_id: Id | None = None


class CalendarYearIn(RequestModel):
    holidays: list[Day] = Field(max_length=60)
    workdays: list[Day] = Field(default_factory=list, max_length=30)
