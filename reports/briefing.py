"""Centre monthly briefing (月度简报) on the data every centre has: its users and audit log.

Other domains add their sections (organisations admitted, awards, disbursements) later by
registering a richer kind from ``api/``; this one keeps the machinery real meanwhile.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import NotFound
from core.i18n import N_, _
from core.identity import repository as identity
from core.identity.models import ROLE_LABELS, Role
from core.repository import audit as audit_queries
from reports import charts
from reports.kinds import SHANGHAI, ReportKind, register_kind
from reports.models import ScopeType

KIND_CODE = "centre_monthly"
EVENT_ROWS_LIMIT = 5000


def month_bounds(period: str) -> tuple[dt.datetime, dt.datetime]:
    """A ``YYYY-MM`` month in Asia/Shanghai as a half-open UTC interval."""
    year, month = (int(part) for part in period.split("-"))
    start = dt.datetime(year, month, 1, tzinfo=SHANGHAI)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=SHANGHAI)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def period_label(period: str) -> str:
    year, month = period.split("-")
    return _("{year}-{month}").format(year=year, month=int(month))


async def build_monthly_briefing(session: AsyncSession, scope_id: int, period: str) -> dict[str, Any]:
    centre = await identity.centre_by_id(session, scope_id)
    if centre is None:
        raise NotFound(_("Centre not found"))
    start, end = month_bounds(period)

    events = await audit_queries.events_between(session, centre.id, start, end, EVENT_ROWS_LIMIT + 1)
    total_events = await audit_queries.count_between(session, centre.id, start, end)
    by_action = Counter(event.action for event in events)

    role_counts = await identity.active_users_by_role(session, centre.id)
    users_by_role = [(_(ROLE_LABELS[role]), role_counts.get(role, 0)) for role in Role]
    active_users = await identity.active_user_count(session, centre.id)
    new_users = await identity.new_user_count(session, centre.id, start, end)

    days = (end - start).days
    per_day = Counter(event.at.astimezone(SHANGHAI).day for event in events)
    day_labels = [str(day) for day in range(1, days + 1)]
    top_actions = by_action.most_common(12)
    chart_actions = (
        charts.bar_chart(
            _("Recorded actions by type"),
            [action for action, _count in top_actions],
            {_("Number of actions"): [count for _action, count in top_actions]},
            counts=True,
        )
        if top_actions
        else None
    )
    chart_days = charts.line_chart(
        _("Recorded actions per day"),
        day_labels,
        {_("Number of actions"): [per_day.get(d, 0) for d in range(1, days + 1)]},
        counts=True,
    )
    return {
        "title": _("Centre monthly briefing"),
        "centre_name": centre.name,
        "centre": {
            "name": centre.name,
            "city": centre.city,
            "district": centre.district,
            "street": centre.street,
        },
        "period": period,
        "period_label": period_label(period),
        "cover_lines": [(_("Centre"), centre.name), (_("Period"), period_label(period))],
        "generated_at": utcnow(),
        "total_events": int(total_events),
        "events_truncated": len(events) > EVENT_ROWS_LIMIT,
        "events": [
            {"at": e.at, "actor": e.actor, "action": e.action, "subject": f"{e.subject_type} #{e.subject_id}"}
            for e in events[:EVENT_ROWS_LIMIT]
        ],
        "by_action": sorted(by_action.items(), key=lambda item: (-item[1], item[0])),
        "users_by_role": users_by_role,
        "active_users": int(active_users),
        "new_users": int(new_users),
        "chart_actions": chart_actions,
        "chart_days": chart_days,
    }


MONTHLY_BRIEFING = ReportKind(
    code=KIND_CODE,
    label=N_("Centre monthly briefing"),
    scope_type=ScopeType.centre,
    builder=build_monthly_briefing,
    template="reports/monthly_briefing.html",
    number_mark=N_("MB"),
)


def register() -> None:
    register_kind(MONTHLY_BRIEFING)
