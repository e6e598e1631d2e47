"""What the programme endpoints take and answer."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.fields import Day, ExactDecimal, Flag, Id, Instant, RequestModel, WholeNumber
from core.i18n import N_
from core.money import MoneyField
from grants.fields import Fixed2, Pct, PositiveMoney, Text2k, Text10k
from grants.programmes.models import ProgrammeKind, ProgrammeState, TrancheTrigger


class CategoryIn(RequestModel):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$")
    name: str = Field(min_length=1, max_length=100, title=N_("Name"))
    budget: PositiveMoney = Field(title=N_("Budget"))


class CategoryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    budget: MoneyField
    committed: MoneyField


class TrancheRowIn(RequestModel):
    share_pct: Annotated[Decimal, ExactDecimal(100, 2, positive=True)] = Field(title=N_("Share (%)"))
    trigger: TrancheTrigger


class TrancheRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    share_pct: Fixed2
    trigger: TrancheTrigger


class ProgrammeBase(RequestModel):
    name: str = Field(min_length=2, max_length=200, title=N_("Name"))
    year: WholeNumber = Field(ge=2000, le=2100, title=N_("Year"))
    kind: ProgrammeKind = Field(title=N_("Kind"))
    description: Text10k = Field("", title=N_("Description"))
    total_budget: PositiveMoney = Field(title=N_("Total budget"))
    max_award_registered: PositiveMoney = Field(title=N_("Maximum award (registered organisations)"))
    max_award_community: PositiveMoney = Field(title=N_("Maximum award (filed and resident groups)"))
    allow_unregistered: Flag = False
    min_cofunding_pct: Pct = Field(Decimal("0"), title=N_("Minimum co-funding (%)"))
    management_fee_cap_pct: Pct = Field(Decimal("10"), title=N_("Management fee cap (%)"))
    personnel_cap_pct: Pct = Field(Decimal("30"), title=N_("Personnel cost cap (%)"))
    rubric_version_id: Id | None = Field(None, title=N_("Review rubric"))
    min_reviewers: WholeNumber = Field(default=3, ge=1, le=20, title=N_("Minimum reviewers"))
    blind_review: Flag = False
    opens_at: Instant = Field(title=N_("Opens"))
    closes_at: Instant = Field(title=N_("Closes"))
    publicity_working_days: WholeNumber = Field(default=5, ge=1, le=30, title=N_("Publicity (working days)"))
    publicity_contact: str = Field(default="", max_length=200)
    categories: list[CategoryIn] = Field(default_factory=list, max_length=20, title=N_("Categories"))
    tranche_plan: list[TrancheRowIn] = Field(min_length=1, max_length=10, title=N_("Tranche plan"))

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
    community_id: Id | None = Field(None, title=N_("Community"))
    community: str = Field(
        default="",
        max_length=100,
        description="the community's name, if no community_id",
        title=N_("Community"),
    )
    description: str = Field(min_length=2, max_length=5000, title=N_("Description"))
    source: str = Field(min_length=1, max_length=200, title=N_("Source"))


class NeedOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    community_id: int | None
    community: str
    description: str
    source: str
    id: int
    created_at: dt.datetime


class TopicIn(RequestModel):
    title: str = Field(min_length=2, max_length=200, title=N_("Title"))
    description: Text2k = Field("", title=N_("Description"))
    need_id: Id | None = None


class CalendarYearIn(RequestModel):
    holidays: list[Day] = Field(max_length=60)
    workdays: list[Day] = Field(default_factory=list, max_length=30)
