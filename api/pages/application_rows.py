"""The rows of the application list page, written in Python.

The list is the page the centre opens most, and its fifty rows of thirteen cells were two
thirds of its time in Jinja (each printed value is an attribute lookup, an escape and a
``Markup`` of its own). Here a row is one f-string with its text escaped once: the same
HTML, a fifth of the time. The table around the rows (caption, headers, the empty row)
stays in ``templates/web/applications/list.html``; ``tests/grants/test_lists.py`` holds
the rows to what the template printed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup

from api.pages.escape import escape
from api.web import local_time
from core.i18n import _
from core.money import format_money
from grants.applications.models import APPLICATION_STATE_LABELS, ApplicationState


def application_rows(items: Sequence[Any], *, can_bulk: bool, centres: Mapping[int, str]) -> Markup:
    """``<tr>`` per listed application (rows with the columns of ``LISTED_ROWS``): a tick box
    for a submitted one when ``can_bulk``, the centre when the reader spans several."""
    states = {state: escape(_(label)) for state, label in APPLICATION_STATE_LABELS.items()}
    tick = escape(_("Tick"))
    html: list[str] = []
    for a in items:
        number, title = a.id, escape(a.title)
        pick = ""
        if can_bulk:
            box = (
                f'<input type="checkbox" name="ids" value="{number}" id="pick-{number}"'
                f' aria-label="{tick} {title}">'
                if a.state == ApplicationState.submitted
                else ""
            )
            pick = f'<td class="pick">{box}</td>'
        centre = f'<td data-centre="{a.centre_id}">{escape(centres[a.centre_id])}</td>' if centres else ""
        score = "" if a.review_score is None else a.review_score
        html.append(
            f'    <tr data-application="{number}">\n'
            f"      {pick}<td>{number}</td>{centre}\n"
            f'      <td><a href="/applications/{number}">{title}</a></td>'
            f"<td>{escape(a.organisation_name)}</td><td>{escape(a.programme_name)}</td>\n"
            f"      <td>{escape(a.category_name or '')}</td><td>{escape(a.target_community)}</td>\n"
            f'      <td><span class="state">{states[a.state]}</span></td>'
            f'<td class="num">{escape(format_money(a.requested_amount))}</td>\n'
            f'      <td class="num">{score}</td><td class="num">{a.rank or ""}</td>\n'
            f"      <td>{local_time(a.submitted_at)}</td></tr>\n"
        )
    return Markup("".join(html))
