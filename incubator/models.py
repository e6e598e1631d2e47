from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Fixed, TimestampMixin, UTCDateTime, compare_and_set, utcnow
from core.i18n import N_


class OrganisationKind(StrEnum):
    social_group = "social_group"
    social_service = "social_service"
    foundation = "foundation"
    community_group = "community_group"


class LegalStatus(StrEnum):
    unregistered = "unregistered"
    filed = "filed"
    registered = "registered"


LEGAL_RANK = {LegalStatus.unregistered: 0, LegalStatus.filed: 1, LegalStatus.registered: 2}


class ServiceField(StrEnum):
    elderly = "elderly"
    disability = "disability"
    youth = "youth"
    women_children = "women_children"
    environment = "environment"
    culture_sports = "culture_sports"
    legal = "legal"
    community_governance = "community_governance"
    volunteering = "volunteering"
    other = "other"


class OrganisationCategory(StrEnum):
    """What the street's cultivation targets count an organisation as."""

    service = "service"
    association = "association"
    self_governance = "self_governance"
    volunteer_team = "volunteer_team"
    hub = "hub"
    alliance = "alliance"
    other = "other"


class Origin(StrEnum):
    introduced = "introduced"
    local = "local"


class PartyOrganisation(StrEnum):
    none = "none"
    own = "own"
    joint = "joint"
    attached = "attached"


class MemberRole(StrEnum):
    owner = "owner"
    member = "member"


class StayState(StrEnum):
    applied = "applied"
    assessed = "assessed"
    admitted = "admitted"
    incubating = "incubating"
    graduated = "graduated"
    exited = "exited"


ACTIVE_STAY_STATES = frozenset(
    {StayState.applied, StayState.assessed, StayState.admitted, StayState.incubating}
)


class ActivityKind(StrEnum):
    training = "training"
    consultation = "consultation"
    mentoring = "mentoring"
    resource_linkage = "resource_linkage"
    event = "event"


KIND_LABELS = {
    OrganisationKind.social_group: N_("Social group"),
    OrganisationKind.social_service: N_("Social service organisation"),
    OrganisationKind.foundation: N_("Foundation"),
    OrganisationKind.community_group: N_("Community social organisation"),
}
LEGAL_LABELS = {
    LegalStatus.unregistered: N_("Unregistered"),
    LegalStatus.filed: N_("Filed (备案)"),
    LegalStatus.registered: N_("Registered"),
}
FIELD_LABELS = {
    ServiceField.elderly: N_("Elderly care"),
    ServiceField.disability: N_("Disability support"),
    ServiceField.youth: N_("Youth"),
    ServiceField.women_children: N_("Women and children"),
    ServiceField.environment: N_("Environment"),
    ServiceField.culture_sports: N_("Culture and sports"),
    ServiceField.legal: N_("Legal services"),
    ServiceField.community_governance: N_("Community governance"),
    ServiceField.volunteering: N_("Volunteering"),
    ServiceField.other: N_("Other"),
}
CATEGORY_LABELS = {
    OrganisationCategory.service: N_("Service organisation (为民服务类)"),
    OrganisationCategory.association: N_("Association (社团)"),
    OrganisationCategory.self_governance: N_("Self-governance association (院落自治协会)"),
    OrganisationCategory.volunteer_team: N_("Volunteer team (志愿队)"),
    OrganisationCategory.hub: N_("Hub organisation (枢纽型)"),
    OrganisationCategory.alliance: N_("Alliance"),
    OrganisationCategory.other: N_("Other"),
}
ORIGIN_LABELS = {
    Origin.introduced: N_("Introduced (外引)"),
    Origin.local: N_("Grown locally (内培)"),
}
PARTY_LABELS = {
    PartyOrganisation.none: N_("None"),
    PartyOrganisation.own: N_("Own party organisation"),
    PartyOrganisation.joint: N_("Joint party organisation"),
    PartyOrganisation.attached: N_("Attached to another party organisation"),
}
STAY_LABELS = {
    StayState.applied: N_("Applied"),
    StayState.assessed: N_("Assessed"),
    StayState.admitted: N_("Admitted"),
    StayState.incubating: N_("Incubating"),
    StayState.graduated: N_("Graduated"),
    StayState.exited: N_("Exited"),
}
ACTIVITY_LABELS = {
    ActivityKind.training: N_("Training"),
    ActivityKind.consultation: N_("Consultation"),
    ActivityKind.mentoring: N_("Mentoring"),
    ActivityKind.resource_linkage: N_("Resource linkage"),
    ActivityKind.event: N_("Event"),
}


