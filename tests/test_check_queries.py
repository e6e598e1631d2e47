"""The query check behind ``make lint``: SQL built outside a repository module fails it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "tools" / "check_queries.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_queries", CHECK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


check = _load()

OFFENDING = """\
import sqlalchemy as sa
from sqlalchemy import func, select as pick, text, update
from sqlalchemy.dialects.postgresql import insert


async def grant(session, Award):
    await session.execute(update(Award).where(Award.id == 1).values(state="granted"))
    rows = await session.execute(pick(Award))
    await session.execute(insert(Award).values(id=2))
    await session.execute(text("DELETE FROM awards"))
    await session.execute(sa.delete(Award))
    await session.execute("SELECT 1")
    await session.scalar(func.count(Award.id))
    await session.execute(Award.__table__.delete())
    return rows
"""

CLEAN = """\
from sqlalchemy import Index, func, text
from sqlalchemy.orm import selectinload

from grants.awards import repository

INDEX = Index("uq_open", "award_id", unique=True, postgresql_where=text("state = 'open'"))


async def grant(session, award_id, values):
    award = await repository.award_for_update(session, award_id)
    values.update({"state": "granted"})
    session.add(award)
    await session.delete(award)
    return func.coalesce, selectinload
"""


def _lines(found: list[object]) -> list[int]:
    return [violation.line for violation in found]  # type: ignore[attr-defined]


def test_every_query_construction_is_named_by_line() -> None:
    found = check.check_source(OFFENDING, "grants/awards/service.py")
    assert _lines(found) == [7, 8, 9, 10, 11, 12, 13, 14]
    assert str(found[0]).startswith("grants/awards/service.py:7: sqlalchemy update()")
    assert "raw SQL" in str(found[5])
    assert "func statement" in str(found[6])


def test_clean_module_passes() -> None:
    assert check.check_source(CLEAN, "grants/awards/service.py") == []


def test_repositories_and_tooling_may_build_queries() -> None:
    allowed = [
        "grants/awards/repository.py",
        "core/repository/jobs.py",
        "core/repository/__init__.py",
        "alembic/env.py",
        "tests/grants/test_x.py",
        "bench/__main__.py",
        "tools/i18n.py",
        "core/db.py",
    ]
    for name in allowed:
        assert check.is_allowed(Path(name)), name
    for name in [
        "grants/awards/service.py",
        "api/pages/shell.py",
        "core/jobs.py",
        "core/repository_extra.py",
    ]:
        assert not check.is_allowed(Path(name)), name


def test_command_fails_naming_file_and_line(tmp_path: Path) -> None:
    offender = tmp_path / "service.py"
    offender.write_text(OFFENDING, encoding="utf-8")
    clean = tmp_path / "clean.py"
    clean.write_text(CLEAN, encoding="utf-8")
    failed = subprocess.run(
        [sys.executable, str(CHECK), str(offender)], capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1
    assert f"{offender}:7:" in failed.stdout or "service.py:7:" in failed.stdout
    passed = subprocess.run(
        [sys.executable, str(CHECK), str(clean)], capture_output=True, text=True, check=False
    )
    assert passed.returncode == 0, passed.stdout


def test_the_project_builds_no_query_outside_its_repositories() -> None:
    assert [str(violation) for violation in check.check_paths([ROOT])] == []
