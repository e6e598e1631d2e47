"""社区社会组织培育目标完成情况: the street's cultivation targets against its organisations, per
quarter (the year so far) or per year, for a centre or one community; and the district
roll-up across centres, rendered on request.

Counts follow the rule in ``cultivation.progress`` (README, "Communities, sites and targets").
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from communities import repository as community_queries
from communities.models import Community
from core.db import utcnow
from core.errors import NotFound
from core.i18n import N_, _
from core.identity import repository as identity_queries
from core.identity.models import Centre
from core.identity.principal import Principal
from cultivation import progress
from cultivation import repository as cultivation_queries
from cultivation import service as cultivation
from cultivation.models import LEVEL_LABELS, METRIC_LABELS, PREMISES_LABELS, SITE_KIND_LABELS
from cultivation.progress import Standing
from incubator import service as incubator
from incubator.models import CATEGORY_LABELS, LEGAL_LABELS, LegalStatus, OrganisationCategory
from reports.kinds import ReportKind, register_kind
from reports.models import GeneratedReport, ScopeType

CENTRE_KIND = "cultivation_centre"
COMMUNITY_KIND = "cultivation_community"
PERIOD_PATTERN = r"^\d{4}(-Q[1-4])?$"
TITLE = N_("Community social organisation cultivation: targets and progress")
STANDING_LABELS = {
    Standing.met: N_("Met"),
    Standing.above: N_("Above range"),
    Standing.behind: N_("Behind"),
}


def period_end(period: str) -> tuple[int, dt.date]:
    """``2026`` → the year to 31 December; ``2026-Q3`` → the year so far, to 30 September."""
    match = re.match(r"^(\d{4})(?:-Q([1-4]))?$", period)
    if match is None:
        raise NotFound(_("The subject of this report was not found"))
    year = int(match.group(1))
    if match.group(2) is None:
        return year, dt.date(year, 12, 31)
    quarter = int(match.group(2))
    last_month = quarter * 3
    first_of_next = dt.date(year + (last_month == 12), last_month % 12 + 1, 1)
    return year, first_of_next - dt.timedelta(days=1)


def period_label(period: str) -> str:
    year, _end = period_end(period)
    if "-Q" in period:
        return _("{year}, quarter {quarter}").format(year=year, quarter=period[-1])
    return _("Year {year}").format(year=year)


def previous_quarter(local: dt.datetime) -> str:
    """A run in October reports on the third quarter; one in January on the last of the year before."""
    quarter = (local.month - 1) // 3
    if quarter == 0:
        return f"{local.year - 1}-Q4"
    return f"{local.year}-Q{quarter}"


def previous_year(local: dt.datetime) -> str:
    return f"{local.year - 1}"


def _labels() -> dict[str, Any]:
    return {
        "metric_label": {k.value: _(v) for k, v in METRIC_LABELS.items()},
        "standing_label": {k.value: _(v) for k, v in STANDING_LABELS.items()},
        "category_label": {k.value: _(v) for k, v in CATEGORY_LABELS.items()},
        "legal_label": {k.value: _(v) for k, v in LEGAL_LABELS.items()},
        "site_kind_label": {k.value: _(v) for k, v in SITE_KIND_LABELS.items()},
        "level_label": {k.value: _(v) for k, v in LEVEL_LABELS.items()},
        "premises_label": {k.value: _(v) for k, v in PREMISES_LABELS.items()},
        "categories": [c.value for c in OrganisationCategory],
        "statuses": [LegalStatus.registered.value, LegalStatus.filed.value, LegalStatus.unregistered.value],
    }


async def _sections(
    session: AsyncSession, centre: Centre, places: list[Community], year: int, end: dt.date
) -> dict[str, Any]:
    """Per community: targets against the counts read on ``end``, organisations by category and
    legal status on ``end``; the organisations new in the year so far."""
    orgs = await incubator.counted_organisations(session, [centre.id])
    rows = await cultivation.centre_progress(session, centre.id, year, end, until=end)
    wanted = {c.id for c in places}
    communities = []
    for place in places:
        present = [
            o for o in orgs if progress.active_on(o, end) and progress.community_on(o, end) == place.id
        ]
        communities.append(
            {
                "name": place.name,
                "households": place.households,
                "population": place.population,
                "total": len(present),
                "by_category": Counter(o.category.value for o in present),
                "by_status": Counter(progress.status_on(o, end).value for o in present),
                "progress": [r.progress for r in rows if r.progress.community_id == place.id],
            }
        )
    names = {c.id: c.name for c in places}
    new = sorted(
        (
            o
            for o in orgs
            if progress.counted_on(o).year == year
            and progress.counted_on(o) <= end
            and progress.community_on(o, end) in wanted
        ),
        key=lambda o: (progress.counted_on(o), o.name),
    )
    kept = [r for r in rows if r.progress.community_id in wanted]
    standings = Counter(r.progress.standing.value for r in kept)
    return {
        "communities": communities,
        "new_organisations": [
            {
                "name": o.name,
                "community": names.get(progress.community_on(o, end) or 0, ""),
                "category": o.category.value,
                "counted_on": progress.counted_on(o),
                "exited_on": o.exited_on,
            }
            for o in new
        ],
        "targets": len(kept),
        "met": standings.get(Standing.met.value, 0),
        "above": standings.get(Standing.above.value, 0),
        "behind": standings.get(Standing.behind.value, 0),
        "org_names": {o.id: o.name for o in orgs},
    }


async def _build(
    session: AsyncSession, centre: Centre, period: str, community: Community | None
) -> dict[str, Any]:
    year, end = period_end(period)
    places = (
        [community] if community is not None else list(await community_queries.of_centre(session, centre.id))
    )
    sections = await _sections(session, centre, places, year, end)
    sites = [
        s
        for s in await cultivation_queries.sites_of(session, [centre.id])
        if community is None or s.community_id == community.id
    ]
    names = {c.id: c.name for c in await community_queries.of_centre(session, centre.id)}
    plans = await cultivation_queries.plans_of(session, centre.id, year)
    return {
        "title": _(TITLE),
        "subtitle": community.name if community is not None else centre.name,
        "centre_name": centre.name,
        "period": period,
        "period_label": period_label(period),
        "as_of": end,
        "months_left": progress.months_left(year, end),
        "generated_at": utcnow(),
        "plans": [
            {
                "title": p.title,
                "document": p.document,
                "issued_on": p.issued_on,
                "years": f"{p.first_year}–{p.last_year}",
            }
            for p in plans
        ],
        "sites": [
            {
                "name": s.name,
                "level": s.level.value,
                "kind": s.kind.value,
                "community": names.get(s.community_id or 0, ""),
                "premises": s.premises.value if s.premises else None,
                "area_sqm": s.area_sqm,
                "investment": s.investment,
                "opened_on": s.opened_on,
                "operator": sections["org_names"].get(s.operator_id or 0, ""),
            }
            for s in sorted(sites, key=lambda s: (list(LEVEL_LABELS).index(s.level), s.name))
        ],
        **sections,
        **_labels(),
    }


async def build_centre_report(session: AsyncSession, scope_id: int, period: str) -> dict[str, Any]:
    centre = await session.get(Centre, scope_id)
    if centre is None:
        raise NotFound(_("Centre not found"))
    return await _build(session, centre, period, None)


async def community_centre(session: AsyncSession, community_id: int) -> int | None:
    community = await session.get(Community, community_id)
    return community.centre_id if community is not None else None


async def build_community_report(session: AsyncSession, scope_id: int, period: str) -> dict[str, Any]:
    community = await session.get(Community, scope_id)
    if community is None:
        raise NotFound(_("Community not found"))
    centre = await session.get(Centre, community.centre_id)
    assert centre is not None
    return await _build(session, centre, period, community)


async def build_district_rollup(session: AsyncSession, year: int, today: dt.date) -> dict[str, Any]:
    """Every centre's communities: organisations by category and the year's targets (read today
    for the current year, on 31 December for a past one)."""
    end = min(today, dt.date(year, 12, 31))
    centres = []
    for centre in await identity_queries.list_centres(session):
        places = list(await community_queries.of_centre(session, centre.id))
        sections = await _sections(session, centre, places, year, end)
        centres.append({"name": centre.name, **sections})
    return {
        "title": _("District roll-up of cultivation targets"),
        "centre_name": _("District"),
        "period": str(year),
        "period_label": _("Year {year}").format(year=year),
        "as_of": end,
        "generated_at": utcnow(),
        "centres": centres,
        **_labels(),
    }


class StationCommunityAccess:
    """A station officer reads the cultivation reports of their own community."""

    async def can_read(self, session: AsyncSession, principal: Principal, report: GeneratedReport) -> bool:
        return (
            principal.station_only
            and report.scope_type is ScopeType.community
            and report.scope_id == principal.community_id
        )


CENTRE_REPORT = ReportKind(
    code=CENTRE_KIND,
    label=N_("Cultivation targets and progress (centre)"),
    scope_type=ScopeType.centre,
    builder=build_centre_report,
    template="reports/cultivation.html",
    period_for=previous_quarter,
    period_pattern=PERIOD_PATTERN,
    period_hint="2026-Q3",
    number_mark=N_("CT"),
)
COMMUNITY_REPORT = ReportKind(
    code=COMMUNITY_KIND,
    label=N_("Cultivation targets and progress (community)"),
    scope_type=ScopeType.community,
    builder=build_community_report,
    template="reports/cultivation.html",
    centre_of=community_centre,
    period_for=previous_quarter,
    period_pattern=PERIOD_PATTERN,
    period_hint="2026-Q3",
    number_mark=N_("CC"),
)


def register() -> None:
    register_kind(CENTRE_REPORT)
    register_kind(COMMUNITY_REPORT)