class Organisation(TimestampMixin, Base):
    __tablename__ = "organisations"
    __table_args__ = (
        UniqueConstraint("centre_id", "uscc"),
        CheckConstraint("legal_status <> 'registered' OR uscc IS NOT NULL", name="registered_has_uscc"),
        CheckConstraint("staff_count >= 0 AND volunteer_count >= 0", name="counts_not_negative"),
        Index("ix_organisations_centre_name", "centre_id", "name"),
        # The list filtered by stage (and legal status) reads its page in name order and
        # counts its total from the index: the same work at 1,000 organisations and 10,000.
        Index(
            "ix_organisations_centre_stage_legal_name",
            "centre_id",
            "incubation_state",
            "legal_status",
            "name",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(Enum(OrganisationKind, native_enum=False, length=32))
    legal_status: Mapped[LegalStatus] = mapped_column(Enum(LegalStatus, native_enum=False, length=16))
    uscc: Mapped[str | None] = mapped_column(String(18))
    service_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    community: Mapped[str] = mapped_column(String(100), default="")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    courtyard: Mapped[str] = mapped_column(String(100), default="")
    category: Mapped[OrganisationCategory] = mapped_column(
        Enum(OrganisationCategory, native_enum=False, length=24), default=OrganisationCategory.other
    )
    origin: Mapped[Origin | None] = mapped_column(Enum(Origin, native_enum=False, length=16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    flagship_on: Mapped[dt.date | None] = mapped_column(Date)
    filed_on: Mapped[dt.date | None] = mapped_column(Date)
    registered_on: Mapped[dt.date | None] = mapped_column(Date)
    exited_on: Mapped[dt.date | None] = mapped_column(Date)
    party_organisation: Mapped[PartyOrganisation] = mapped_column(
        Enum(PartyOrganisation, native_enum=False, length=16), default=PartyOrganisation.none
    )
    party_members: Mapped[int] = mapped_column(Integer, default=0)
    street: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="")
    bank_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    bank_account_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    bank_account_no: Mapped[str] = mapped_column(String(40), default="", server_default="")
    founded_on: Mapped[dt.date | None] = mapped_column(Date)
    staff_count: Mapped[int] = mapped_column(Integer, default=0)
    volunteer_count: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    barred_until: Mapped[dt.date | None] = mapped_column(Date)
    bar_reason: Mapped[str | None] = mapped_column(String(500))
    incubation_state: Mapped[StayState | None] = mapped_column(
        Enum(StayState, native_enum=False, length=16), index=True
    )

    members: Mapped[list[OrganisationMember]] = relationship(
        lazy="raise", cascade="all, delete-orphan", back_populates="organisation"
    )

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    def barred_on(self, day: dt.date) -> bool:
        return self.barred_until is not None and day <= self.barred_until


class CommunityMove(Base):
    """An organisation moving from one community to another: cultivation counts it where it
    was at the end of each year, so the moves are kept."""

    __tablename__ = "community_moves"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    from_community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    to_community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    moved_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OrganisationMember(Base):
    __tablename__ = "organisation_members"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[MemberRole] = mapped_column(Enum(MemberRole, native_enum=False, length=16))
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation] = relationship(lazy="raise", back_populates="members")


class MemberInvitation(Base):
    """An owner's invitation for a person to join the organisation; the token is stored hashed."""

    __tablename__ = "member_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # ``owner``: centre staff invite an organisation's first owner (accepting makes them it).
    role: Mapped[MemberRole] = mapped_column(
        Enum(MemberRole, native_enum=False, length=16), default=MemberRole.member, server_default="member"
    )


class IncubationStay(TimestampMixin, Base):
    __tablename__ = "incubation_stays"
    __table_args__ = (
        # One active stay per organisation, guaranteed by the database on both engines.
        Index(
            "uq_incubation_stays_one_active",
            "organisation_id",
            unique=True,
            sqlite_where=text("is_active"),
            postgresql_where=text("is_active"),
        ),
        CheckConstraint(
            "planned_months IS NULL OR planned_months BETWEEN 1 AND 60", name="planned_months_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    state: Mapped[StayState] = mapped_column(Enum(StayState, native_enum=False, length=16), index=True)
    __mapper_args__ = compare_and_set(state)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    applied_on: Mapped[dt.date] = mapped_column(Date)
    intake_note: Mapped[str] = mapped_column(Text, default="")
    assessed_on: Mapped[dt.date | None] = mapped_column(Date)
    assessment_note: Mapped[str | None] = mapped_column(Text)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    planned_months: Mapped[int | None] = mapped_column(Integer)
    planned_end: Mapped[dt.date | None] = mapped_column(Date)
    mentor: Mapped[str | None] = mapped_column(String(100))
    workspace: Mapped[str | None] = mapped_column(String(100))
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    exit_reason: Mapped[str | None] = mapped_column(Text)

    events: Mapped[list[StayEvent]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="StayEvent.id"
    )


class StayEvent(Base):
    """The stay's timeline: one row per transition, with the note the staff member gave."""

    __tablename__ = "stay_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("incubation_stays.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    on_date: Mapped[dt.date] = mapped_column(Date)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(254))


class SupportActivity(TimestampMixin, Base):
    __tablename__ = "support_activities"
    __table_args__ = (
        CheckConstraint("hours > 0", name="hours_positive"),
        Index("ix_support_activities_org_date", "organisation_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[ActivityKind] = mapped_column(Enum(ActivityKind, native_enum=False, length=24))
    held_on: Mapped[dt.date] = mapped_column(Date)
    hours: Mapped[Decimal] = mapped_column(Fixed(6, 1))
    topic: Mapped[str] = mapped_column(String(200))
    given_by: Mapped[str] = mapped_column(String(100))
    participants: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str] = mapped_column(Text, default="")


class GraduationPolicy(Base):
    """A centre's graduation criteria (configurable per centre)."""

    __tablename__ = "graduation_policies"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), primary_key=True)
    min_legal_status: Mapped[LegalStatus] = mapped_column(
        Enum(LegalStatus, native_enum=False, length=16), default=LegalStatus.filed
    )
    min_capacity_score: Mapped[Decimal] = mapped_column(Fixed(5, 2), default=Decimal("60"))
    require_completed_project: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AssessmentStage(StrEnum):
    intake = "intake"
    midterm = "midterm"
    graduation = "graduation"


STAGE_LABELS = {
    AssessmentStage.intake: N_("Intake"),
    AssessmentStage.midterm: N_("Mid-term"),
    AssessmentStage.graduation: N_("Graduation"),
}


class CapacityAssessment(TimestampMixin, Base):
    """A capacity assessment (能力评估) of an organisation, scored on a rubric version."""

    __tablename__ = "capacity_assessments"
    __table_args__ = (Index("ix_capacity_assessments_org_date", "organisation_id", "assessed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    stay_id: Mapped[int | None] = mapped_column(ForeignKey("incubation_stays.id"))
    stage: Mapped[AssessmentStage] = mapped_column(Enum(AssessmentStage, native_enum=False, length=16))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    rubric_version_id: Mapped[int] = mapped_column(Integer)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[Decimal] = mapped_column(Fixed(6, 2))
    grade: Mapped[str] = mapped_column(String(16))
    assessor: Mapped[str] = mapped_column(String(100))
    comments: Mapped[str] = mapped_column(Text, default="")
