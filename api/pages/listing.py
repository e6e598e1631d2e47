"""The state of a list page — sort, filters, page — read from and written back to the URL.

A list page declares its sortable columns (key → label; the keys are its repository's
whitelist) and its filters; ``read_listing`` parses the query string into typed values,
refusing a bad one with a 422 that names the field in the user's language, and the
template macros in ``templates/web/_listing.html`` render the filter form, the sortable
column headers (links with ``aria-sort``), the active filters and the pager from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any, Literal, TypeVar
from urllib.parse import quote, quote_plus
from zoneinfo import ZoneInfo

from fastapi import Request
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from api.pages.escape import escape
from core.clock import today
from core.errors import ValidationFailed
from core.i18n import _
from core.identity import repository as identity_queries
from core.identity.principal import Principal
from core.repository import MAX_PAGE_SIZE, PageParams
from core.repository.listing import SortOrder

SHANGHAI = ZoneInfo("Asia/Shanghai")
E = TypeVar("E", bound=Enum)

FilterKind = Literal["text", "date", "choice", "id"]


@dataclass(frozen=True)
class FilterField:
    """One filter of a list: ``label`` is already translated; ``options`` are (value, label)."""

    name: str
    label: str
    kind: FilterKind = "text"
    options: Sequence[tuple[str, str]] = ()
    max_length: int = 100
    source: str = ""
    """For an ``id`` filter whose records are too many to offer at once: the chooser that
    searches them (``api.pages.choosers``); the form then has a search box for it, whose
    text (``search``) the page's options answer."""
    search: str = ""


@dataclass
class Listing:
    path: str
    columns: Mapping[str, str]
    order: SortOrder
    default_sort: str
    fields: Sequence[FilterField]
    raw: dict[str, str]
    typed: dict[str, Any] = field(default_factory=dict)
    page: PageParams = field(default_factory=PageParams)

    def _query(self, **changes: Any) -> dict[str, str]:
        query = {k: v for k, v in self.raw.items() if v}
        if self.order.param != self.default_sort:
            query["sort"] = self.order.param
        if self.page.page_size != PageParams().page_size:
            query["page_size"] = str(self.page.page_size)
        for key, value in changes.items():
            if value is None or value == "":
                query.pop(key, None)
            else:
                query[key] = str(value)
        return query

    def url(self, **changes: Any) -> str:
        query = self._query(**changes)
        return f"{self.path}?{_encoded(query)}" if query else self.path

    @property
    def query(self) -> str:
        """The filters and sort as a query string (for exports and bulk forms)."""
        return _encoded(self._query())

    def sort_url(self, key: str) -> str:
        """Sort by ``key``; clicking the current column again reverses it. Back to page 1."""
        descending = not self.order.descending if self.order.key == key else False
        return self.url(sort=f"-{key}" if descending else key, page=None)

    def aria_sort(self, key: str) -> str:
        if self.order.key != key:
            return "none"
        return "descending" if self.order.descending else "ascending"

    def mark(self, key: str) -> str:
        if self.order.key != key:
            return "↕"
        return "↓" if self.order.descending else "↑"

    def page_url(self, number: int) -> str:
        return self.url(page=number if number > 1 else None)

    @property
    def sort_description(self) -> str:
        direction = _("descending") if self.order.descending else _("ascending")
        return _("Sorted by {column}, {direction}").format(
            column=self.columns[self.order.key], direction=direction
        )

    @property
    def active_filters(self) -> list[tuple[str, str]]:
        shown = []
        for f in self.fields:
            value = self.raw.get(f.name, "")
            if value:
                shown.append((f.label, dict(f.options).get(value, value)))
        return shown

    @property
    def filtered(self) -> bool:
        return any(self.raw.get(f.name) for f in self.fields)

    # The filter form and the column headers are written here rather than in Jinja (the
    # macros of ``templates/web/_listing.html`` call these): a list page prints a header per
    # column and an option per programme or centre, and in Jinja each printed value was an
    # attribute lookup, an escape and a ``Markup`` of its own, a fifth of the page's time.

    def filter_form(self, form_id: str = "filters") -> Markup:
        """The filter form: a field per filter, the sort kept when it is not the default."""
        parts = [
            f'<form method="get" class="card filters" action="{escape(self.path)}" id="{escape(form_id)}"'
            f' role="search" aria-label="{escape(_("Filter the list"))}">\n'
        ]
        every = escape(_("All"))
        for f in self.fields:
            name = escape(f.name)
            raw = escape(self.raw.get(f.name, ""))
            parts.append(f'  <div class="field">\n    <label for="flt-{name}">{escape(f.label)}</label>\n')
            if f.source:
                parts.append(
                    f'    <input type="search" id="flt-{name}-q" name="{name}_q" value="{escape(f.search)}"'
                    f' maxlength="100" aria-label="{escape(_("Search: {label}").format(label=f.label))}"'
                    f' placeholder="{escape(_("Type a name or number"))}" data-chooser="{escape(f.source)}"'
                    f' data-chooser-for="flt-{name}">\n'
                )
            if f.kind in ("choice", "id"):
                chosen = self.raw.get(f.name)
                options = "".join(
                    f'<option value="{escape(value)}" {"selected" if chosen == value else ""}>'
                    f"{escape(text)}</option>"
                    for value, text in f.options
                )
                parts.append(
                    f'    <select id="flt-{name}" name="{name}">\n'
                    f'      <option value="">{every}</option>\n      {options}\n    </select>\n'
                )
            elif f.kind == "date":
                parts.append(f'    <input id="flt-{name}" name="{name}" type="date" value="{raw}">\n')
            else:
                parts.append(
                    f'    <input id="flt-{name}" name="{name}" type="search"'
                    f' maxlength="{f.max_length}" value="{raw}">\n'
                )
            parts.append("  </div>\n")
        sorted_otherwise = self.order.param != self.default_sort
        if sorted_otherwise:
            parts.append(f'  <input type="hidden" name="sort" value="{escape(self.order.param)}">\n')
        button = escape(_("Filter"))
        parts.append(f'  <div class="filter-buttons"><button type="submit" class="primary">{button}</button>')
        if self.filtered:
            keep = f"?sort={escape(quote(self.order.param, safe='/'))}" if sorted_otherwise else ""
            parts.append(
                f'\n    <a class="button" href="{escape(self.path)}{keep}">{escape(_("Clear filters"))}</a>'
            )
        parts.append("</div>\n</form>\n")
        return Markup("".join(parts))

    def header(self, key: str, label: str | None = None, cls: str = "") -> Markup:
        """A sortable column's ``<th>``: a link that sorts by it (again: the other way)."""
        return Markup(
            f'<th scope="col" aria-sort="{self.aria_sort(key)}" class="sortable {escape(cls)}">'
            f'<a href="{escape(self.sort_url(key))}" data-sort="{escape(key)}">'
            f'{escape(label or self.columns[key])}<span class="sort-mark" aria-hidden="true">'
            f"{self.mark(key)}</span></a></th>\n"
        )


