"""organisation list index: a centre's organisations by stage and legal status, in name order

Revision ID: organisation_list
Revises: people
Create Date: 2026-11-27 23:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "organisation_list"
down_revision: str | None = "people"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_organisations_centre_stage_legal_name",
            ["centre_id", "incubation_state", "legal_status", "name", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index("ix_organisations_centre_stage_legal_name")
