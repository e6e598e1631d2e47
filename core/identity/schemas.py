from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from core.fields import NOT_BOOL, Flag, RequestModel
from core.i18n import N_
from core.identity.models import Role


class CentreCreate(RequestModel):
    slug: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=2, max_length=200, title=N_("Name"))
    city: str = Field(default="", max_length=64)
    district: str = Field(default="", max_length=64)
    street: str = Field(default="", max_length=64, title=N_("Street"))


class CentreRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    name: str
    city: str
    district: str
    street: str


class UserCreate(RequestModel):
    email: EmailStr = Field(max_length=254, title=N_("Email"))
    password: str = Field(min_length=8, max_length=128, title=N_("Password"))
    full_name: str = Field(default="", max_length=100, title=N_("Full name"))
    roles: list[Role] = Field(min_length=1, max_length=5)
    centre_id: Annotated[int, Field(ge=1, le=2**31 - 1), NOT_BOOL] | None = None
    is_district: Flag = False
    locale: str | None = Field(default=None, pattern=r"^(zh|en)$")
    community_id: Annotated[int, Field(ge=1, le=2**31 - 1), NOT_BOOL] | None = Field(
        None, title=N_("Community")
    )


class UserUpdate(RequestModel):
    full_name: str | None = Field(default=None, max_length=100, title=N_("Full name"))
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=5)
    community_id: Annotated[int, Field(ge=1, le=2**31 - 1), NOT_BOOL] | None = Field(
        None, title=N_("Community")
    )
    is_active: Flag | None = None
    locale: str | None = Field(default=None, pattern=r"^(zh|en)$")


class UserRead(BaseModel):
    id: int
    email: str
    full_name: str
    centre_id: int | None
    is_district: bool
    is_active: bool
    locale: str | None
    roles: list[Role]
    community_id: int | None = None
    created_at: dt.datetime


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class AccountCreate(RequestModel):
    """An account an administrator opens; its owner chooses the password through a one-time link."""

    email: EmailStr = Field(max_length=254, title=N_("Email"))
    full_name: str = Field(default="", max_length=100, title=N_("Full name"))
    roles: list[Role] = Field(min_length=1, max_length=5)
    centre_id: Annotated[int, Field(ge=1, le=2**31 - 1), NOT_BOOL] | None = None
    is_district: Flag = False
