"""one-time password links, owner invitations, notifications marked done

``one_time_links``: a password-reset link (made by an administrator or asked for on the
login page) is stored as the SHA-256 of its token, expires, and is used at most once.
``member_invitations.role``: centre staff invite an organisation's first owner.
``notifications.done_at``: what a notification asked for has been dealt with.

Revision ID: people
Revises: payee_bank
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op
from core.db import UTCDateTime

revision: str = "people"
down_revision: str | None = "funds"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "one_time_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum("password_reset", name="linkpurpose", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_one_time_links_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_one_time_links_issued_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_one_time_links_token_hash")),
    )
    op.create_index(op.f("ix_one_time_links_user_id"), "one_time_links", ["user_id"], unique=False)
    with op.batch_alter_table("member_invitations") as batch:
        batch.add_column(
            sa.Column(
                "role",
                sa.Enum("owner", "member", name="memberrole", native_enum=False, length=16),
                server_default="member",
                nullable=False,
            )
        )
    with op.batch_alter_table("notifications") as batch:
        batch.add_column(sa.Column("done_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_column("done_at")
    with op.batch_alter_table("member_invitations") as batch:
        batch.drop_column("role")
    op.drop_index(op.f("ix_one_time_links_user_id"), table_name="one_time_links")
    op.drop_table("one_time_links")
