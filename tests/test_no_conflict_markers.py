"""No merge left its conflict markers in a tracked file (a CSS file once kept them unnoticed)."""

from __future__ import annotations

import re
import subprocess

from core.settings import PROJECT_ROOT

MARKER = re.compile(rb"^(<{7} |>{7} |={7}$)", re.MULTILINE)


def test_no_tracked_file_holds_conflict_markers() -> None:
    files = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    marked = []
    for name in files:
        path = PROJECT_ROOT / name
        if path.suffix in {".png", ".pdf", ".mo", ".ttf", ".woff2", ".ico", ".xlsx"} or not path.is_file():
            continue
        if MARKER.search(path.read_bytes()):
            marked.append(name)
    assert marked == []
