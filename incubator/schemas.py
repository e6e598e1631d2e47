from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

from core.fields import NOT_BOOL, Day, ExactDecimal, Flag, Id, RequestModel, RequiredText, WholeNumber
from core.i18n import N_
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
Reason = Annotated[RequiredText, Field(max_length=2000)]
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
    kind: OrganisationKind = Field(title=N_("Kind"))
    legal_status: LegalStatus = Field(title=N_("Legal status"))
    uscc: str | None = Field(default=None, max_length=32, title=N_("Unified social credit code"))
    service_fields: list[ServiceField] = Field(
        default_factory=list, max_length=10, title=N_("Service fields")
    )
    community_id: Id | None = Field(None, title=N_("Community"))
    community: Short = Field(
        default="",
        description="the community's name, for clients that do not send community_id",
        title=N_("Community"),
    )
    courtyard: Short = ""
    category: OrganisationCategory = Field(OrganisationCategory.other, title=N_("Category"))
    origin: Origin | None = None
    parent_id: Id | None = Field(None, title=N_("Belongs under"))
    flagship_on: Day | None = None
    filed_on: Day | None = None
    registered_on: Day | None = None
    exited_on: Day | None = None
    party_organisation: PartyOrganisation = PartyOrganisation.none
    party_members: WholeNumber = Field(default=0, ge=0, le=100_000)
    street: Short = Field("", title=N_("Street"))
    address: str = Field(default="", max_length=300)
    contact_name: Short = ""
    contact_phone: str = Field(default="", max_length=32, pattern=r"^[0-9+\- ]*$", title=N_("Contact phone"))
    contact_email: EmailStr | None = Field(default=None, max_length=254, title=N_("Contact email"))
    founded_on: Day | None = Field(None, title=N_("Founded"))
    staff_count: WholeNumber = Field(default=0, ge=0, le=100_000, title=N_("Staff"))
    volunteer_count: WholeNumber = Field(default=0, ge=0, le=1_000_000, title=N_("Volunteers"))
    description: str = Field(default="", max_length=5000, title=N_("Description"))

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
    name: Name = Field(title=N_("Name"))


class OrganisationUpdate(RequestModel):
    name: Name | None = Field(None, title=N_("Name"))
    kind: OrganisationKind | None = Field(None, title=N_("Kind"))
    legal_status: LegalStatus | None = Field(None, title=N_("Legal status"))
    uscc: str | None = Field(default=None, max_length=32, title=N_("Unified social credit code"))
    service_fields: list[ServiceField] | None = Field(default=None, max_length=10, title=N_("Service fields"))
    community_id: Id | None = Field(None, title=N_("Community"))
    community: Short | None = Field(None, title=N_("Community"))
    moved_on: Day | None = Field(
        default=None, description="when the organisation moved to its new community (default: today)"
    )
    courtyard: Short | None = None
    category: OrganisationCategory | None = Field(None, title=N_("Category"))
    origin: Origin | None = None
    parent_id: Id | None = Field(None, title=N_("Belongs under"))
    flagship_on: Day | None = None
    filed_on: Day | None = None
    registered_on: Day | None = None
    exited_on: Day | None = None
    party_organisation: PartyOrganisation | None = None
    party_members: Annotated[int, Field(ge=0, le=100_000), NOT_BOOL] | None = None
    street: Short | None = Field(None, title=N_("Street"))
    address: str | None = Field(default=None, max_length=300)
    contact_name: Short | None = None
    contact_phone: str | None = Field(
        default=None, max_length=32, pattern=r"^[0-9+\- ]*$", title=N_("Contact phone")
    )
    contact_email: EmailStr | None = Field(default=None, max_length=254, title=N_("Contact email"))
    founded_on: Day | None = Field(None, title=N_("Founded"))
    staff_count: Annotated[int, Field(ge=0, le=100_000), NOT_BOOL] | None = Field(None, title=N_("Staff"))
    volunteer_count: Annotated[int, Field(ge=0, le=1_000_000), NOT_BOOL] | None = Field(
        None, title=N_("Volunteers")
    )
    description: str | None = Field(default=None, max_length=5000, title=N_("Description"))
    bank_name: Annotated[BankText, Field(max_length=100, title=N_("Bank of the account"))] | None = None
    bank_account_name: Annotated[BankText, Field(max_length=200, title=N_("Account name"))] | None = None
    bank_account_no: Annotated[BankAccountNo, Field(title=N_("Account number"))] | None = None


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
    centre: str = Field(
        min_length=2, max_length=64, description="the centre's short name", title=N_("Centre")
    )
    full_name: str = Field(min_length=2, max_length=100, title=N_("Full name"))
    email: EmailStr = Field(max_length=254, title=N_("Email"))
    password: str = Field(min_length=8, max_length=128, title=N_("Password"))
    organisation: OrganisationCreate


class BarRequest(RequestModel):
    until: Day = Field(title=N_("Barred until"))
    reason: Reason = Field(title=N_("Reason"))


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
    email: EmailStr = Field(max_length=254, title=N_("Email"))


class InvitationRead(BaseModel):
    email: str
    accept_url: str
    expires_at: dt.datetime


class AcceptInvitation(RequestModel):
    full_name: str = Field(min_length=2, max_length=100, title=N_("Full name"))
    password: str = Field(min_length=8, max_length=128, title=N_("Password"))


class StayCreate(RequestModel):
    organisation_id: Id
    applied_on: Day
    intake_note: Note = ""


class StayAssess(RequestModel):
    on: Day = Field(title=N_("Date"))
    note: Reason = Field(title=N_("Note"))


class StayAdmit(RequestModel):
    start_date: Day = Field(title=N_("Start date"))
    planned_months: WholeNumber = Field(ge=1, le=60, title=N_("Planned term (months)"))
    mentor: str = Field(min_length=1, max_length=100, title=N_("Mentor"))
    workspace: str = Field(min_length=1, max_length=100, title=N_("Workspace"))
    note: Note = Field("", title=N_("Note"))


class StayStart(RequestModel):
    on: Day = Field(title=N_("Date"))
    note: Note = Field("", title=N_("Note"))


class StayExtend(RequestModel):
    months: WholeNumber = Field(ge=1, le=24, title=N_("Months"))
    reason: Reason = Field(title=N_("Reason"))


class StayGraduate(RequestModel):
    on: Day = Field(title=N_("Date"))
    note: Note = Field("", title=N_("Note"))


class StayExit(RequestModel):
    on: Day = Field(title=N_("Date"))
    reason: Reason = Field(title=N_("Reason"))


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
    kind: ActivityKind = Field(title=N_("Kind"))
    held_on: Day = Field(title=N_("Date"))
    hours: Hours = Field(title=N_("Hours"))
    topic: str = Field(min_length=2, max_length=200, title=N_("Topic"))
    given_by: str = Field(min_length=1, max_length=100, title=N_("Given by"))
    participants: WholeNumber = Field(default=0, ge=0, le=100_000, title=N_("Participants"))
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
    rubric_version_id: Id = Field(title=N_("Review rubric"))
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
