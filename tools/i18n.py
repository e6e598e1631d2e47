"""Catalogue upkeep: extract messages, update the .po files, fill translations from a TSV.

python tools/i18n.py update            # extract + update zh and en catalogues
python tools/i18n.py fill < pairs.tsv  # "english<TAB>中文" lines into the zh catalogue
python tools/i18n.py missing           # list msgids without a Chinese translation
python tools/i18n.py compile           # write .mo files (done by make)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "core" / "locale"
POT = LOCALE / "messages.pot"
PYBABEL = str(Path(sys.executable).parent / "pybabel")


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "messages.po"


def update() -> None:
    subprocess.run(
        [
            PYBABEL,
            "--quiet",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_",
            "-k",
            "N_",
            "-k",
            "gettext",
            "--no-location",
            "--omit-header",
            "--sort-output",
            "-o",
            str(POT),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    for lang in ("zh", "en"):
        path = po_path(lang)
        if not path.exists():
            subprocess.run(
                [PYBABEL, "--quiet", "init", "-i", str(POT), "-d", str(LOCALE), "-l", lang], check=True
            )
        subprocess.run(
            [
                PYBABEL,
                "--quiet",
                "update",
                "--no-fuzzy-matching",
                "--omit-header",
                "-i",
                str(POT),
                "-d",
                str(LOCALE),
                "-l",
                lang,
                "--ignore-obsolete",
            ],
            check=True,
        )


def fill() -> None:
    path = po_path("zh")
    with path.open("rb") as fp:
        catalog = read_po(fp, locale="zh")
    count = 0
    for line in sys.stdin.read().splitlines():
        if "\t" not in line:
            continue
        english, chinese = line.split("\t", 1)
        message = catalog.get(english)
        if message is not None:
            message.string = chinese
            count += 1
        else:
            print(f"not in catalogue: {english}", file=sys.stderr)
    with path.open("wb") as fp:
        write_po(fp, catalog, omit_header=True, sort_output=True, no_location=True, width=0)
    print(f"filled {count}")


def missing() -> list[str]:
    with po_path("zh").open("rb") as fp:
        catalog = read_po(fp, locale="zh")
    return [str(m.id) for m in catalog if m.id and not m.string]


def compile_all() -> None:
    for lang in ("zh", "en"):
        path = po_path(lang)
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=lang)
        with path.with_suffix(".mo").open("wb") as fp:
            write_mo(fp, catalog)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "update"
    if command == "update":
        update()
    elif command == "fill":
        fill()
    elif command == "missing":
        for msgid in missing():
            print(msgid)
    elif command == "compile":
        compile_all()
