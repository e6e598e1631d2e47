"""A community fund, the money that comes in (receipts, by source and restriction) and what goes
out (allocations to a programme's budget, an award or a contract, and money returned to it).

Cash sits in **pools**: one unrestricted pool per fund and one per restriction a donor set (a
purpose, a community or a programme). Each pool and the fund itself carry ``received`` and
``committed``; an allocation draws from one pool with two conditional UPDATEs (``committed + x
<= received``), and CHECK constraints stand behind them. In-kind gifts are recorded at their
value in ``in_kind_value`` and never enter a pool, so they can never be paid out.
"""

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

from core.db import Base, Money, TimestampMixin, UTCDateTime, compare_and_set, string_enum, utcnow
from core.i18n import N_


class FundScope(StrEnum):
    street = "street"
    community = "community"


class ReceiptSource(StrEnum):
    fiscal = "fiscal"
    paired_unit = "paired_unit"
    enterprise = "enterprise"
    individual = "individual"
    in_kind = "in_kind"
    residents = "residents"


class Restriction(StrEnum):
    none = "none"
    purpose = "purpose"
    community = "community"
    programme = "programme"


class FundPurpose(StrEnum):
    """What an allocation pays for; a purpose restriction names one of these."""

    elderly = "elderly"
    disability = "disability"
    youth = "youth"
    women_children = "women_children"
    environment = "environment"
    culture_sports = "culture_sports"
    legal = "legal"
    community_governance = "community_governance"
    volunteering = "volunteering"
    cultivation = "cultivation"
    other = "other"


class AllocationTarget(StrEnum):
    programme = "programme"
    award = "award"
    contract = "contract"


class AllocationState(StrEnum):
    pending = "pending"
    approved = "approved"
    paid = "paid"
    rejected = "rejected"


class StepDecision(StrEnum):
    approved = "approved"
    rejected = "rejected"


SCOPE_LABELS = {FundScope.street: N_("Whole street"), FundScope.community: N_("One community")}

SOURCE_LABELS = {
    ReceiptSource.fiscal: N_("Fiscal funds"),
    ReceiptSource.paired_unit: N_("Paired unit"),
    ReceiptSource.enterprise: N_("Enterprise donation"),
    ReceiptSource.individual: N_("Individual donation"),
    ReceiptSource.in_kind: N_("In-kind gift"),
    ReceiptSource.residents: N_("Residents' self-raised"),
}

RESTRICTION_LABELS = {
    Restriction.none: N_("Unrestricted"),
    Restriction.purpose: N_("Restricted to a purpose"),
    Restriction.community: N_("Restricted to a community"),
    Restriction.programme: N_("Restricted to a programme"),
}

PURPOSE_LABELS = {
    FundPurpose.elderly: N_("Elderly care"),
    FundPurpose.disability: N_("Disability support"),
    FundPurpose.youth: N_("Youth"),
    FundPurpose.women_children: N_("Women and children"),
    FundPurpose.environment: N_("Environment"),
    FundPurpose.culture_sports: N_("Culture and sports"),
    FundPurpose.legal: N_("Legal services"),
    FundPurpose.community_governance: N_("Community governance"),
    FundPurpose.volunteering: N_("Volunteering"),
    FundPurpose.cultivation: N_("Cultivating organisations"),
    FundPurpose.other: N_("Other"),
}

TARGET_LABELS = {
    AllocationTarget.programme: N_("Programme budget"),
    AllocationTarget.award: N_("Project (award)"),
    AllocationTarget.contract: N_("Purchased-service contract"),
}

ALLOCATION_STATE_LABELS = {
    AllocationState.pending: N_("Awaiting approval"),
    AllocationState.approved: N_("Allocation approved"),
    AllocationState.paid: N_("Paid out"),
    AllocationState.rejected: N_("Allocation rejected"),
}

DECISION_LABELS = {StepDecision.approved: N_("Agreed"), StepDecision.rejected: N_("Not agreed")}

LIVE_ALLOCATION_STATES = (AllocationState.pending, AllocationState.approved, AllocationState.paid)


class Fund(TimestampMixin, Base):
    """社区基金: money held by a custodian as a special fund, run by a management committee."""

    __tablename__ = "funds"
    __table_args__ = (
        CheckConstraint("received >= 0", name="received_not_negative"),
        CheckConstraint("committed >= 0 AND committed <= received", name="committed_within_received"),
        CheckConstraint("spent >= 0 AND spent <= committed", name="spent_within_committed"),
        CheckConstraint("in_kind_value >= 0", name="in_kind_not_negative"),
        CheckConstraint("returned >= 0", name="returned_not_negative"),
        CheckConstraint(
            "(scope = 'community' AND community_id IS NOT NULL)"
            " OR (scope = 'street' AND community_id IS NULL)",
            name="scope_community",
        ),
        UniqueConstraint("centre_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[FundScope] = mapped_column(string_enum(FundScope, 16))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"), index=True)
    custodian: Mapped[str] = mapped_column(String(200))
    committee: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    approval_threshold: Mapped[Decimal | None] = mapped_column(Money())
    received: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    in_kind_value: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    committed: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    spent: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    returned: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)

    steps: Mapped[list[FundApprovalStep]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="FundApprovalStep.seq"
    )

    @property
    def available(self) -> Decimal:
        return self.received - self.committed


