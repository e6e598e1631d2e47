"""One request to pay one tranche (award) or one milestone (contract)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Money, UTCDateTime, compare_and_set, string_enum, utcnow
from core.i18n import N_


class DisbursementState(StrEnum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"
    paid = "paid"


DISBURSEMENT_STATE_LABELS = {
    DisbursementState.requested: N_("Awaiting approval"),
    DisbursementState.approved: N_("Approved, awaiting payment"),
    DisbursementState.rejected: N_("Rejected by finance"),
    DisbursementState.paid: N_("Paid"),
}


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
        string_enum(DisbursementState, 16), default=DisbursementState.requested
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


OPEN_DISBURSEMENT_STATES = (DisbursementState.requested, DisbursementState.approved)
