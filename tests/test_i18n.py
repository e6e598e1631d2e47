"""Every message has a Chinese translation; language negotiation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core.i18n import LOCALE_DIR, gettext, negotiate, use_locale
from core.settings import PROJECT_ROOT


def test_every_message_in_the_code_has_a_chinese_translation(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            str(Path(sys.executable).parent / "pybabel"),
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
            "-o",
            str(pot),
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
    )
    with pot.open("rb") as fp:
        extracted = {str(m.id) for m in read_po(fp) if m.id}
    with (LOCALE_DIR / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        catalogue = read_po(fp, locale="zh")
    translated = {str(m.id) for m in catalogue if m.id and m.string}
    assert sorted(extracted - translated) == []


def test_chinese_by_default_english_on_request() -> None:
    assert negotiate(None) == "zh"
    assert negotiate("en-US,en;q=0.9") == "en"
    assert negotiate("fr-FR, en;q=0.5, zh-CN;q=0.8") == "zh"
    assert negotiate("en", preferred="zh") == "zh"
    with use_locale("zh"):
        assert gettext("Dashboard") == "工作台"
    with use_locale("en"):
        assert gettext("Dashboard") == "Dashboard"


@pytest.mark.parametrize(
    ("msgid", "chinese"),
    [
        ("Due", "应拨付"),  # a tranche or milestone waiting to be paid
        ("Due by", "截止时间"),  # a review deadline
        ("Granted", "资助金额"),
        ("Final evaluation", "结项评估"),
        ("Total", "合计"),
        ("Total score", "总分"),
        ("Under way", "执行中"),
        ("Rejected by finance", "已驳回"),
        ("Approved", "已立项"),
        ("Actions", "操作"),
    ],
)
def test_words_that_mean_different_things_keep_their_meaning(msgid: str, chinese: str) -> None:
    with use_locale("zh"):
        assert gettext(msgid) == chinese
