"""What pybabel does not do for the catalogues (`make messages` extracts and updates them).

python tools/i18n.py fill < pairs.tsv  # "english<TAB>中文" lines into the zh catalogue
                                       # ("context<TAB>english<TAB>中文" for a pgettext message)
python tools/i18n.py missing           # list msgids without a Chinese translation (fails if any)
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
ZH = ROOT / "core" / "locale" / "zh" / "LC_MESSAGES" / "messages.po"


def fill() -> None:
    with ZH.open("rb") as fp:
        catalog = read_po(fp, locale="zh")
    count = 0
    for line in sys.stdin.read().splitlines():
        if "\t" not in line:
            continue
        parts = line.split("\t")
        context, english, chinese = (
            (None, *parts) if len(parts) == 2 else (parts[0], parts[1], "\t".join(parts[2:]))
        )
        message = catalog.get(english, context=context)
        if message is not None:
            message.string = chinese
            count += 1
        else:
            print(f"not in catalogue: {english} (context {context})", file=sys.stderr)
    with ZH.open("wb") as fp:
        write_po(fp, catalog, omit_header=True, sort_output=True, no_location=True, width=0)
    print(f"filled {count}")


def missing() -> list[str]:
    with ZH.open("rb") as fp:
        catalog = read_po(fp, locale="zh")
    return [f"{m.context}\t{m.id}" if m.context else str(m.id) for m in catalog if m.id and not m.string]


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "missing"
    if command == "fill":
        fill()
    elif command == "missing":
        untranslated = missing()
        for msgid in untranslated:
            print(msgid)
        sys.exit(1 if untranslated else 0)
    else:
        sys.exit(f"unknown command {command!r}: fill or missing")
