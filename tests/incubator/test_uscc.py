from __future__ import annotations

import pytest

from core.i18n import use_locale
from incubator.uscc import uscc_problem


@pytest.mark.parametrize("code", ["52440106MJL0K3T50W", "91512081MA62K0260E"])
def test_valid_codes(code: str) -> None:
    assert uscc_problem(code) is None


def test_forbidden_letter_is_named() -> None:
    with use_locale("en"):
        assert uscc_problem("91350100M000100Y4Z") == (
            "Characters not allowed in a unified social credit code: Z (never I, O, S, V or Z)"
        )


def test_each_rule_says_what_failed() -> None:
    with use_locale("zh"):
        assert "18" in (uscc_problem("5244010") or "")
        # a changed organisation-code check character (position 17)
        assert "GB 11714" in (uscc_problem("52440106MJL0K3T51W") or "")
        # a changed final check character
        assert "GB 32100" in (uscc_problem("52440106MJL0K3T50X") or "")
