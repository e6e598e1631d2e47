"""Unified social credit code (统一社会信用代码) per GB 32100-2015.

18 characters from ``0-9 A-H J-N P-R T U W X Y``; positions 9-17 are the GB 11714
organisation code with its own mod-11 check character; the 18th is a mod-31 check.
Written here rather than taken from python-stdnum, which rejects valid codes whose
organisation code part starts with a letter.
"""

from __future__ import annotations

from core.i18n import _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [pow(3, i, 31) for i in range(17)]
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]


def _org_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def organisation_code_check(body: str) -> str:
    """The GB 11714 check character for the 8-character organisation code body."""
    remainder = sum(_org_value(c) * w for c, w in zip(body, ORG_WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    return "X" if check == 10 else "0" if check == 11 else str(check)


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """``None`` for a valid code, otherwise the rule it breaks, in the user's language."""
    if len(code) != 18:
        return _("A unified social credit code has 18 characters (this one has {n})").format(n=len(code))
    bad = sorted({c for c in code if c not in ALPHABET})
    if bad:
        return _(
            "Characters not allowed in a unified social credit code: {chars} (never I, O, S, V or Z)"
        ).format(chars=" ".join(bad))
    org_body, org_check = code[8:16], code[16]
    if organisation_code_check(org_body) != org_check:
        return _("The organisation code in positions 9-17 fails its check character (GB 11714)")
    if check_character(code[:17]) != code[17]:
        return _("The last character is not the check character (GB 32100 mod-31 check)")
    return None


def normalise(code: str) -> str:
    return code.strip().upper()
