from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from core.fields import NOT_BOOL, Day, ExactDecimal, Flag, Id, RequestModel, WholeNumber
from incubator.models import (
    ActivityKind,
    AssessmentStage,
    LegalStatus,
    MemberRole,
    OrganisationCategory,
    OrganisationKind,
    Origin,
    PartyOrganisation,
    ServiceField,
    StayState,
)

Name = Annotated[str, Field(min_length=2, max_length=200)]
Short = Annotated[str, Field(max_length=100)]
Note = Annotated[str, Field(max_length=2000)]
# Blanks are no reason, on the JSON face as on the forms (which strip).
Reason = Annotated[str, StringConstraints(strip_whitespace=True), Field(min_length=2, max_length=2000)]
Hours = Annotated[Decimal, ExactDecimal(100, 1, positive=True)]
CapacityScore = Annotated[Decimal, ExactDecimal(100, 2)]
# The account grants are paid to: digits, spaces allowed between groups ("6217 0038 ..."); blank clears it.
BankText = Annotated[str, StringConstraints(strip_whitespace=True)]
BankAccountNo = Annotated[
    str,
    StringConstraints(strip_whitespace=True),
    Field(max_length=40, pattern=r"^(|[0-9][0-9 ]{6,38}[0-9])$"),
]


class OrganisationBase(RequestModel):
    kind: OrganisationKind
    legal_status: LegalStatus
    uscc: str | None = Field(default=None, max_length=32)
    service_fields: list[ServiceField] = Field(default_factory=list, max_length=10)
    community_id: Id | None = None
    community: Short = Field(
        default="", description="the community's name, for clients that do not send community_id"
    )
    courtyard: Short = ""
    category: OrganisationCategory = OrganisationCategory.other
    origin: Origin | None = None
    parent_id: Id | None = None
    flagship_on: Day | None = None
    filed_on: Day | None = None
    registered_on: Day | None = None
    exited_on: Day | None = None
    party_organisation: PartyOrganisation = PartyOrganisation.none
    party_members: WholeNumber = Field(default=0, ge=0, le=100_000)
    street: Short = ""
    address: str = Field(default="", max_length=300)
    contact_name: Short = ""
    contact_phone: str = Field(default="", max_length=32, pattern=r"^[0-9+\- ]*$")
    contact_email: EmailStr | None = Field(default=None, max_length=254)
    founded_on: Day | None = None
    staff_count: WholeNumber = Field(default=0, ge=0, le=100_000)
    volunteer_count: WholeNumber = Field(default=0, ge=0, le=1_000_000)
    description: str = Field(default="", max_length=5000)

    @field_validator("uscc", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        if isinstance(value, str):
            stripped = value.strip().upper()
            return stripped or None
        return value

    @field_validator("service_fields")
    @classmethod
    def _distinct(cls, value: list[ServiceField]) -> list[ServiceField]:
        return list(dict.fromkeys(value))


class OrganisationCreate(OrganisationBase):
    name: Name


class OrganisationUpdate(RequestModel):
    name: Name | None = None
    kind: OrganisationKind | None = None
    legal_status: LegalStatus | None = None
    uscc: str | None = Field(default=None, max_length=32)
    service_fields: list[ServiceField] | None = Field(default=None, max_length=10)
    community_id: Id | None = None
    community: Short | None = None
    moved_on: Day | None = Field(
        default=None, description="when the organisation moved to its new community (default: today)"
    )
    courtyard: Short | None = None
    category: OrganisationCategory | None = None
    origin: Origin | None = None
    parent_id: Id | None = None
    flagship_on: Day | None = None
    filed_on: Day | None = None
    registered_on: Day | None = None
    exited_on: Day | None = None
    party_organisation: PartyOrganisation | None = None
    party_members: Annotated[int, Field(ge=0, le=100_000), NOT_BOOL] | None = None
    street: Short | None = None
    address: str | None = Field(default=None, max_length=300)
    contact_name: Short | None = None
    contact_phone: str | None = Field(default=None, max_length=32, pattern=r"^[0-9+\- ]*$")
    contact_email: EmailStr | None = Field(default=None, max_length=254)
    founded_on: Day | None = None
    staff_count: Annotated[int, Field(ge=0, le=100_000), NOT_BOOL] | None = None
    volunteer_count: Annotated[int, Field(ge=0, le=1_000_000), NOT_BOOL] | None = None
    description: str | None = Field(default=None, max_length=5000)
    bank_name: Annotated[BankText, Field(max_length=100)] | None = None
    bank_account_name: Annotated[BankText, Field(max_length=200)] | None = None
    bank_account_no: BankAccountNo | None = None


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    centre_id: int
    name: str
    kind: OrganisationKind
    legal_status: LegalStatus
    uscc: str | None
    service_fields: list[ServiceField]
    community_id: int | None
    community: str
    courtyard: str
    category: OrganisationCategory
    origin: Origin | None
    parent_id: int | None
    flagship_on: dt.date | None
    filed_on: dt.date | None
    registered_on: dt.date | None
    exited_on: dt.date | None
    party_organisation: PartyOrganisation
    party_members: int
    street: str
    address: str
    contact_name: str
    contact_phone: str
    contact_email: str
    founded_on: dt.date | None
    staff_count: int
    volunteer_count: int
    description: str
    verified: bool
    barred_until: dt.date | None
    bar_reason: str | None
    incubation_state: StayState | None
    created_at: dt.datetime


class SignupRequest(RequestModel):
    centre: str = Field(min_length=2, max_length=64, description="the centre's short name")
    full_name: str = Field(min_length=2, max_length=100)
    email: EmailStr = Field(max_length=254)
    password: str = Field(min_length=8, max_length=128)
    organisation: OrganisationCreate


class BarRequest(RequestModel):
    until: Day
    reason: Reason


class BarRead(BaseModel):
    """One organisation barred from new public money (applications and purchased services)."""

    organisation_id: int
    name: str
    uscc: str | None
    barred_until: dt.date
    reason: str


class MemberRead(BaseModel):
    user_id: int
    email: str
    full_name: str
    role: MemberRole


class InviteRequest(RequestModel):
    email: EmailStr = Field(max_length=254)


class InvitationRead(BaseModel):
    email: str
    accept_url: str
    expires_at: dt.datetime


class AcceptInvitation(RequestModel):
    full_name: str = Field(min_length=2, max_length=100)
    password: str = Field(min_length=8, max_length=128)


class StayCreate(RequestModel):
    organisation_id: Id
    applied_on: Day
    intake_note: Note = ""


class StayAssess(RequestModel):
    on: Day
    note: Reason


class StayAdmit(RequestModel):
    start_date: Day
    planned_months: WholeNumber = Field(ge=1, le=60)
    mentor: str = Field(min_length=1, max_length=100)
    workspace: str = Field(min_length=1, max_length=100)
    note: Note = ""


class StayStart(RequestModel):
    on: Day
    note: Note = ""


class StayExtend(RequestModel):
    months: WholeNumber = Field(ge=1, le=24)
    reason: Reason


class StayGraduate(RequestModel):
    on: Day
    note: Note = ""


class StayExit(RequestModel):
    on: Day
    reason: Reason


class StayEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: dt.datetime
    on_date: dt.date
    action: str
    from_state: str | None
    to_state: str
    note: str
    actor: str


class StayRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    state: StayState
    is_active: bool
    applied_on: dt.date
    intake_note: str
    assessed_on: dt.date | None
    assessment_note: str | None
    start_date: dt.date | None
    planned_months: int | None
    planned_end: dt.date | None
    mentor: str | None
    workspace: str | None
    extensions: int
    ended_on: dt.date | None
    exit_reason: str | None
    events: list[StayEventRead]


class ActivityCreate(RequestModel):
    organisation_id: Id
    kind: ActivityKind
    held_on: Day
    hours: Hours
    topic: str = Field(min_length=2, max_length=200)
    given_by: str = Field(min_length=1, max_length=100)
    participants: WholeNumber = Field(default=0, ge=0, le=100_000)
    notes: str = Field(default="", max_length=2000)


class ActivityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    kind: ActivityKind
    held_on: dt.date
    hours: Decimal
    topic: str
    given_by: str
    participants: int
    notes: str


class ActivityTotals(BaseModel):
    organisation_id: int | None
    month: str | None
    activities: int
    hours: Decimal
    participants: int


class CriterionResult(BaseModel):
    code: str
    label: str
    passed: bool
    applicable: bool
    reason: str


class GraduationCheck(BaseModel):
    organisation_id: int
    eligible: bool
    criteria: list[CriterionResult]


class GraduationPolicyUpdate(RequestModel):
    min_legal_status: LegalStatus
    min_capacity_score: CapacityScore
    require_completed_project: Flag


class CapacityAssessmentCreate(RequestModel):
    organisation_id: Id
    stage: AssessmentStage
    assessed_on: Day
    rubric_version_id: Id
    scores: dict[Annotated[str, Field(max_length=40)], Annotated[Decimal, ExactDecimal(1000, 2)]] = Field(
        max_length=40
    )
    assessor: str = Field(min_length=1, max_length=100)
    comments: str = Field(default="", max_length=5000)


class CapacityAssessmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    organisation_id: int
    stay_id: int | None
    stage: AssessmentStage
    assessed_on: dt.date
    rubric_version_id: int
    scores: dict[str, str]
    total: Decimal
    grade: str
    assessor: str
    comments: str
