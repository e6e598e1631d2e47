"""one open rectification per award

Two staff putting one award into rectification at the same moment could each close "the
open one" and open their own. The service now replaces the open rectification by a
compare-and-set on its state; this index makes the database refuse a second open one.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "uq_rectifications_open",
        "rectifications",
        ["award_id"],
        unique=True,
        postgresql_where=sa.text("state = 'open'"),
        sqlite_where=sa.text("state = 'open'"),
    )


def downgrade() -> None:
    op.drop_index("uq_rectifications_open", table_name="rectifications")
