"""Programmes (calls) with their categories and tranche plan, community needs and topics, and
the official calendar days an admin enters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Fixed, Money, TimestampMixin, UTCDateTime, compare_and_set, string_enum
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


PROGRAMME_STATE_LABELS = {
    ProgrammeState.draft: N_("Draft"),
    ProgrammeState.open: N_("Open for applications"),
    ProgrammeState.reviewing: N_("Under review"),
    ProgrammeState.decided: N_("Decided"),
    ProgrammeState.publicised: N_("In publicity"),
    ProgrammeState.running: N_("Running"),
    ProgrammeState.closed: N_("Closed"),
}


TRIGGER_LABELS = {
    TrancheTrigger.on_signing: N_("On signing the agreement"),
    TrancheTrigger.midterm_passed: N_("After a passed mid-term evaluation"),
    TrancheTrigger.final_passed: N_("After a passed final evaluation"),
}


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
    kind: Mapped[ProgrammeKind] = mapped_column(string_enum(ProgrammeKind, 16))
    state: Mapped[ProgrammeState] = mapped_column(string_enum(ProgrammeState, 16), index=True)
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
    trigger: Mapped[TrancheTrigger] = mapped_column(string_enum(TrancheTrigger, 24))


class CommunityNeed(TimestampMixin, Base):
    """需求征集: a need recorded by staff, from which topics are published."""

    __tablename__ = "community_needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    community: Mapped[str] = mapped_column(String(100))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
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


class CalendarDay(Base):
    """An official day entered by an admin (holiday or adjusted working day, 调休)."""

    __tablename__ = "calendar_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(100), default="")
