"""an administrator never holds finance or staff

SPEC §1: an account never holds ``admin`` together with ``finance`` or ``staff``. The
service refuses it; this trigger on ``user_roles`` makes the database refuse it too, for
whatever writes the table around the service. It checks the account's roles after each
inserted or changed row, so removing ``admin`` and then adding ``finance`` passes, while
the other order does not.

On PostgreSQL the trigger first locks the account's ``users`` row: two transactions that
add ``admin`` and ``finance`` to one account at the same moment are checked one after the
other, and the second sees the first's role. SQLite has a single writer already.

Accounts that already hold both stop the upgrade with their emails: which role to take
away is a person's decision, not a migration's. (On SQLite a later ``batch_alter_table`` of
``user_roles`` recreates the table and must create these triggers again.)

Revision ID: duties
Revises: 0008
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "duties"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "user_roles: an administrator never holds finance or staff"
HOLDS_BOTH = """
EXISTS (SELECT 1 FROM user_roles WHERE user_id = NEW.user_id AND role = 'admin')
AND EXISTS (SELECT 1 FROM user_roles WHERE user_id = NEW.user_id AND role IN ('finance', 'staff'))
"""

ADMIN_APART_PG = f"""
CREATE FUNCTION user_roles_admin_apart() RETURNS trigger AS $$
BEGIN
  PERFORM 1 FROM users WHERE id = NEW.user_id FOR NO KEY UPDATE;
  -- a fresh snapshot after the lock: a concurrent grant that committed meanwhile is visible
  IF {HOLDS_BOTH} THEN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""


def _refuse_existing_violations() -> None:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT users.email FROM users WHERE "
            "EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = users.id AND r.role = 'admin') "
            "AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = users.id "
            "AND r.role IN ('finance', 'staff')) ORDER BY users.email"
        )
    )
    emails = [row[0] for row in rows]
    if emails:
        raise RuntimeError(
            "These accounts hold admin together with finance or staff, which Seedbed no longer "
            "allows: " + ", ".join(emails) + ". Take away one side (PATCH /api/v1/users/{id} by "
            "another administrator, or in the database) and run the upgrade again."
        )


def upgrade() -> None:
    _refuse_existing_violations()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(ADMIN_APART_PG)
        op.execute(
            "CREATE TRIGGER user_roles_admin_apart AFTER INSERT OR UPDATE ON user_roles "
            "FOR EACH ROW EXECUTE FUNCTION user_roles_admin_apart()"
        )
    else:
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER user_roles_admin_apart_{event.lower()} AFTER {event} ON user_roles "
                f"WHEN {HOLDS_BOTH} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS user_roles_admin_apart ON user_roles")
        op.execute("DROP FUNCTION IF EXISTS user_roles_admin_apart()")
    else:
        op.execute("DROP TRIGGER IF EXISTS user_roles_admin_apart_insert")
        op.execute("DROP TRIGGER IF EXISTS user_roles_admin_apart_update")
