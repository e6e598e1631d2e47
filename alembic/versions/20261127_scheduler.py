"""job runs: origin (schedule or manual) and who asked for a manual run

A leader's catch-up reads the newest *scheduled* slot of each job, so a manual run does
not hide scheduled slots that were missed before it. The new statuses (``interrupted``,
``skipped``) fit the existing 16-character column.

Revision ID: scheduler
Revises: duties
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "scheduler"
down_revision: str | None = "duties"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "origin",
                sa.Enum("schedule", "manual", name="runorigin", native_enum=False, length=16),
                server_default="schedule",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("requested_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_job_runs_requested_by_id_users"), "users", ["requested_by_id"], ["id"], ondelete="SET NULL"
        )


def downgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_job_runs_requested_by_id_users"), type_="foreignkey")
        batch_op.drop_column("requested_by_id")
        batch_op.drop_column("origin")
