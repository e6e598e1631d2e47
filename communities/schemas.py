from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from communities.models import CommunityKind
from core.fields import RequestModel


class CommunityIn(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    kind: CommunityKind = CommunityKind.community
    code: str | None = Field(default=None, max_length=32)
    households: int | None = Field(default=None, ge=0, le=10_000_000)
    population: int | None = Field(default=None, ge=0, le=100_000_000)


class CommunityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    centre_id: int
    name: str
    kind: CommunityKind
    code: str | None
    households: int | None
    population: int | None
    created_at: dt.datetime
