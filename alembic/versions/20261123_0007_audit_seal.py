"""audit chain sealed at commit

The audit chain gets an explicit order (``seq``) and each event a hash of its own content
(``content_hash``); the link becomes ``hash = sha256(prev_hash || content_hash)``. On
PostgreSQL a deferred constraint trigger seals a transaction's events at COMMIT under the
chain's advisory lock, so the lock is held for the commit only. Existing events are
re-linked in their old order (by id) under the new formula.

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-23 10:30:00
"""

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

import core.db
from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
LOCK_KEY = 7_270_001

_events = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("at", core.db.UTCDateTime(timezone=True)),
    sa.column("centre_id", sa.Integer()),
    sa.column("actor_id", sa.Integer()),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject_type", sa.String()),
    sa.column("subject_id", sa.String()),
    sa.column("before", sa.JSON()),
    sa.column("after", sa.JSON()),
    sa.column("content_hash", sa.String()),
    sa.column("seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)

# Accepts exactly one UPDATE: the seal of a not yet sealed event, changing nothing else.
APPEND_ONLY_PG = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND OLD.hash IS NULL AND NEW.seq IS NOT NULL
     AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only';
END $$ LANGUAGE plpgsql
"""

SEAL_PG = f"""
CREATE FUNCTION audit_events_seal() RETURNS trigger AS $$
DECLARE
  head_seq bigint;
  head_hash varchar(64);
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  -- a fresh snapshot after the lock: the previous holder's commit is visible
  SELECT seq, hash INTO head_seq, head_hash FROM audit_events
   WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
  head_seq := coalesce(head_seq, 0);
  head_hash := coalesce(head_hash, repeat('0', 64));
  UPDATE audit_events
     SET seq = head_seq + 1,
         prev_hash = head_hash,
         hash = encode(sha256(convert_to(head_hash || NEW.content_hash, 'UTF8')), 'hex')
   WHERE id = NEW.id AND seq IS NULL;
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""


def _content(row: Any) -> str:
    payload = {
        "at": row.at.astimezone(dt.UTC).isoformat(),
        "centre_id": row.centre_id,
        "actor_id": row.actor_id,
        "actor": row.actor,
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "before": row.before,
        "after": row.after,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _guard_off(pg: bool) -> None:
    if pg:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER USER")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")


def _guard_on(pg: bool) -> None:
    if pg:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER USER")
    else:
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    _guard_off(pg)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
    prev = GENESIS
    for seq, row in enumerate(bind.execute(sa.select(_events).order_by(_events.c.id)).all(), start=1):
        content = _sha(_content(row))
        link = _sha(prev + content)
        bind.execute(
            _events.update()
            .where(_events.c.id == row.id)
            .values(content_hash=content, seq=seq, prev_hash=prev, hash=link)
        )
        prev = link
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("content_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_seq"), ["seq"])
    _guard_on(pg)
    if pg:
        op.execute(APPEND_ONLY_PG)
        op.execute(SEAL_PG)
        op.execute(
            "CREATE CONSTRAINT TRIGGER audit_events_seal AFTER INSERT ON audit_events "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_events_seal()"
        )


def downgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    if pg:
        op.execute("DROP TRIGGER IF EXISTS audit_events_seal ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_seal()")
        op.execute(
            "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$ LANGUAGE plpgsql"
        )
    _guard_off(pg)
    # The earlier formula: the hash covers the content and the previous hash, chained by id.
    prev = GENESIS
    for row in bind.execute(sa.select(_events).order_by(_events.c.id)).all():
        canonical = json.loads(_content(row))
        canonical["prev_hash"] = prev
        link = _sha(json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
        bind.execute(_events.update().where(_events.c.id == row.id).values(prev_hash=prev, hash=link))
        prev = link
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_seq"), type_="unique")
        batch_op.drop_column("seq")
        batch_op.drop_column("content_hash")
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    _guard_on(pg)
