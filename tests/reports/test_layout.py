"""Report builders read through repositories: no query construct in reports/ outside repository.py."""

from __future__ import annotations

import ast

from core.settings import PROJECT_ROOT

QUERY_CONSTRUCTS = {"select", "insert", "update", "delete", "text", "Select"}


def test_no_sql_outside_the_repository() -> None:
    offenders: list[str] = []
    for path in sorted((PROJECT_ROOT / "reports").glob("*.py")):
        if path.name == "repository.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                names = {alias.name for alias in node.names} & QUERY_CONSTRUCTS
                if names:
                    offenders.append(f"{path.name}:{node.lineno} imports {sorted(names)}")
            if isinstance(node, ast.Attribute) and node.attr == "execute":
                offenders.append(f"{path.name}:{node.lineno} executes a statement")
    assert offenders == []
