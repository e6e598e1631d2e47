from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from communities.models import CommunityKind
from core.fields import NOT_BOOL, RequestModel
from core.i18n import N_


class CommunityIn(RequestModel):
    name: str = Field(min_length=1, max_length=100, title=N_("Name"))
    kind: CommunityKind = Field(CommunityKind.community, title=N_("Kind"))
    code: str | None = Field(default=None, max_length=32)
    households: Annotated[int, Field(ge=0, le=10_000_000), NOT_BOOL] | None = Field(
        None, title=N_("Households")
    )
    population: Annotated[int, Field(ge=0, le=100_000_000), NOT_BOOL] | None = Field(
        None, title=N_("Population")
    )


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
