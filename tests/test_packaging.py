"""Every top-level package of the project is installed and copied into the image."""

from __future__ import annotations

import tomllib

from core.settings import PROJECT_ROOT

NOT_SHIPPED = {"tests", "bench", "tools", "alembic"}


def _packages() -> set[str]:
    return {
        path.parent.name
        for path in PROJECT_ROOT.glob("*/__init__.py")
        if path.parent.name not in NOT_SHIPPED and not path.parent.name.startswith(".")
    }


def test_every_package_is_installed() -> None:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert sorted(p for p in _packages() if f"{p}*" not in include) == []


def test_every_package_is_copied_into_the_image() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert sorted(p for p in _packages() if f"COPY {p} {p}" not in dockerfile) == []