def _encoded(query: Mapping[str, str]) -> str:
    return "&".join(_pair(k, v) for k, v in query.items())


@lru_cache(maxsize=4096)
def _pair(key: str, value: str) -> str:
    """``key=value`` of a query string, as ``urlencode`` writes it: a list page links each
    sortable column and the pages with the same filters, and quoting them again for every
    link was a tenth of the page's time."""
    return f"{quote_plus(key)}={quote_plus(value)}"


def _refuse(name: str, label: str, message: str) -> ValidationFailed:
    return ValidationFailed.field(name, f"{label}: {message}")


def _typed(f: FilterField, value: str) -> Any:
    if not value:
        return None
    if f.kind == "text":
        return value[: f.max_length]
    if f.kind == "date":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise _refuse(f.name, f.label, _("Must be a date such as 2026-03-01")) from None
    if f.kind == "id":
        if not value.isdigit() or len(value) > 12:
            raise _refuse(f.name, f.label, _("Not one of the allowed values"))
        return int(value)
    if value not in {v for v, _label in f.options}:
        raise _refuse(f.name, f.label, _("Not one of the allowed values"))
    return value


def read_listing(
    request: Request,
    columns: Mapping[str, str],
    default_sort: str,
    fields: Sequence[FilterField],
    *,
    sortable: Mapping[str, Any],
) -> Listing:
    """The list's state from the query string; ``sortable`` is the repository's whitelist."""
    params = request.query_params
    raw = {f.name: (params.get(f.name) or "").strip()[: max(f.max_length, 20)] for f in fields}
    order = SortOrder.parse(params.get("sort"), sortable, default_sort)
    if order.key not in columns:
        raise ValidationFailed.field("sort", _("Sort: this column cannot be sorted"))
    typed = {f.name: _typed(f, raw[f.name]) for f in fields}
    page = _page(params.get("page"), params.get("page_size"))
    return Listing(request.url.path, columns, order, default_sort, fields, raw, typed, page)


async def centre_names(session: AsyncSession, principal: Principal) -> dict[int, str]:
    """The centres a reader's lists span, by id, when there is more than one (a district
    reader or an administrator of several centres): the lists then show each row's centre
    and filter by it. Empty for a reader of one centre, whose lists need neither."""
    if not principal.sees_all_centres:
        return {}
    centres = await identity_queries.list_centres(session)
    return {c.id: c.name for c in centres} if len(centres) > 1 else {}


def centre_filter(names: Mapping[int, str]) -> list[FilterField]:
    """The centre filter (``centre_id`` in the URL) for a reader of several centres."""
    if not names:
        return []
    return [FilterField("centre_id", _("Centre"), "id", [(str(i), n) for i, n in names.items()])]


def _page(page: str | None, size: str | None) -> PageParams:
    number = int(page) if page and page.isdigit() and 0 < int(page) <= 100_000 else 1
    per_page = int(size) if size and size.isdigit() and 0 < int(size) <= MAX_PAGE_SIZE else 50
    return PageParams(page=number, page_size=per_page)


def enum_or_none(enum: type[E], value: str | None) -> E | None:
    return enum(value) if value else None


def day_start(day: dt.date | None) -> dt.datetime | None:
    """The first instant of a Shanghai day, for filtering timestamps stored in UTC."""
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(0), SHANGHAI).astimezone(dt.UTC)


def day_after(day: dt.date | None) -> dt.datetime | None:
    return day_start(day + dt.timedelta(days=1)) if day is not None else None


def selected_ids(values: Sequence[Any], limit: int = 200) -> list[int]:
    """The record numbers ticked in a bulk form: digits only, each once, at most ``limit``."""
    ids: list[int] = []
    for value in values:
        text = str(value)
        if text.isdigit() and len(text) <= 12 and int(text) not in ids:
            ids.append(int(text))
    return ids[:limit]


def xlsx_response_headers(stem: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{stem}-{today().isoformat()}.xlsx"'}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LIMIT = 10_000
