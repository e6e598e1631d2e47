"""Money after the decision: agreements, disbursements, progress reports, expense claims,
rectification and clawback (SPEC §4.4–4.5).

Awards and tranches themselves live in ``grants.models``; what an award gains after it is
created (its signed agreement, its evaluation outcomes, its timeline) is kept here in
tables keyed by the award.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
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

from core.db import Base, Fixed, Money, UTCDateTime, compare_and_set, utcnow
from core.i18n import N_
from grants.models import BudgetCategory


def _enum(kind: type[StrEnum], length: int = 16) -> Enum:
    return Enum(kind, native_enum=False, length=length)


class DisbursementState(StrEnum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"
    paid = "paid"


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


DISBURSEMENT_STATE_LABELS = {
    DisbursementState.requested: N_("Awaiting approval"),
    DisbursementState.approved: N_("Approved, awaiting payment"),
    DisbursementState.rejected: N_("Rejected by finance"),
    DisbursementState.paid: N_("Paid"),
}
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
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind))
    label: Mapped[str] = mapped_column(String(200), default="")
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AwardEvaluation(Base):
    """An evaluation outcome of an award (mid-term or final), as the closed round reported it."""

    __tablename__ = "award_evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[EvaluationPurpose] = mapped_column(_enum(EvaluationPurpose))
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


class Disbursement(Base):
    """拨付: one request to pay one tranche (award) or one milestone (contract).

    Maker-checker is a CHECK as well as a service rule: whoever requested may not approve
    or reject. A partial unique index keeps one live (non-rejected) request per tranche and
    per milestone.
    """

    __tablename__ = "disbursements"
    __table_args__ = (
        CheckConstraint(
            "(tranche_id IS NOT NULL AND milestone_id IS NULL) "
            "OR (tranche_id IS NULL AND milestone_id IS NOT NULL)",
            name="one_target",
        ),
        CheckConstraint("approved_by IS NULL OR approved_by <> requested_by", name="maker_checker"),
        CheckConstraint("rejected_by IS NULL OR rejected_by <> requested_by", name="maker_checker_reject"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index(
            "uq_disbursements_live_tranche",
            "tranche_id",
            unique=True,
            sqlite_where=text("state <> 'rejected' AND tranche_id IS NOT NULL"),
            postgresql_where=text("state <> 'rejected' AND tranche_id IS NOT NULL"),
        ),
        Index(
            "uq_disbursements_live_milestone",
            "milestone_id",
            unique=True,
            sqlite_where=text("state <> 'rejected' AND milestone_id IS NOT NULL"),
            postgresql_where=text("state <> 'rejected' AND milestone_id IS NOT NULL"),
        ),
        Index("ix_disbursements_centre_state", "centre_id", "state"),
        UniqueConstraint("centre_id", "voucher_no"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    award_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"), index=True)
    tranche_id: Mapped[int | None] = mapped_column(ForeignKey("tranches.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("contract_milestones.id"))
    payee_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    state: Mapped[DisbursementState] = mapped_column(
        _enum(DisbursementState), default=DisbursementState.requested
    )
    __mapper_args__ = compare_and_set(state)
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_by_name: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejected_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_name: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reject_reason: Mapped[str | None] = mapped_column(Text)
    voucher_no: Mapped[str | None] = mapped_column(String(60))
    paid_on: Mapped[dt.date | None] = mapped_column(Date)
    paid_amount: Mapped[Decimal | None] = mapped_column(Money())
    paid_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ProgressReport(Base):
    """进度报告: the grantee's narrative and actuals per indicator, reviewed by staff."""

    __tablename__ = "progress_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(100))
    narrative: Mapped[str] = mapped_column(Text)
    state: Mapped[ReviewState] = mapped_column(_enum(ReviewState), default=ReviewState.submitted)
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
    category: Mapped[BudgetCategory] = mapped_column(_enum(BudgetCategory))
    item: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money())
    spent_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[ReviewState] = mapped_column(_enum(ReviewState), default=ReviewState.submitted)
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
    purpose: Mapped[EvaluationPurpose | None] = mapped_column(_enum(EvaluationPurpose))
    reason: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[RectificationState] = mapped_column(
        _enum(RectificationState), default=RectificationState.open
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
