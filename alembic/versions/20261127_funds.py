"""community funds: funds, their approval steps, pools, receipts, allocations with step
decisions, and money returned to them

Every pool and fund carries ``received`` and ``committed`` with ``committed <= received`` as a
CHECK behind the conditional UPDATEs; in-kind receipts stay outside the pools; a decision's
maker-checker rule is a CHECK too.

Revision ID: funds
Revises: communities
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import core.db
from alembic import op

revision: str = "funds"
down_revision: str | None = "cultivation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("street", "community", name="fundscope", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("custodian", sa.String(length=200), nullable=False),
        sa.Column("committee", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("approval_threshold", core.db.Money(precision=14, scale=2), nullable=True),
        sa.Column("received", core.db.Money(precision=14, scale=2), nullable=False),
        sa.Column("in_kind_value", core.db.Money(precision=14, scale=2), nullable=False),
        sa.Column("committed", core.db.Money(precision=14, scale=2), nullable=False),
        sa.Column("spent", core.db.Money(precision=14, scale=2), nullable=False),
        sa.Column("returned", core.db.Money(precision=14, scale=2), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(scope = 'community' AND community_id IS NOT NULL)"
            " OR (scope = 'street' AND community_id IS NULL)",
            name=op.f("ck_funds_scope_community"),
        ),
        sa.CheckConstraint(
            "committed >= 0 AND committed <= received", name=op.f("ck_funds_committed_within_received")
        ),
        sa.CheckConstraint("in_kind_value >= 0", name=op.f("ck_funds_in_kind_not_negative")),
        sa.CheckConstraint("received >= 0", name=op.f("ck_funds_received_not_negative")),
        sa.CheckConstraint("returned >= 0", name=op.f("ck_funds_returned_not_negative")),
        sa.CheckConstraint("spent >= 0 AND spent <= committed", name=op.f("ck_funds_spent_within_committed")),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name=op.f("fk_funds_centre_id_centres")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_funds_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funds")),
        sa.UniqueConstraint("centre_id", "name", name=op.f("uq_funds_centre_id_name")),
    )
    with op.batch_alter_table("funds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_funds_centre_id"), ["centre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_funds_community_id"), ["community_id"], unique=False)

    op.create_table(
        "fund_approval_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["fund_id"], ["funds.id"], name=op.f("fk_fund_approval_steps_fund_id_funds"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_approval_steps")),
        sa.UniqueConstraint("fund_id", "seq", name=op.f("uq_fund_approval_steps_fund_id_seq")),
    )
    with op.batch_alter_table("fund_approval_steps", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_approval_steps_fund_id"), ["fund_id"], unique=False)

    op.create_table(
        "fund_pools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column(
            "restriction",
            sa.Enum(
                "none", "purpose", "community", "programme", name="restriction", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column(
            "purpose",
            sa.Enum(
                "elderly",
                "disability",
                "youth",
                "women_children",
                "environment",
                "culture_sports",
                "legal",
                "community_governance",
                "volunteering",
                "cultivation",
                "other",
                name="fundpurpose",
                native_enum=False,
                length=32,
            ),
            nullable=True,
        ),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("received", core.db.Money(precision=14, scale=2), nullable=False),
        sa.Column("committed", core.db.Money(precision=14, scale=2), nullable=False),
        sa.CheckConstraint(
            "committed >= 0 AND committed <= received", name=op.f("ck_fund_pools_committed_within_received")
        ),
        sa.CheckConstraint("received >= 0", name=op.f("ck_fund_pools_received_not_negative")),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_fund_pools_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["fund_id"], ["funds.id"], name=op.f("fk_fund_pools_fund_id_funds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_fund_pools_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_pools")),
        sa.UniqueConstraint("fund_id", "key", name=op.f("uq_fund_pools_fund_id_key")),
    )
    with op.batch_alter_table("fund_pools", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_pools_fund_id"), ["fund_id"], unique=False)

    op.create_table(
        "fund_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "fiscal",
                "paired_unit",
                "enterprise",
                "individual",
                "in_kind",
                "residents",
                name="receiptsource",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("donor_name", sa.String(length=200), nullable=False),
        sa.Column("publish_donor", sa.Boolean(), nullable=False),
        sa.Column("amount", core.db.Money(precision=14, scale=2), nullable=False),
        sa.Column("receipt_no", sa.String(length=60), nullable=True),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("in_kind_items", sa.Text(), nullable=False),
        sa.Column("valuation_basis", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(source = 'in_kind' AND pool_id IS NULL) OR (source <> 'in_kind' AND pool_id IS NOT NULL)",
            name=op.f("ck_fund_receipts_in_kind_outside_pools"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_fund_receipts_amount_positive")),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["stored_files.id"], name=op.f("fk_fund_receipts_attachment_id_stored_files")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_fund_receipts_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"], name=op.f("fk_fund_receipts_fund_id_funds")),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["fund_pools.id"], name=op.f("fk_fund_receipts_pool_id_fund_pools")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_fund_receipts_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_receipts")),
    )
    with op.batch_alter_table("fund_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_receipts_fund_id"), ["fund_id"], unique=False)
        batch_op.create_index(
            "uq_fund_receipts_receipt_no",
            ["centre_id", "receipt_no"],
            unique=True,
            sqlite_where=sa.text("receipt_no IS NOT NULL"),
            postgresql_where=sa.text("receipt_no IS NOT NULL"),
        )

    op.create_table(
        "fund_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column(
            "target",
            sa.Enum("programme", "award", "contract", name="allocationtarget", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("programme_id", sa.Integer(), nullable=True),
        sa.Column("award_id", sa.Integer(), nullable=True),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column(
            "purpose",
            sa.Enum(
                "elderly",
                "disability",
                "youth",
                "women_children",
                "environment",
                "culture_sports",
                "legal",
                "community_governance",
                "volunteering",
                "cultivation",
                "other",
                name="fundpurpose",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("amount", core.db.Money(precision=14, scale=2), nullable=False),
        sa.Column("returned", core.db.Money(precision=14, scale=2), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "approved",
                "paid",
                "rejected",
                name="allocationstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("next_step", sa.Integer(), nullable=False),
        sa.Column("step_count", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("requested_by_name", sa.String(length=254), nullable=False),
        sa.Column("requested_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("voucher_no", sa.String(length=60), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "(target = 'programme' AND programme_id IS NOT NULL AND award_id IS NULL AND contract_id IS NULL)"
            " OR (target = 'award' AND award_id IS NOT NULL AND contract_id IS NULL)"
            " OR (target = 'contract' AND contract_id IS NOT NULL AND award_id IS NULL)",
            name=op.f("ck_fund_allocations_one_target"),
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_fund_allocations_amount_positive")),
        sa.CheckConstraint(
            "returned >= 0 AND returned <= amount", name=op.f("ck_fund_allocations_returned_within_amount")
        ),
        sa.ForeignKeyConstraint(
            ["award_id"], ["awards.id"], name=op.f("fk_fund_allocations_award_id_awards")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_fund_allocations_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_fund_allocations_community_id_communities")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"], ["contracts.id"], name=op.f("fk_fund_allocations_contract_id_contracts")
        ),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"], name=op.f("fk_fund_allocations_fund_id_funds")),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["fund_pools.id"], name=op.f("fk_fund_allocations_pool_id_fund_pools")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_fund_allocations_programme_id_programmes")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_fund_allocations_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_allocations")),
    )
    with op.batch_alter_table("fund_allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_allocations_award_id"), ["award_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_allocations_contract_id"), ["contract_id"], unique=False)
        batch_op.create_index("ix_fund_allocations_fund_state", ["fund_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_allocations_programme_id"), ["programme_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_allocations_state"), ["state"], unique=False)

    op.create_table(
        "fund_allocation_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("allocation_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("step_name", sa.String(length=100), nullable=False),
        sa.Column(
            "decision",
            sa.Enum("approved", "rejected", name="stepdecision", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=False),
        sa.Column("decided_by_name", sa.String(length=254), nullable=False),
        sa.Column("decided_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decided_by <> requested_by", name=op.f("ck_fund_allocation_decisions_maker_checker")
        ),
        sa.ForeignKeyConstraint(
            ["allocation_id"],
            ["fund_allocations.id"],
            name=op.f("fk_fund_allocation_decisions_allocation_id_fund_allocations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_fund_allocation_decisions_decided_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_fund_allocation_decisions_requested_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_allocation_decisions")),
        sa.UniqueConstraint(
            "allocation_id", "seq", name=op.f("uq_fund_allocation_decisions_allocation_id_seq")
        ),
    )
    op.create_table(
        "fund_returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("fund_id", sa.Integer(), nullable=False),
        sa.Column("allocation_id", sa.Integer(), nullable=False),
        sa.Column("clawback_id", sa.Integer(), nullable=True),
        sa.Column("amount", core.db.Money(precision=14, scale=2), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=False),
        sa.Column("recorded_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_fund_returns_amount_positive")),
        sa.ForeignKeyConstraint(
            ["allocation_id"],
            ["fund_allocations.id"],
            name=op.f("fk_fund_returns_allocation_id_fund_allocations"),
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_fund_returns_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["clawback_id"], ["clawbacks.id"], name=op.f("fk_fund_returns_clawback_id_clawbacks")
        ),
        sa.ForeignKeyConstraint(["fund_id"], ["funds.id"], name=op.f("fk_fund_returns_fund_id_funds")),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_fund_returns_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_returns")),
        sa.UniqueConstraint(
            "allocation_id", "clawback_id", name=op.f("uq_fund_returns_allocation_id_clawback_id")
        ),
    )
    with op.batch_alter_table("fund_returns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_returns_allocation_id"), ["allocation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fund_returns_fund_id"), ["fund_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fund_returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_returns_fund_id"))
        batch_op.drop_index(batch_op.f("ix_fund_returns_allocation_id"))

    op.drop_table("fund_returns")
    op.drop_table("fund_allocation_decisions")
    with op.batch_alter_table("fund_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_allocations_state"))
        batch_op.drop_index(batch_op.f("ix_fund_allocations_programme_id"))
        batch_op.drop_index("ix_fund_allocations_fund_state")
        batch_op.drop_index(batch_op.f("ix_fund_allocations_contract_id"))
        batch_op.drop_index(batch_op.f("ix_fund_allocations_award_id"))

    op.drop_table("fund_allocations")
    with op.batch_alter_table("fund_receipts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_fund_receipts_receipt_no",
            sqlite_where=sa.text("receipt_no IS NOT NULL"),
            postgresql_where=sa.text("receipt_no IS NOT NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_fund_receipts_fund_id"))

    op.drop_table("fund_receipts")
    with op.batch_alter_table("fund_pools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_pools_fund_id"))

    op.drop_table("fund_pools")
    with op.batch_alter_table("fund_approval_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_approval_steps_fund_id"))

    op.drop_table("fund_approval_steps")
    with op.batch_alter_table("funds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_funds_community_id"))
        batch_op.drop_index(batch_op.f("ix_funds_centre_id"))

    op.drop_table("funds")
