"""Programmes (calls), needs and topics, applications with budgets, eligibility, publicity."""

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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Fixed, Money, TimestampMixin, UTCDateTime, compare_and_set, utcnow
from core.i18n import N_


class ProgrammeKind(StrEnum):
    venture = "venture"
    micro = "micro"


class ProgrammeState(StrEnum):
    draft = "draft"
    open = "open"
    reviewing = "reviewing"
    decided = "decided"
    publicised = "publicised"
    running = "running"
    closed = "closed"


class TrancheTrigger(StrEnum):
    on_signing = "on_signing"
    midterm_passed = "midterm_passed"
    final_passed = "final_passed"


class ApplicationState(StrEnum):
    draft = "draft"
    submitted = "submitted"
    eligible = "eligible"
    ineligible = "ineligible"
    under_review = "under_review"
    reviewed = "reviewed"
    recommended = "recommended"
    not_recommended = "not_recommended"
    approved = "approved"
    rejected = "rejected"
    awarded = "awarded"
    withdrawn = "withdrawn"
    returned = "returned"


class BudgetCategory(StrEnum):
    personnel = "personnel"
    activities = "activities"
    materials = "materials"
    venue = "venue"
    publicity = "publicity"
    management = "management"
    other = "other"


class FundedBy(StrEnum):
    grant = "grant"
    cofunding = "cofunding"


class IndicatorKind(StrEnum):
    output = "output"
    outcome = "outcome"


class ObjectionState(StrEnum):
    open = "open"
    upheld = "upheld"
    dismissed = "dismissed"


PROGRAMME_STATE_LABELS = {
    ProgrammeState.draft: N_("Draft"),
    ProgrammeState.open: N_("Open for applications"),
    ProgrammeState.reviewing: N_("Under review"),
    ProgrammeState.decided: N_("Decided"),
    ProgrammeState.publicised: N_("In publicity"),
    ProgrammeState.running: N_("Running"),
    ProgrammeState.closed: N_("Closed"),
}
APPLICATION_STATE_LABELS = {
    ApplicationState.draft: N_("Draft"),
    ApplicationState.submitted: N_("Submitted"),
    ApplicationState.eligible: N_("Eligible"),
    ApplicationState.ineligible: N_("Ineligible"),
    ApplicationState.under_review: N_("Under review"),
    ApplicationState.reviewed: N_("Reviewed"),
    ApplicationState.recommended: N_("Recommended"),
    ApplicationState.not_recommended: N_("Not recommended"),
    ApplicationState.approved: N_("Approved"),
    ApplicationState.rejected: N_("Rejected"),
    ApplicationState.awarded: N_("Awarded"),
    ApplicationState.withdrawn: N_("Withdrawn"),
    ApplicationState.returned: N_("Returned for correction"),
}
BUDGET_CATEGORY_LABELS = {
    BudgetCategory.personnel: N_("Personnel"),
    BudgetCategory.activities: N_("Activity costs"),
    BudgetCategory.materials: N_("Materials"),
    BudgetCategory.venue: N_("Venue"),
    BudgetCategory.publicity: N_("Publicity"),
    BudgetCategory.management: N_("Management fee"),
    BudgetCategory.other: N_("Other"),
}
TRIGGER_LABELS = {
    TrancheTrigger.on_signing: N_("On signing the agreement"),
    TrancheTrigger.midterm_passed: N_("After a passed mid-term evaluation"),
    TrancheTrigger.final_passed: N_("After a passed final evaluation"),
}


def _enum(kind: type[StrEnum], length: int = 24) -> Enum:
    return Enum(kind, native_enum=False, length=length)


