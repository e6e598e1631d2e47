"""The application list's rows, written in Python (``api.pages.application_rows``), print
what the list template printed for the same rows: the same cells in the same order, the
text escaped, the tick box only for a submitted application on a bulk-capable list, the
centre only for a reader of several centres, in Chinese and in English."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from api.pages.application_rows import application_rows
from api.pages.grant_pages import grant_labels
from api.web import environment
from core.i18n import use_locale
from grants.applications.models import ApplicationState

# The loop as templates/web/applications/list.html printed it before the rows moved to Python.
TEMPLATE = "\n".join(
    [
        "{% for a in items %}",
        '<tr data-application="{{ a.id }}">',
        '{% if can_bulk %}<td class="pick">',
        "{% if a.state == 'submitted' %}",
        '<input type="checkbox" name="ids" value="{{ a.id }}" id="pick-{{ a.id }}"'
        " aria-label=\"{{ _('Tick') }} {{ a.title }}\">",
        "{% endif %}</td>{% endif %}",
        "<td>{{ a.id }}</td>",
        '{% if centres %}<td data-centre="{{ a.centre_id }}">{{ centres[a.centre_id] }}</td>{% endif %}',
        '<td><a href="/applications/{{ a.id }}">{{ a.title }}</a></td>',
        "<td>{{ a.organisation_name }}</td><td>{{ a.programme_name }}</td>",
        "<td>{{ a.category_name or '' }}</td><td>{{ a.target_community }}</td>",
        '<td><span class="state">{{ app_state_label[a.state] }}</span></td>',
        '<td class="num">{{ a.requested_amount|money }}</td>',
        "<td class=\"num\">{{ a.review_score if a.review_score is not none else '' }}</td>",
        "<td class=\"num\">{{ a.rank or '' }}</td>",
        "<td>{{ a.submitted_at|local_time }}</td></tr>",
        "{% endfor %}",
    ]
)


def _row(number: int, state: ApplicationState, **changes: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "id": number,
        "centre_id": 1,
        "title": "“邻里<互助>” & 'Tea' 项目",
        "organisation_name": "阳光 & 志愿服务社 <b>",
        "programme_name": "2026年公益创投（第1期）",
        "category_name": "为老服务",
        "target_community": "北路社区",
        "state": state,
        "requested_amount": Decimal("1234567.50"),
        "review_score": Decimal("87.25"),
        "rank": 3,
        "submitted_at": dt.datetime(2026, 11, 1, 16, 30, tzinfo=dt.UTC),
    }
    values.update(changes)
    return SimpleNamespace(**values)


ROWS = [
    _row(7, ApplicationState.submitted),
    _row(8, ApplicationState.awarded, category_name=None, review_score=None, rank=None, submitted_at=None),
    _row(9, ApplicationState.draft, centre_id=2, requested_amount=Decimal("0.00"), review_score=Decimal("0")),
]


def _normalised(html: str) -> str:
    """Whitespace between tags and the spelling of the two quote entities aside."""
    html = html.replace("&#39;", "&#x27;").replace("&#34;", "&quot;")
    return re.sub(r">\s+<", "><", html).strip()


@pytest.mark.parametrize("locale", ["zh", "en"])
@pytest.mark.parametrize("can_bulk", [True, False])
@pytest.mark.parametrize("centres", [{}, {1: "北路街道<中心>", 2: "南湖 & 中心"}])
def test_rows_print_what_the_template_printed(locale: str, can_bulk: bool, centres: dict[int, str]) -> None:
    with use_locale(locale):
        expected = (
            environment()
            .from_string(TEMPLATE)
            .render(items=ROWS, can_bulk=can_bulk, centres=centres, **grant_labels())
        )
        written = str(application_rows(ROWS, can_bulk=can_bulk, centres=centres))
    assert _normalised(written) == _normalised(expected)
    assert "<b>" not in written
    assert "&lt;互助&gt;" in written
    assert written.count('type="checkbox"') == (1 if can_bulk else 0)
    assert written.count("data-centre=") == (3 if centres else 0)
