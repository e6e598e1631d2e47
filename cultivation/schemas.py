from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from core.fields import NOT_BOOL, Day, ExactDecimal, Id, RequestModel
from core.i18n import N_
from core.money import MoneyField, NonNegativeMoneyField
from cultivation.models import Metric, Premises, SiteKind, SiteLevel
from cultivation.progress import Standing

Year = Annotated[int, Field(ge=2000, le=2100), NOT_BOOL]
Count = Annotated[int, Field(ge=0, le=100_000), NOT_BOOL]
Area = Annotated[Decimal, ExactDecimal(10_000_000, 2)]
AreaOut = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str, when_used="json")]


class SiteIn(RequestModel):
    name: str = Field(min_length=2, max_length=200, title=N_("Name"))
    level: SiteLevel = Field(title=N_("Level"))
    kind: SiteKind = Field(title=N_("Kind"))
    parent_id: Id | None = Field(None, title=N_("Belongs under"))
    community_id: Id | None = Field(None, title=N_("Community"))
    address: str = Field(default="", max_length=300)
    premises: Premises | None = Field(None, title=N_("Premises"))
    area_sqm: Area | None = Field(None, title=N_("Area (㎡)"))
    investment: NonNegativeMoneyField | None = Field(None, title=N_("Investment"))
    opened_on: Day | None = Field(None, title=N_("Opened on"))
    operator_id: Id | None = Field(None, title=N_("Operated by"))
    operator_contract_id: Id | None = Field(None, title=N_("Purchased-service contract"))
    supervisor_id: Id | None = Field(None, title=N_("Supervised by"))


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    centre_id: int
    parent_id: int | None
    level: SiteLevel
    kind: SiteKind
    name: str
    community_id: int | None
    address: str
    premises: Premises | None
    area_sqm: AreaOut | None
    investment: MoneyField | None
    opened_on: dt.date | None
    operator_id: int | None
    operator_contract_id: int | None
    supervisor_id: int | None


class PlanIn(RequestModel):
    title: str = Field(min_length=2, max_length=200, title=N_("Title"))
    document: str = Field(
        default="",
        max_length=200,
        description="the issuing document, e.g. 街办发〔2026〕3号",
        title=N_("Issuing document"),
    )
    issued_on: Day | None = Field(None, title=N_("Issued on"))
    first_year: Year = Field(title=N_("First year"))
    last_year: Year = Field(title=N_("Last year"))
    notes: str = Field(default="", max_length=5000)


class PlanOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    centre_id: int
    title: str
    document: str
    issued_on: dt.date | None
    first_year: int
    last_year: int
    notes: str


class TargetIn(RequestModel):
    year: Year = Field(title=N_("Year"))
    community_id: Id | None = Field(
        default=None, description="empty: the same target for each community", title=N_("Community")
    )
    metric: Metric = Field(title=N_("Metric"))
    minimum: Count = Field(title=N_("Minimum"))
    maximum: Count | None = Field(None, title=N_("Maximum"))


class TargetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    year: int
    community_id: int | None
    metric: Metric
    minimum: int
    maximum: int | None


class ProgressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    target_id: int
    plan_id: int
    year: int
    community_id: int
    community: str
    for_each_community: bool
    metric: Metric
    minimum: int
    maximum: int | None
    actual: int
    standing: Standing
    months_left: int
