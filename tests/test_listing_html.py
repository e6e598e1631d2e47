"""A list page's filter form and sortable column headers, written in Python
(``Listing.filter_form``, ``Listing.header``), print what the Jinja macros printed for the
same list: the same fields, options, chosen values, links and marks, the text escaped; the
links' query strings are ``urlencode``'s; and a time printed to the minute is strftime's."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest

from api.pages.escape import escape
from api.pages.listing import FilterField, Listing
from api.web import SHANGHAI, environment, local_time
from core.i18n import use_locale
from core.repository import PageParams
from core.repository.listing import SortOrder

MACROS = (Path(__file__).parent / "listing_macros_before.html").read_text(encoding="utf-8")
"""The macros as templates/web/_listing.html held them before they moved to Python."""

COLUMNS = {"number": "编号", "title": "项目名称 <b>", "requested": "申请金额"}
FIELDS = [
    FilterField("q", "标题、机构或编号"),
    FilterField("programme_id", "项目 & 计划", "id", [("7", "2026年“邻里<互助>”"), ("8", "Tea & 'cake'")]),
    FilterField("state", "状态", "choice", [("submitted", "已提交"), ("awarded", "已立项")]),
    FilterField("submitted_from", "提交日期起", "date"),
]


def _listing(raw: dict[str, str], sort: str, page_size: int = 50) -> Listing:
    order = SortOrder(sort.removeprefix("-"), sort.startswith("-"))
    return Listing(
        "/applications", COLUMNS, order, "-number", FIELDS, raw, page=PageParams(page_size=page_size)
    )


CASES = [
    ({}, "-number"),
    ({"q": "北路 & <西>\"'", "programme_id": "8", "state": "awarded"}, "requested"),
    ({"programme_id": "7", "submitted_from": "2026-03-01"}, "-title"),
]


def _normal(html: str) -> str:
    """Whitespace between tags aside, and quotes written either way an escape writes them."""
    return re.sub(r">\s+<", "><", html.replace("&#x27;", "&#39;").replace("&quot;", "&#34;")).strip()


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize(("raw", "sort"), CASES)
def test_the_form_and_headers_print_what_the_macros_printed(
    locale: str, raw: dict[str, str], sort: str
) -> None:
    listing = _listing({f.name: raw.get(f.name, "") for f in FIELDS}, sort, page_size=20)
    with use_locale(locale):
        macros = environment().from_string(MACROS).module
        assert _normal(str(listing.filter_form())) == _normal(str(macros.filter_form(listing)))  # type: ignore[attr-defined]
        for key in COLUMNS:
            for label, cls in ((None, ""), ("<Own> label", "num")):
                written = _normal(str(listing.header(key, label, cls)))
                assert written == _normal(str(macros.th(listing, key, label, cls)))  # type: ignore[attr-defined]
        form = str(listing.filter_form())
    assert ("全部" in form) is (locale == "zh")
    assert "<b>" not in form
    assert "&lt;互助&gt;" in form
    if raw.get("programme_id") == "8":
        assert '<option value="8" selected>Tea &amp; &#x27;cake&#x27;</option>' in form


@pytest.mark.parametrize(("raw", "sort"), CASES)
def test_a_link_carries_the_query_as_urlencode_writes_it(raw: dict[str, str], sort: str) -> None:
    listing = _listing({f.name: raw.get(f.name, "") for f in FIELDS}, sort, page_size=20)
    kept = {k: v for k, v in listing.raw.items() if v}
    if sort != "-number":
        kept["sort"] = sort
    kept["page_size"] = "20"
    assert listing.query == urlencode(kept)
    assert listing.page_url(3) == "/applications?" + urlencode({**kept, "page": "3"})
    assert listing.sort_url("title") == "/applications?" + urlencode(
        {**kept, "sort": "-title" if sort == "title" else "title"}
    )


def test_a_time_to_the_minute_is_what_strftime_writes() -> None:
    start = dt.datetime(1985, 1, 1, tzinfo=dt.UTC)  # Shanghai kept summer time from 1986 to 1991
    instants = [start + dt.timedelta(hours=37 * n, minutes=7 * n) for n in range(20_000)]
    instants += [
        dt.datetime(999, 12, 31, 23, 59, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC),
    ]
    shanghai = dt.timezone(dt.timedelta(hours=8))
    for instant in instants:
        local = instant.astimezone(SHANGHAI)
        assert local_time(instant) == local.strftime("%Y-%m-%d %H:%M"), instant
    assert local_time(dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC)) == "2027-01-01 00:00"
    assert local_time(dt.datetime(1988, 6, 1, 12, 0, tzinfo=dt.UTC)) == "1988-06-01 21:00"  # +9 in summer
    assert local_time(dt.datetime(2026, 6, 1, 12, 0, tzinfo=shanghai), "%H:%M") == "12:00"
    assert local_time(None) == ""


@pytest.mark.parametrize(
    "text",
    ["", "社区长者助餐服务", "Tea & 'cake'", "2026年“邻里<互助>”", 'a"b', "&amp;", "<<>>", "plain text 42"],
)
def test_escape_writes_what_html_escape_writes(text: str) -> None:
    assert escape(text) == html.escape(text)
