"""objection references for the public lookup; a publicity contact per programme

An objection gets a random reference (not its id) that the objector can look up on the
public page; a programme names who the public reaches about its publicity (公示).

Revision ID: apply
Revises: scheduler
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "apply"
down_revision: str | None = "payee_bank"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=20), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_objections_reference"), ["reference"])
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("publicity_contact", sa.String(length=200), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.drop_column("publicity_contact")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_objections_reference"), type_="unique")
        batch_op.drop_column("reference")
