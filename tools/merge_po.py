"""Resolve a merge conflict in the catalogues: keep every translation from both sides.

python tools/merge_po.py   # during a conflicted merge; then `git add core/locale`
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import i18n  # noqa: E402


def side(stage: int, path: str) -> dict[str, str]:
    blob = subprocess.run(
        ["git", "show", f":{stage}:{path}"], cwd=ROOT, capture_output=True, check=False
    ).stdout
    if not blob:
        return {}
    catalog = read_po(io.BytesIO(blob), locale="zh")
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def main() -> None:
    zh = "core/locale/zh/LC_MESSAGES/messages.po"
    # Ours win: a branch only adds messages; a translation changed here must not be undone.
    translations = {**side(3, zh), **side(2, zh)}
    for lang in ("zh", "en"):
        i18n.po_path(lang).unlink(missing_ok=True)
    i18n.POT.unlink(missing_ok=True)
    i18n.update()
    path = i18n.po_path("zh")
    with path.open("rb") as fp:
        catalog = read_po(fp, locale="zh")
    for message in catalog:
        if message.id and str(message.id) in translations:
            message.string = translations[str(message.id)]
    with path.open("wb") as fp:
        write_po(fp, catalog, omit_header=True, sort_output=True, no_location=True, width=0)
    for msgid in i18n.missing():
        print("untranslated:", msgid)


if __name__ == "__main__":
    main()
