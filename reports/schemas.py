from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from reports.models import Generator, ScopeType

MAX_ID = 2_147_483_647
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
    download_url: str = ""


class ReportGenerate(BaseModel):
    kind: str = Field(max_length=64, pattern=KIND_PATTERN)
    scope_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    period: str | None = Field(default=None, min_length=4, max_length=32)


class ScheduleCreate(BaseModel):
    kind: str = Field(max_length=64, pattern=KIND_PATTERN)
    scope_type: ScopeType | None = None
    scope_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    cron: str = Field(min_length=9, max_length=120)
    active: bool = True
    recipients: list[int] = Field(default_factory=list, max_length=50)


class ScheduleUpdate(BaseModel):
    cron: str | None = Field(default=None, min_length=9, max_length=120)
    active: bool | None = None
    recipients: list[int] | None = Field(default=None, max_length=50)


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
