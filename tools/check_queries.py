"""Every query lives in a repository module: fail on SQL built anywhere else.

``python tools/check_queries.py [PATH ...]`` walks the Python files under the given paths
(the repository root by default) and prints ``file:line: message`` for each query built
outside a repository, exiting 1 if there is any. ``make lint`` runs it.

What counts as building a query (AST, so aliases and attribute access are seen too):

- a call of ``select``, ``insert``, ``update``, ``delete``, ``text``, ``union``,
  ``union_all``, ``intersect``, ``except_``, ``exists`` or ``lateral`` imported from
  ``sqlalchemy``, ``sqlalchemy.sql``, ``sqlalchemy.sql.expression``, ``sqlalchemy.future``
  or any ``sqlalchemy.dialects.*`` module (``from sqlalchemy import select as s``,
  ``import sqlalchemy as sa; sa.select(...)`` and ``postgresql.insert(...)`` alike);
- ``Model.__table__.select()/insert()/update()/delete()``;
  (``text()`` given as a keyword argument — ``postgresql_where=text(…)`` in a table's
  indexes — is a schema clause, not a statement, and is not counted);
- ``.execute()``, ``.scalar()``, ``.scalars()``, ``.stream()``, ``.stream_scalars()`` or
  ``.exec_driver_sql()`` given a string (raw SQL) or a ``func.…`` call used as a statement.

Where queries may be built:

- a module named ``repository.py``, or any module inside a package named ``repository``
  (so one domain keeps one ``repository.py`` and a folder of modules, such as
  ``core/repository/``, holds the queries of modules that are not packages of their own:
  ``core/jobs.py`` → ``core/repository/jobs.py``, ``core/audit.py`` →
  ``core/repository/audit.py``; ``core.repository`` itself is the generic base);
- ``alembic/``, ``tests/``, ``bench/``, ``tools/`` — migrations, tests, benchmarks and
  tooling talk to the database directly by design;
- ``core/db.py`` — engine and session plumbing only: the SQLite pragmas and ``BEGIN``
  it sends are connection set-up, not queries of the domain.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

QUERY_NAMES = frozenset(
    {
        "select",
        "insert",
        "update",
        "delete",
        "text",
        "union",
        "union_all",
        "intersect",
        "except_",
        "exists",
        "lateral",
    }
)
SUBMODULES = frozenset({"dialects", "postgresql", "sqlite", "mysql", "sql", "future", "expression"})
TABLE_METHODS = frozenset({"select", "insert", "update", "delete"})
EXECUTING_METHODS = frozenset({"execute", "scalar", "scalars", "stream", "stream_scalars", "exec_driver_sql"})
QUERY_MODULES = ("sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression", "sqlalchemy.future")

ALLOWED_DIRS = frozenset({"alembic", "tests", "bench", "tools"})
ALLOWED_FILES = frozenset({"core/db.py"})
# Temporary: reports/ is being moved to its repositories on another
# branch. Remove the entry once the package is clean.
TEMPORARILY_ALLOWED_DIRS = frozenset({"reports"})
SKIPPED_DIRS = frozenset({".venv", ".git", "var", "node_modules", "__pycache__", "build", "dist"})


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _is_query_module(module: str) -> bool:
    return (
        module in QUERY_MODULES
        or module == "sqlalchemy.dialects"
        or module.startswith("sqlalchemy.dialects.")
    )


class _Finder(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.constructors: dict[str, str] = {}  # local name -> sqlalchemy construct
        self.modules: set[str] = set()  # local names bound to sqlalchemy (sub)modules
        self.func_names: set[str] = set()  # local names bound to sqlalchemy.func
        self.found: list[Violation] = []

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "sqlalchemy" or alias.name.startswith("sqlalchemy."):
                if alias.asname:
                    self.modules.add(alias.asname)
                else:
                    self.modules.add("sqlalchemy")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if module == "sqlalchemy" or module.startswith("sqlalchemy."):
            for alias in node.names:
                local = alias.asname or alias.name
                if _is_query_module(module) and alias.name in QUERY_NAMES:
                    self.constructors[local] = alias.name
                elif alias.name == "func":
                    self.func_names.add(local)
                elif alias.name in SUBMODULES:
                    # ``from sqlalchemy.dialects import postgresql`` binds a module.
                    self.modules.add(local)
        self.generic_visit(node)

    def _root_name(self, node: ast.expr) -> str | None:
        while isinstance(node, ast.Attribute):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    def _is_func_call(self, node: ast.expr) -> bool:
        if not isinstance(node, ast.Call):
            return False
        target = node.func
        while isinstance(target, ast.Attribute):
            if isinstance(target.value, ast.Name) and target.value.id in self.func_names:
                return True
            if (
                isinstance(target.value, ast.Attribute)
                and target.value.attr == "func"
                and self._root_name(target.value) in self.modules
            ):
                return True
            target = target.value
        return False

    def _flag(self, node: ast.AST, message: str) -> None:
        self.found.append(Violation(self.path, getattr(node, "lineno", 0), message))

    def visit_keyword(self, node: ast.keyword) -> None:
        # ``postgresql_where=text(...)``, ``server_default=text(...)``: a schema clause of a
        # table definition, not a statement (a statement is always passed positionally).
        value = node.value
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and self.constructors.get(value.func.id) == "text"
        ):
            for argument in value.args:
                self.visit(argument)
            return
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        target = node.func
        if isinstance(target, ast.Name) and target.id in self.constructors:
            self._flag(node, f"sqlalchemy {self.constructors[target.id]}() outside a repository module")
        elif isinstance(target, ast.Attribute):
            root = self._root_name(target.value)
            if target.attr in QUERY_NAMES and root in self.modules:
                self._flag(node, f"sqlalchemy {target.attr}() outside a repository module")
            elif (
                target.attr in TABLE_METHODS
                and isinstance(target.value, ast.Attribute)
                and target.value.attr == "__table__"
            ):
                self._flag(node, f"__table__.{target.attr}() outside a repository module")
            elif target.attr in EXECUTING_METHODS and node.args:
                statement = node.args[0]
                if isinstance(statement, ast.Constant | ast.JoinedStr) and (
                    isinstance(statement, ast.JoinedStr) or isinstance(statement.value, str)
                ):
                    self._flag(node, f".{target.attr}() of raw SQL outside a repository module")
                elif self._is_func_call(statement):
                    self._flag(node, f".{target.attr}() of a func statement outside a repository module")
        self.generic_visit(node)


def check_source(source: str, path: str = "<source>") -> list[Violation]:
    """The query constructions of one module's source (allowance is decided by the caller)."""
    finder = _Finder(path)
    finder.visit(ast.parse(source, filename=path))
    return finder.found


def is_allowed(relative: Path) -> bool:
    parts = relative.parts
    if not parts:
        return False
    if parts[0] in ALLOWED_DIRS or parts[0] in TEMPORARILY_ALLOWED_DIRS:
        return True
    if relative.as_posix() in ALLOWED_FILES:
        return True
    return relative.name == "repository.py" or "repository" in parts[:-1]


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file() and path.suffix == ".py":
            yield path
        elif path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_dir() and (child.name in SKIPPED_DIRS or child.name.startswith(".")):
                    continue
                yield from python_files([child])


def check_paths(paths: Iterable[Path], root: Path = ROOT) -> list[Violation]:
    found: list[Violation] = []
    for path in python_files(paths):
        resolved = path.resolve()
        try:
            relative = resolved.relative_to(root)
        except ValueError:
            relative = Path(path)
        if is_allowed(relative):
            continue
        found.extend(check_source(resolved.read_text(encoding="utf-8"), relative.as_posix()))
    return found


def main(argv: list[str]) -> int:
    paths = [Path(arg) for arg in argv] or [ROOT]
    found = check_paths(paths)
    for violation in found:
        print(violation)
    if found:
        print(
            f"query constructions outside repository modules: {len(found)}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
