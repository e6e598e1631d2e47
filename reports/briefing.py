"""The street's monthly briefing (月度简报): organisations admitted and graduated, cultivation
progress, applications, awards and money paid, contracts ending soon, support hours, and the
community needs raised and answered — what a street office reads, not account counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import NotFound
from core.i18n import N_, _
from core.identity import repository as identity
from reports import charts
from reports import repository as figures
from reports.kinds import SHANGHAI, ReportKind, register_kind
from reports.models import ScopeType

KIND_CODE = "centre_monthly"


def month_bounds(period: str) -> tuple[dt.datetime, dt.datetime]:
    """A ``YYYY-MM`` month in Asia/Shanghai as a half-open UTC interval."""
    year, month = (int(part) for part in period.split("-"))
    start = dt.datetime(year, month, 1, tzinfo=SHANGHAI)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=SHANGHAI)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def period_label(period: str) -> str:
    year, month = period.split("-")
    return _("{year}-{month}").format(year=year, month=int(month))


def month_days(period: str) -> tuple[dt.date, dt.date]:
    """A ``YYYY-MM`` month as a half-open interval of days."""
    year, month = (int(part) for part in period.split("-"))
    return dt.date(year, month, 1), dt.date(year + (month == 12), month % 12 + 1, 1)


async def build_monthly_briefing(session: AsyncSession, scope_id: int, period: str) -> dict[str, Any]:
    from cultivation import service as cultivation
    from cultivation.models import METRIC_LABELS
    from cultivation.progress import Standing

    centre = await identity.centre_by_id(session, scope_id)
    if centre is None:
        raise NotFound(_("Centre not found"))
    start, end = month_bounds(period)
    first, after = month_days(period)
    last = after - dt.timedelta(days=1)

    changes = await figures.stay_changes(session, centre.id, first, after, ("admitted", "graduated"))
    admitted = [(name, day) for name, state, day in changes if state == "admitted"]
    graduated = [(name, day) for name, state, day in changes if state == "graduated"]
    submitted, in_review = await figures.applications_in(session, centre.id, start, end)
    awards, awarded = await figures.awards_in(session, centre.id, first, after)
    paid_awards, paid_contracts = await figures.paid_in(session, centre.id, first, after)
    ending = await figures.contracts_ending(session, centre.id, first, last + dt.timedelta(days=60))
    activities, hours, participants = await figures.support_in(session, centre.id, first, after)
    needs = await figures.needs_raised(session, centre.id, start, end)
    answered = await figures.needs_answered_in(session, centre.id, start, end)

    rows = await cultivation.centre_progress(session, centre.id, first.year, last, until=last)
    standings = {s: sum(1 for r in rows if r.progress.standing is s) for s in Standing}
    behind = [
        {
            "community": r.community,
            "metric": _(METRIC_LABELS[r.progress.metric]),
            "actual": r.progress.actual,
            "minimum": r.progress.minimum,
            "months_left": r.progress.months_left,
        }
        for r in rows
        if r.progress.standing is Standing.behind
    ]
    chart_money = (
        charts.bar_chart(
            _("Money paid this month"),
            [_("Grants"), _("Purchased services")],
            {_("Yuan"): [float(paid_awards), float(paid_contracts)]},
        )
        if paid_awards or paid_contracts
        else None
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
        "admitted": admitted,
        "graduated": graduated,
        "cultivation": {
            "year": first.year,
            "targets": len(rows),
            "met": standings[Standing.met],
            "above": standings[Standing.above],
            "behind": standings[Standing.behind],
            "behind_rows": behind,
        },
        "applications_submitted": submitted,
        "applications_in_review": in_review,
        "awards": awards,
        "awarded": awarded,
        "paid_awards": paid_awards,
        "paid_contracts": paid_contracts,
        "paid_total": paid_awards + paid_contracts,
        "contracts_ending": [
            {"title": t, "provider": p, "ends_on": e, "amount": a, "paid": paid}
            for t, p, e, a, paid in ending
        ],
        "support_activities": activities,
        "support_hours": hours,
        "support_participants": participants,
        "needs": [{"community": c, "description": d, "answered": a} for c, d, a in needs],
        "needs_answered": answered,
        "chart_money": chart_money,
    }


MONTHLY_BRIEFING = ReportKind(
    code=KIND_CODE,
    label=N_("Centre monthly briefing"),
    scope_type=ScopeType.centre,
    builder=build_monthly_briefing,
    template="reports/street_briefing.html",
    number_mark=N_("MB"),
)


def register() -> None:
    register_kind(MONTHLY_BRIEFING)
