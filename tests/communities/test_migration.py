"""Free-text communities become records, linked from organisations, needs and applications."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from tests.test_migrations import _config

NOW = "2026-11-01 00:00:00.000000"


def test_free_text_communities_become_linked_records(tmp_path: Path) -> None:
    db = tmp_path / "communities.db"
    config = _config(f"sqlite+aiosqlite:///{db}")
    command.upgrade(config, "scheduler")
    connection = sqlite3.connect(db)
    connection.executemany(
        "INSERT INTO centres (id, slug, name, city, district, street, created_at, updated_at) "
        "VALUES (?, ?, ?, '', '', '', ?, ?)",
        [(1, "a", "甲中心", NOW, NOW), (2, "b", "乙中心", NOW, NOW)],
    )
    orgs = [
        (1, 1, "红枫志愿队", " 红枫社区 "),
        (2, 1, "银龄互助社", "红枫社区"),
        (3, 1, "田园合作社", "向阳村"),
        (4, 1, "无社区团队", "  "),
        (5, 2, "另一中心的队", "红枫社区"),
    ]
    connection.executemany(
        "INSERT INTO organisations (id, centre_id, name, kind, legal_status, service_fields, community, "
        "street, address, contact_name, contact_phone, contact_email, staff_count, volunteer_count, "
        "description, created_at, updated_at) VALUES (?, ?, ?, 'community_group', 'unregistered', '[]', ?, "
        "'', '', '', '', '', 0, 0, '', ?, ?)",
        [(*row, NOW, NOW) for row in orgs],
    )
    connection.execute(
        "INSERT INTO community_needs (id, centre_id, community, description, source, created_at, updated_at) "
        "VALUES (1, 1, '滨江社区', '老人助餐', '走访', ?, ?)",
        (NOW, NOW),
    )
    connection.commit()
    connection.close()

    command.upgrade(config, "communities")

    connection = sqlite3.connect(db)
    records = {
        (centre, name): (community_id, kind)
        for community_id, centre, name, kind in connection.execute(
            "SELECT id, centre_id, name, kind FROM communities"
        )
    }
    assert sorted(records) == [(1, "向阳村"), (1, "滨江社区"), (1, "红枫社区"), (2, "红枫社区")]
    assert records[(1, "向阳村")][1] == "village"
    assert records[(1, "红枫社区")][1] == "community"
    links = dict(connection.execute("SELECT id, community_id FROM organisations"))
    assert links[1] == links[2] == records[(1, "红枫社区")][0]
    assert links[3] == records[(1, "向阳村")][0]
    assert links[4] is None
    assert links[5] == records[(2, "红枫社区")][0]
    need = connection.execute("SELECT community_id FROM community_needs").fetchone()
    assert need[0] == records[(1, "滨江社区")][0]
    connection.close()

    command.downgrade(config, "scheduler")
    connection = sqlite3.connect(db)
    assert (
        connection.execute("SELECT community FROM organisations WHERE id = 1").fetchone()[0] == " 红枫社区 "
    )
    connection.close()
