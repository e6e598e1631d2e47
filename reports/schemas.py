from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from core.fields import Flag, Id, RequestModel
from core.i18n import N_
from reports.models import Generator, LetterStyle, ScopeType

KIND_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"


class ReportRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    centre_id: int
    kind: str
    scope_type: ScopeType
    scope_id: int
    period: str
    version: int
    title: str
    generator: Generator
    generator_ref: str
    size: int
    sha256: str
    created_at: dt.datetime
    doc_number: str | None = None
    download_url: str = ""


class ReportGenerate(RequestModel):
    kind: str = Field(max_length=64, pattern=KIND_PATTERN, title=N_("Kind"))
    scope_id: Id | None = Field(None, title=N_("Subject"))
    period: str | None = Field(default=None, min_length=4, max_length=32, title=N_("Period"))


class ScheduleCreate(RequestModel):
    kind: str = Field(max_length=64, pattern=KIND_PATTERN, title=N_("Kind"))
    scope_type: ScopeType | None = Field(None, title=N_("Subject type"))
    scope_id: Id | None = Field(None, title=N_("Subject"))
    cron: str = Field(min_length=9, max_length=120, title=N_("Schedule (cron)"))
    active: Flag = True
    recipients: list[Id] = Field(default_factory=list, max_length=50, title=N_("Recipients"))


class ScheduleUpdate(RequestModel):
    cron: str | None = Field(default=None, min_length=9, max_length=120, title=N_("Schedule (cron)"))
    active: Flag | None = None
    recipients: list[Id] | None = Field(default=None, max_length=50, title=N_("Recipients"))


class ScheduleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    centre_id: int
    kind: str
    scope_type: ScopeType
    scope_id: int
    cron: str
    active: bool
    recipients: list[int]
    last_slot_at: dt.datetime | None
    last_report_id: int | None
    next_run_at: dt.datetime | None = None
    created_at: dt.datetime


class ReportStyleIn(RequestModel):
    style: LetterStyle = Field(LetterStyle.plain, title=N_("Report style"))
    issuing_unit: str = Field(default="", max_length=200, title=N_("Issuing unit"))
    doc_prefix: str = Field(default="", max_length=24, title=N_("Short name in document numbers"))
    evaluating_body: str = Field(default="", max_length=200, title=N_("Evaluating body"))
    signatories: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=6, title=N_("Signatories")
    )
    prefixes: dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=24)]] = Field(
        default_factory=dict, max_length=20, title=N_("Document-number prefixes")
    )


class ReportStyleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    centre_id: int
    style: LetterStyle
    issuing_unit: str
    doc_prefix: str
    evaluating_body: str
    signatories: list[str]
    prefixes: dict[str, str]
