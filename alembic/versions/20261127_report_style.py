"""official report style: per-centre style, document numbers per year and kind

Revision ID: report_style
Revises: scheduler
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import core.db

from alembic import op

revision: str = "report_style"
down_revision: str | None = "apply"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_styles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column(
            "style",
            sa.Enum("plain", "official", name="letterstyle", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("issuing_unit", sa.String(length=200), nullable=False),
        sa.Column("doc_prefix", sa.String(length=32), nullable=False),
        sa.Column("evaluating_body", sa.String(length=200), nullable=False),
        sa.Column("signatories", sa.JSON(), nullable=False),
        sa.Column("prefixes", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name=op.f("fk_report_styles_centre_id_centres")),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], name=op.f("fk_report_styles_updated_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_styles")),
        sa.UniqueConstraint("centre_id", name=op.f("uq_report_styles_centre_id")),
    )
    op.create_table(
        "report_number_counters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_report_number_counters_centre_id_centres")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_number_counters")),
        sa.UniqueConstraint("centre_id", "kind", "year", name="uq_report_number_counters_key"),
    )
    with op.batch_alter_table("report_number_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_number_counters_centre_id"), ["centre_id"], unique=False
        )
    with op.batch_alter_table("generated_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("doc_number", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_generated_reports_doc_number", ["centre_id", "doc_number"])


def downgrade() -> None:
    with op.batch_alter_table("generated_reports", schema=None) as batch_op:
        batch_op.drop_constraint("uq_generated_reports_doc_number", type_="unique")
        batch_op.drop_column("doc_number")
    with op.batch_alter_table("report_number_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_number_counters_centre_id"))
    op.drop_table("report_number_counters")
    op.drop_table("report_styles")
