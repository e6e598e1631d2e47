"""Applications with their budget lines, indicators, attachments, eligibility checks and
timeline, and the objections lodged during publicity."""

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
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Fixed, Money, TimestampMixin, UTCDateTime, compare_and_set, string_enum, utcnow
from core.i18n import N_


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
    state: Mapped[ApplicationState] = mapped_column(string_enum(ApplicationState, 24), index=True)
    __mapper_args__ = compare_and_set(state)
    title: Mapped[str] = mapped_column(String(200))
    target_community: Mapped[str] = mapped_column(String(200), default="")
    target_community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
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
    category: Mapped[BudgetCategory] = mapped_column(string_enum(BudgetCategory, 16))
    item: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(Money())
    quantity: Mapped[Decimal] = mapped_column(Fixed(10, 2))
    amount: Mapped[Decimal] = mapped_column(Money())
    funded_by: Mapped[FundedBy] = mapped_column(string_enum(FundedBy, 16))


class Indicator(Base):
    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[IndicatorKind] = mapped_column(string_enum(IndicatorKind, 16))
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
    state: Mapped[ObjectionState] = mapped_column(
        string_enum(ObjectionState, 16), default=ObjectionState.open
    )
    __mapper_args__ = compare_and_set(state)
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
