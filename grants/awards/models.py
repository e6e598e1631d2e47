"""An award (a project) with its tranches, and what it gains after it is created: the signed
agreement, documents, evaluation outcomes, timeline, progress reports, expense claims,
rectification and clawback."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Fixed, Money, TimestampMixin, UTCDateTime, compare_and_set, string_enum, utcnow
from core.i18n import N_
from grants.applications.models import BudgetCategory
from grants.programmes.models import TrancheTrigger


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
    state: Mapped[AwardState] = mapped_column(string_enum(AwardState, 16), default=AwardState.active)
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
    trigger: Mapped[TrancheTrigger] = mapped_column(string_enum(TrancheTrigger, 24))
    amount: Mapped[Decimal] = mapped_column(Money())
    state: Mapped[TrancheState] = mapped_column(string_enum(TrancheState, 16), default=TrancheState.planned)
    __mapper_args__ = compare_and_set(state)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    paid_on: Mapped[dt.date | None] = mapped_column(Date)


class ReviewState(StrEnum):
    submitted = "submitted"
    returned = "returned"
    approved = "approved"


class RectificationState(StrEnum):
    open = "open"
    passed = "passed"
    terminated = "terminated"


class EvaluationPurpose(StrEnum):
    midterm = "midterm"
    final = "final"


class DocumentKind(StrEnum):
    agreement = "agreement"
    receipt = "receipt"
    other = "other"


REVIEW_STATE_LABELS = {
    ReviewState.submitted: N_("Awaiting review"),
    ReviewState.returned: N_("Returned for changes"),
    ReviewState.approved: N_("Accepted"),
}


PURPOSE_LABELS = {
    EvaluationPurpose.midterm: N_("Mid-term evaluation"),
    EvaluationPurpose.final: N_("Final evaluation"),
}


RECTIFICATION_STATE_LABELS = {
    RectificationState.open: N_("Rectification open"),
    RectificationState.passed: N_("Rectification passed"),
    RectificationState.terminated: N_("Ended by termination"),
}


class AwardAgreement(Base):
    """The signed agreement of an award (the signed copy is an award document)."""

    __tablename__ = "award_agreements"

    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), primary_key=True)
    signed_on: Mapped[dt.date] = mapped_column(Date)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("award_documents.id"))
    signed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AwardDocument(Base):
    """A file belonging to an award (signed agreement, receipt): readable by whoever reads the award."""

    __tablename__ = "award_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    kind: Mapped[DocumentKind] = mapped_column(string_enum(DocumentKind, 16))
    label: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AwardEvaluation(Base):
    """An evaluation outcome of an award (mid-term or final), as the closed round reported it."""

    __tablename__ = "award_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[EvaluationPurpose] = mapped_column(string_enum(EvaluationPurpose, 16))
    grade: Mapped[str] = mapped_column(String(16))
    total: Mapped[Decimal] = mapped_column(Fixed(6, 2))
    passed: Mapped[bool] = mapped_column(Boolean)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AwardEvent(Base):
    """The award's timeline: every step with its actor and note."""

    __tablename__ = "award_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(254))


class ProgressReport(Base):
    """进度报告: the grantee's narrative and actuals per indicator, reviewed by staff."""

    __tablename__ = "progress_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(100))
    narrative: Mapped[str] = mapped_column(Text)
    state: Mapped[ReviewState] = mapped_column(string_enum(ReviewState, 16), default=ReviewState.submitted)
    __mapper_args__ = compare_and_set(state)
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    review_comment: Mapped[str | None] = mapped_column(Text)

    actuals: Mapped[list[IndicatorActual]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="IndicatorActual.id"
    )


class IndicatorActual(Base):
    __tablename__ = "indicator_actuals"
    __table_args__ = (UniqueConstraint("report_id", "indicator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("progress_reports.id", ondelete="CASCADE"))
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"))
    actual: Mapped[Decimal] = mapped_column(Fixed(12, 2))
    note: Mapped[str] = mapped_column(String(500), default="")


class ExpenseClaim(Base):
    """报销/支出: money the grantee spent, with receipts; counts as spent once approved."""

    __tablename__ = "expense_claims"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    category: Mapped[BudgetCategory] = mapped_column(string_enum(BudgetCategory, 16))
    item: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money())
    spent_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[ReviewState] = mapped_column(string_enum(ReviewState, 16), default=ReviewState.submitted)
    __mapper_args__ = compare_and_set(state)
    version: Mapped[int] = mapped_column(Integer, default=1)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    review_comment: Mapped[str | None] = mapped_column(Text)

    receipts: Mapped[list[ExpenseReceipt]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ExpenseReceipt.id"
    )


class ExpenseReceipt(Base):
    __tablename__ = "expense_receipts"
    __table_args__ = (UniqueConstraint("claim_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("expense_claims.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("award_documents.id"))


class Rectification(Base):
    """整改: opened by a failed evaluation, closed by a passed re-evaluation or by termination."""

    __tablename__ = "rectifications"
    __table_args__ = (
        # At most one open rectification per award.
        Index(
            "uq_rectifications_open",
            "award_id",
            unique=True,
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[EvaluationPurpose | None] = mapped_column(string_enum(EvaluationPurpose, 16))
    reason: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[RectificationState] = mapped_column(
        string_enum(RectificationState, 16), default=RectificationState.open
    )
    __mapper_args__ = compare_and_set(state)
    opened_by: Mapped[str] = mapped_column(String(254))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Clawback(Base):
    """追回: unspent funds to be returned when an award is terminated (paid − approved spending)."""

    __tablename__ = "clawbacks"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        UniqueConstraint("award_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"))
    paid: Mapped[Decimal] = mapped_column(Money())
    spent: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[str] = mapped_column(Text)
    barred_until: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(254))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
