"""organisations: the bank account grants are paid to (开户银行, 户名, 账号)

Finance's payment screen shows the payee's account beside the amount.

Revision ID: payee_bank
Revises: scheduler
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "payee_bank"
down_revision: str | None = "scheduler"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bank_name", sa.String(length=100), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("bank_account_name", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("bank_account_no", sa.String(length=40), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("bank_account_no")
        batch_op.drop_column("bank_account_name")
        batch_op.drop_column("bank_name")
