"""政府购买服务: purchased-service contracts with indicators, milestones and a payment rule (SPEC §4.6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Fixed, Money, TimestampMixin, UTCDateTime, compare_and_set, string_enum, utcnow
from core.i18n import N_


class ContractState(StrEnum):
    draft = "draft"
    signed = "signed"
    in_service = "in_service"
    under_evaluation = "under_evaluation"
    completed = "completed"
    terminated = "terminated"


class ProcurementMethod(StrEnum):
    open_tender = "open_tender"
    invited_tender = "invited_tender"
    competitive_negotiation = "competitive_negotiation"
    competitive_consultation = "competitive_consultation"
    single_source = "single_source"
    inquiry = "inquiry"


class MilestoneCondition(StrEnum):
    on_signing = "on_signing"
    on_start = "on_start"
    on_evaluation = "on_evaluation"


class MilestoneState(StrEnum):
    planned = "planned"
    due = "due"
    requested = "requested"
    approved = "approved"
    paid = "paid"
    withheld = "withheld"
    cancelled = "cancelled"


CONTRACT_STATE_LABELS = {
    ContractState.draft: N_("Draft"),
    ContractState.signed: N_("Signed"),
    ContractState.in_service: N_("In service"),
    ContractState.under_evaluation: N_("Under evaluation"),
    ContractState.completed: N_("Completed"),
    ContractState.terminated: N_("Terminated"),
}
PROCUREMENT_LABELS = {
    ProcurementMethod.open_tender: N_("Open tender"),
    ProcurementMethod.invited_tender: N_("Invited tender"),
    ProcurementMethod.competitive_negotiation: N_("Competitive negotiation"),
    ProcurementMethod.competitive_consultation: N_("Competitive consultation"),
    ProcurementMethod.single_source: N_("Single source"),
    ProcurementMethod.inquiry: N_("Request for quotations"),
}
CONDITION_LABELS = {
    MilestoneCondition.on_signing: N_("On signing the contract"),
    MilestoneCondition.on_start: N_("When the service starts"),
    MilestoneCondition.on_evaluation: N_("After the performance evaluation (payment rule applies)"),
}
MILESTONE_STATE_LABELS = {
    MilestoneState.planned: N_("Planned"),
    MilestoneState.due: N_("Due"),
    MilestoneState.requested: N_("Requested"),
    MilestoneState.approved: N_("Approved"),
    MilestoneState.paid: N_("Paid"),
    MilestoneState.withheld: N_("Withheld"),
    MilestoneState.cancelled: N_("Cancelled"),
}


class Contract(TimestampMixin, Base):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("paid >= 0 AND paid <= amount", name="paid_within_amount"),
        CheckConstraint("starts_on <= ends_on", name="term_order"),
        CheckConstraint("pro_rata_from < full_payment_from", name="rule_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    purchaser: Mapped[str] = mapped_column(String(200))
    purchaser_uscc: Mapped[str | None] = mapped_column(String(18))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    service_category: Mapped[str] = mapped_column(String(40))
    content: Mapped[str] = mapped_column(Text, default="")
    procurement_method: Mapped[ProcurementMethod] = mapped_column(string_enum(ProcurementMethod, 32))
    amount: Mapped[Decimal] = mapped_column(Money())
    paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[ContractState] = mapped_column(
        string_enum(ContractState, 24), default=ContractState.draft, index=True
    )
    __mapper_args__ = compare_and_set(state)
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    full_payment_from: Mapped[Decimal] = mapped_column(Fixed(5, 2), default=Decimal("90"))
    pro_rata_from: Mapped[Decimal] = mapped_column(Fixed(5, 2), default=Decimal("60"))
    evaluation_score: Mapped[Decimal | None] = mapped_column(Fixed(6, 2))
    payment_factor: Mapped[Decimal | None] = mapped_column(Fixed(6, 4))
    evaluated_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    termination_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    indicators: Mapped[list[ContractIndicator]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ContractIndicator.seq"
    )
    milestones: Mapped[list[ContractMilestone]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ContractMilestone.seq"
    )
    events: Mapped[list[ContractEvent]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ContractEvent.id"
    )


class ContractIndicator(Base):
    __tablename__ = "contract_indicators"
    __table_args__ = (UniqueConstraint("contract_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    target: Mapped[Decimal] = mapped_column(Fixed(12, 2))
    unit: Mapped[str] = mapped_column(String(20))
    actual: Mapped[Decimal | None] = mapped_column(Fixed(12, 2))


class ContractMilestone(Base):
    __tablename__ = "contract_milestones"
    __table_args__ = (
        UniqueConstraint("contract_id", "seq"),
        # share_pct is Fixed (a scaled integer on SQLite): only its sign is portable in a CHECK
        CheckConstraint("share_pct > 0", name="share_positive"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("payable IS NULL OR (payable >= 0 AND payable <= amount)", name="payable_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    share_pct: Mapped[Decimal] = mapped_column(Fixed(5, 2))
    condition: Mapped[MilestoneCondition] = mapped_column(string_enum(MilestoneCondition, 24))
    description: Mapped[str] = mapped_column(String(500), default="")
    amount: Mapped[Decimal] = mapped_column(Money())
    payable: Mapped[Decimal | None] = mapped_column(Money())
    state: Mapped[MilestoneState] = mapped_column(
        string_enum(MilestoneState, 16), default=MilestoneState.planned
    )
    __mapper_args__ = compare_and_set(state)
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    paid_on: Mapped[dt.date | None] = mapped_column(Date)

    @property
    def to_pay(self) -> Decimal:
        """What this milestone pays: its share, or what the payment rule left of it."""
        return self.payable if self.payable is not None else self.amount


class ContractEvent(Base):
    __tablename__ = "contract_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(254))
