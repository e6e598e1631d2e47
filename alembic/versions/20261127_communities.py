"""communities: the street's communities and villages as records

Organisations, community needs and applications named their community in free text.
This revision makes a ``communities`` table (per centre, names unique within a centre),
creates one record for every distinct non-blank free-text value found on those three
tables (trimmed; a name ending in 村 is a village), and links each row to its record
through a new ``community_id`` (``target_community_id`` on applications). The free-text
columns stay for now, so nothing is lost and a downgrade restores the previous state.

Revision ID: communities
Revises: scheduler
Create Date: 2026-11-27 10:00:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

import core.db
from alembic import op

revision: str = "communities"
down_revision: str | None = "scheduler"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, free-text column, new link column)
SOURCES = (
    ("organisations", "community", "community_id"),
    ("community_needs", "community", "community_id"),
    ("applications", "target_community", "target_community_id"),
)


def _migrate_free_text() -> None:
    bind = op.get_bind()
    communities = sa.table(
        "communities",
        sa.column("id", sa.Integer),
        sa.column("centre_id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("kind", sa.String),
        sa.column("created_at", core.db.UTCDateTime()),
        sa.column("updated_at", core.db.UTCDateTime()),
    )
    names: set[tuple[int, str]] = set()
    for table, text_column, _link in SOURCES:
        rows = bind.execute(sa.text(f"SELECT DISTINCT centre_id, {text_column} FROM {table}"))
        for centre_id, value in rows:
            name = (value or "").strip()[:100]
            if name:
                names.add((centre_id, name))
    now = dt.datetime.now(dt.UTC)
    for centre_id, name in sorted(names):
        kind = "village" if name.endswith("村") else "community"
        bind.execute(
            communities.insert().values(
                centre_id=centre_id, name=name, kind=kind, created_at=now, updated_at=now
            )
        )
    ids = {
        (centre_id, name): community_id
        for community_id, centre_id, name in bind.execute(
            sa.text("SELECT id, centre_id, name FROM communities")
        )
    }
    for table, text_column, link in SOURCES:
        rows = bind.execute(sa.text(f"SELECT id, centre_id, {text_column} FROM {table}")).all()
        for row_id, centre_id, value in rows:
            name = (value or "").strip()[:100]
            if name:
                bind.execute(
                    sa.text(f"UPDATE {table} SET {link} = :community WHERE id = :id"),
                    {"community": ids[(centre_id, name)], "id": row_id},
                )


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("community", "village", name="communitykind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("created_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(households IS NULL OR households >= 0) AND (population IS NULL OR population >= 0)",
            name=op.f("ck_communities_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name=op.f("fk_communities_centre_id_centres")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_communities")),
        sa.UniqueConstraint("centre_id", "name", name=op.f("uq_communities_centre_id_name")),
    )
    op.create_index(op.f("ix_communities_centre_id"), "communities", ["centre_id"], unique=False)
    for table, _text, link in SOURCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(link, sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f"ix_{table}_{link}"), [link], unique=False)
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_{link}_communities"), "communities", [link], ["id"]
            )
    _migrate_free_text()


def downgrade() -> None:
    for table, _text, link in SOURCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f"fk_{table}_{link}_communities"), type_="foreignkey")
            batch_op.drop_index(batch_op.f(f"ix_{table}_{link}"))
            batch_op.drop_column(link)
    op.drop_index(op.f("ix_communities_centre_id"), table_name="communities")
    op.drop_table("communities")