class FundApprovalStep(Base):
    """One body that decides on allocations above the fund's threshold (居民议事会, 社区两委, 第三方)."""

    __tablename__ = "fund_approval_steps"
    __table_args__ = (UniqueConstraint("fund_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))


class FundPool(Base):
    """The cash of one fund under one restriction (or none): what was received and committed."""

    __tablename__ = "fund_pools"
    __table_args__ = (
        UniqueConstraint("fund_id", "key"),
        CheckConstraint("received >= 0", name="received_not_negative"),
        CheckConstraint("committed >= 0 AND committed <= received", name="committed_within_received"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    restriction: Mapped[Restriction] = mapped_column(string_enum(Restriction, 16))
    purpose: Mapped[FundPurpose | None] = mapped_column(string_enum(FundPurpose, 32))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"))
    received: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    committed: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))

    @property
    def available(self) -> Decimal:
        return self.received - self.committed


class FundReceipt(Base):
    """One gift or transfer into a fund. The donor's name is published only with consent."""

    __tablename__ = "fund_receipts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "(source = 'in_kind' AND pool_id IS NULL) OR (source <> 'in_kind' AND pool_id IS NOT NULL)",
            name="in_kind_outside_pools",
        ),
        Index(
            "uq_fund_receipts_receipt_no",
            "centre_id",
            "receipt_no",
            unique=True,
            sqlite_where=text("receipt_no IS NOT NULL"),
            postgresql_where=text("receipt_no IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("fund_pools.id"))
    received_on: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[ReceiptSource] = mapped_column(string_enum(ReceiptSource, 16))
    donor_name: Mapped[str] = mapped_column(String(200))
    publish_donor: Mapped[bool] = mapped_column(Boolean, default=False)
    amount: Mapped[Decimal] = mapped_column(Money())
    receipt_no: Mapped[str | None] = mapped_column(String(60))
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    in_kind_items: Mapped[str] = mapped_column(Text, default="")
    valuation_basis: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FundAllocation(Base):
    """An allocation from one pool of a fund to a programme's budget, an award or a contract.

    The amount is reserved (committed) when the allocation is requested, released if it is
    rejected. The requester never decides a step (also a CHECK on each decision).
    """

    __tablename__ = "fund_allocations"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("returned >= 0 AND returned <= amount", name="returned_within_amount"),
        CheckConstraint(
            "(target = 'programme' AND programme_id IS NOT NULL AND award_id IS NULL AND contract_id IS NULL)"
            " OR (target = 'award' AND award_id IS NOT NULL AND contract_id IS NULL)"
            " OR (target = 'contract' AND contract_id IS NOT NULL AND award_id IS NULL)",
            name="one_target",
        ),
        Index("ix_fund_allocations_fund_state", "fund_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"))
    pool_id: Mapped[int] = mapped_column(ForeignKey("fund_pools.id"))
    target: Mapped[AllocationTarget] = mapped_column(string_enum(AllocationTarget, 16))
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    award_id: Mapped[int | None] = mapped_column(ForeignKey("awards.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"), index=True)
    purpose: Mapped[FundPurpose] = mapped_column(string_enum(FundPurpose, 32))
    community_id: Mapped[int | None] = mapped_column(ForeignKey("communities.id"))
    title: Mapped[str] = mapped_column(String(200))
    amount: Mapped[Decimal] = mapped_column(Money())
    returned: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0.00"))
    state: Mapped[AllocationState] = mapped_column(string_enum(AllocationState, 16), index=True)
    __mapper_args__ = compare_and_set(state)
    next_step: Mapped[int] = mapped_column(Integer, default=1)
    step_count: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_by_name: Mapped[str] = mapped_column(String(254))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    voucher_no: Mapped[str | None] = mapped_column(String(60))
    paid_on: Mapped[dt.date | None] = mapped_column(Date)

    decisions: Mapped[list[AllocationDecision]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="AllocationDecision.seq"
    )


class AllocationDecision(Base):
    """The decision recorded at one approval step of one allocation."""

    __tablename__ = "fund_allocation_decisions"
    __table_args__ = (
        UniqueConstraint("allocation_id", "seq"),
        CheckConstraint("decided_by <> requested_by", name="maker_checker"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("fund_allocations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    step_name: Mapped[str] = mapped_column(String(100))
    decision: Mapped[StepDecision] = mapped_column(string_enum(StepDecision, 16))
    note: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_name: Mapped[str] = mapped_column(String(254))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FundReturn(Base):
    """Money that came back to a fund through one allocation (追回 from a terminated award)."""

    __tablename__ = "fund_returns"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("allocation_id", "clawback_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"))
    fund_id: Mapped[int] = mapped_column(ForeignKey("funds.id"), index=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("fund_allocations.id"), index=True)
    clawback_id: Mapped[int | None] = mapped_column(ForeignKey("clawbacks.id"))
    amount: Mapped[Decimal] = mapped_column(Money())
    returned_on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