class Programme(TimestampMixin, Base):
    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint("committed >= 0 AND committed <= total_budget", name="committed_within_budget"),
        CheckConstraint("opens_at < closes_at", name="window_order"),
        CheckConstraint("min_reviewers BETWEEN 1 AND 20", name="min_reviewers_range"),
        CheckConstraint("publicity_working_days BETWEEN 1 AND 30", name="publicity_days_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ProgrammeKind] = mapped_column(_enum(ProgrammeKind, 16))
    state: Mapped[ProgrammeState] = mapped_column(_enum(ProgrammeState, 16), index=True)
    __mapper_args__ = compare_and_set(state)
    description: Mapped[str] = mapped_column(Text, default="")
    total_budget: Mapped[Decimal] = mapped_column(Money())
    committed: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    max_award_registered: Mapped[Decimal] = mapped_column(Money())
    max_award_community: Mapped[Decimal] = mapped_column(Money())
    allow_unregistered: Mapped[bool] = mapped_column(Boolean, default=False)
    min_cofunding_pct: Mapped[Decimal] = mapped_column(Fixed(5, 2), default=Decimal("0"))
    management_fee_cap_pct: Mapped[Decimal] = mapped_column(Fixed(5, 2), default=Decimal("10"))
    personnel_cap_pct: Mapped[Decimal] = mapped_column(Fixed(5, 2), default=Decimal("30"))
    rubric_version_id: Mapped[int | None] = mapped_column(Integer)
    min_reviewers: Mapped[int] = mapped_column(Integer, default=3)
    blind_review: Mapped[bool] = mapped_column(Boolean, default=False)
    opens_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    publicity_working_days: Mapped[int] = mapped_column(Integer, default=5)
    review_round_id: Mapped[int | None] = mapped_column(Integer)

    categories: Mapped[list[ProgrammeCategory]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ProgrammeCategory.id"
    )
    tranche_plan: Mapped[list[TranchePlanRow]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="TranchePlanRow.seq"
    )
    topics: Mapped[list[ProgrammeTopic]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ProgrammeTopic.id"
    )


class ProgrammeCategory(Base):
    __tablename__ = "programme_categories"
    __table_args__ = (
        UniqueConstraint("programme_id", "code"),
        CheckConstraint("committed >= 0 AND committed <= budget", name="committed_within_budget"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    budget: Mapped[Decimal] = mapped_column(Money())
    committed: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))


class TranchePlanRow(Base):
    __tablename__ = "tranche_plan_rows"
    __table_args__ = (
        UniqueConstraint("programme_id", "seq"),
        CheckConstraint("share_pct > 0", name="share_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    share_pct: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    trigger: Mapped[TrancheTrigger] = mapped_column(_enum(TrancheTrigger))


class CommunityNeed(TimestampMixin, Base):
    """需求征集: a need recorded by staff, from which topics are published."""

    __tablename__ = "community_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    community: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ProgrammeTopic(Base):
    """选题: a topic published for a programme, usually answering a community need."""

    __tablename__ = "programme_topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("community_needs.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class Application(TimestampMixin, Base):
    __tablename__ = "applications"
    __table_args__ = (
        Index("ix_applications_programme_state", "programme_id", "state"),
        Index("ix_applications_org", "organisation_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("programme_topics.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("programme_categories.id"))
    state: Mapped[ApplicationState] = mapped_column(_enum(ApplicationState), index=True)
    __mapper_args__ = compare_and_set(state)
    title: Mapped[str] = mapped_column(String(200))
    target_community: Mapped[str] = mapped_column(String(200), default="")
    beneficiaries: Mapped[str] = mapped_column(Text, default="")
    beneficiary_count: Mapped[int] = mapped_column(Integer, default=0)
    needs: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    activities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    requested_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    cofunding_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    total_budget: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    approved_amount: Mapped[Decimal | None] = mapped_column(Money())
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    review_score: Mapped[Decimal | None] = mapped_column(Fixed(6, 2))
    rank: Mapped[int | None] = mapped_column(Integer)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    publicity_starts_on: Mapped[dt.date | None] = mapped_column(Date)
    publicity_ends_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    budget_lines: Mapped[list[BudgetLine]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="BudgetLine.seq"
    )
    indicators: Mapped[list[Indicator]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Indicator.seq"
    )
    checks: Mapped[list[EligibilityCheck]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="EligibilityCheck.id"
    )
    events: Mapped[list[ApplicationEvent]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ApplicationEvent.id"
    )


class BudgetLine(Base):
    __tablename__ = "budget_lines"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    category: Mapped[BudgetCategory] = mapped_column(_enum(BudgetCategory, 16))
    item: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(Money())
    quantity: Mapped[Decimal] = mapped_column(Fixed(10, 2))
    amount: Mapped[Decimal] = mapped_column(Money())
    funded_by: Mapped[FundedBy] = mapped_column(_enum(FundedBy, 16))


class Indicator(Base):
    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[IndicatorKind] = mapped_column(_enum(IndicatorKind, 16))
    name: Mapped[str] = mapped_column(String(200))
    target: Mapped[Decimal] = mapped_column(Fixed(12, 2))
    unit: Mapped[str] = mapped_column(String(20))


class ApplicationAttachment(Base):
    __tablename__ = "application_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EligibilityCheck(Base):
    """One automatic check with its result; staff confirm it or override it with a reason."""

    __tablename__ = "eligibility_checks"
    __table_args__ = (UniqueConstraint("application_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    passed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    final_passed: Mapped[bool | None] = mapped_column(Boolean)
    staff_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ApplicationEvent(Base):
    """The application's timeline, with the reason given at each step."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(254))


class Objection(Base):
    """异议 lodged through the public publicity page."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    lodged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    name: Mapped[str] = mapped_column(String(100), default="")
    contact: Mapped[str] = mapped_column(String(100), default="")
    content: Mapped[str] = mapped_column(Text)
    state: Mapped[ObjectionState] = mapped_column(_enum(ObjectionState, 16), default=ObjectionState.open)
    __mapper_args__ = compare_and_set(state)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CalendarDay(Base):
    """An official day entered by an admin (holiday or adjusted working day, 调休)."""

    __tablename__ = "calendar_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(100), default="")


class AwardState(StrEnum):
    active = "active"
    rectification = "rectification"
    terminated = "terminated"
    completed = "completed"


class TrancheState(StrEnum):
    planned = "planned"
    due = "due"
    requested = "requested"
    approved = "approved"
    paid = "paid"
    cancelled = "cancelled"


AWARD_STATE_LABELS = {
    AwardState.active: N_("Under way"),
    AwardState.rectification: N_("In rectification"),
    AwardState.terminated: N_("Terminated"),
    AwardState.completed: N_("Completed"),
}
TRANCHE_STATE_LABELS = {
    TrancheState.planned: N_("Planned"),
    TrancheState.due: N_("Due"),
    TrancheState.requested: N_("Requested"),
    TrancheState.approved: N_("Approved"),
    TrancheState.paid: N_("Paid"),
    TrancheState.cancelled: N_("Cancelled"),
}


class Award(TimestampMixin, Base):
    """A project (立项): the approved amount with its tranche schedule."""

    __tablename__ = "awards"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("paid >= 0 AND paid <= amount", name="paid_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"), index=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("programme_categories.id"))
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money())
    paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    state: Mapped[AwardState] = mapped_column(_enum(AwardState, 16), default=AwardState.active)
    __mapper_args__ = compare_and_set(state)
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    awarded_on: Mapped[dt.date] = mapped_column(Date)

    tranches: Mapped[list[Tranche]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Tranche.seq"
    )


class Tranche(Base):
    __tablename__ = "tranches"
    __table_args__ = (
        UniqueConstraint("award_id", "seq"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    share_pct: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    trigger: Mapped[TrancheTrigger] = mapped_column(_enum(TrancheTrigger))
    amount: Mapped[Decimal] = mapped_column(Money())
    state: Mapped[TrancheState] = mapped_column(_enum(TrancheState, 16), default=TrancheState.planned)
    __mapper_args__ = compare_and_set(state)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
