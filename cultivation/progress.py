"""Cultivation progress, computed from the organisations (never typed in).

The counting rule (README, "Communities, sites and targets"):

- An organisation's *counted date* is its founding date; failing that, the first of its
  filing (备案) and registration dates; failing that, the day its record was created in
  Seedbed, in Asia/Shanghai time. "New in year Y" counts the organisations whose counted
  date falls in Y.
- It counts in the community it belonged to on 31 December of Y (for the current year:
  at the end of the year as recorded so far), whatever community it moved to later or
  came from earlier.
- An organisation that exits (注销 / leaves the street) still counts as new in its year,
  but not in the totals of a year that ends after it exited.
- Flagship organisations count in the year they were recognised.
- Totals (organisations, registered, filed) are as on 31 December of Y: an organisation
  counts as registered once its registration date has passed (or, with no date, if it is
  registered now), as filed once its filing date has passed and it is not yet registered.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from cultivation.models import CultivationTarget, Metric
from incubator.models import LegalStatus, OrganisationCategory
from incubator.service import CountedOrganisation

NEW_METRICS = {
    Metric.new_service: OrganisationCategory.service,
    Metric.new_association: OrganisationCategory.association,
    Metric.new_self_governance: OrganisationCategory.self_governance,
    Metric.new_volunteer_team: OrganisationCategory.volunteer_team,
}


class Standing(StrEnum):
    met = "met"
    above = "above"
    behind = "behind"


def counted_on(org: CountedOrganisation) -> dt.date:
    if org.founded_on is not None:
        return org.founded_on
    papers = [d for d in (org.filed_on, org.registered_on) if d is not None]
    return min(papers) if papers else org.created_on


def community_on(org: CountedOrganisation, day: dt.date) -> int | None:
    """Where the organisation was at the end of ``day``: the community it left at its first
    later move, or (with no later move) where it is now."""
    for moved_on, left in org.moves:
        if moved_on > day:
            return left
    return org.community_id


def status_on(org: CountedOrganisation, day: dt.date) -> LegalStatus:
    if org.registered_on is not None:
        if org.registered_on <= day:
            return LegalStatus.registered
    elif org.legal_status is LegalStatus.registered:
        return LegalStatus.registered
    if org.filed_on is not None:
        if org.filed_on <= day:
            return LegalStatus.filed
    elif org.legal_status in (LegalStatus.filed, LegalStatus.registered):
        return LegalStatus.filed
    return LegalStatus.unregistered


def active_on(org: CountedOrganisation, day: dt.date) -> bool:
    return counted_on(org) <= day and (org.exited_on is None or org.exited_on > day)


def year_end(year: int, until: dt.date | None = None) -> dt.date:
    """The day a year's counts are read on: 31 December, or ``until`` if earlier in that year
    (a quarter's report reads the year so far)."""
    end = dt.date(year, 12, 31)
    return until if until is not None and until.year == year and until < end else end


def metrics_of(org: CountedOrganisation, year: int, until: dt.date | None = None) -> list[Metric]:
    """The metrics this organisation adds one to in ``year`` (read on ``until``, if given)."""
    end = year_end(year, until)
    found: list[Metric] = []
    counted = counted_on(org)
    if counted.year == year and counted <= end:
        found.extend(metric for metric, category in NEW_METRICS.items() if org.category is category)
    if org.flagship_on is not None and org.flagship_on.year == year and org.flagship_on <= end:
        found.append(Metric.flagship)
    if active_on(org, end):
        found.append(Metric.total)
        status = status_on(org, end)
        if status is LegalStatus.registered:
            found.append(Metric.registered_total)
        elif status is LegalStatus.filed:
            found.append(Metric.filed_total)
    return found


def count(
    orgs: Iterable[CountedOrganisation], year: int, until: dt.date | None = None
) -> Counter[tuple[int | None, Metric]]:
    """(community, metric) → number, for one year (read on ``until``, if given)."""
    tally: Counter[tuple[int | None, Metric]] = Counter()
    end = year_end(year, until)
    for org in orgs:
        where = community_on(org, end)
        for metric in metrics_of(org, year, until):
            tally[(where, metric)] += 1
    return tally


def months_left(year: int, today: dt.date) -> int:
    """Months of ``year`` still to come after ``today``, the current month counted unless
    ``today`` is its last day (3 on 1 October and on 30 September, 0 on 31 December)."""
    if year < today.year:
        return 0
    if year > today.year:
        return 12
    month_done = (today + dt.timedelta(days=1)).month != today.month
    return 12 - today.month + (0 if month_done else 1)


@dataclass(frozen=True)
class TargetProgress:
    target_id: int
    plan_id: int
    year: int
    community_id: int
    for_each_community: bool
    metric: Metric
    minimum: int
    maximum: int | None
    actual: int
    standing: Standing
    months_left: int


def standing(actual: int, minimum: int, maximum: int | None) -> Standing:
    if actual < minimum:
        return Standing.behind
    if maximum is not None and actual > maximum:
        return Standing.above
    return Standing.met


def evaluate(
    targets: Sequence[CultivationTarget],
    orgs: Sequence[CountedOrganisation],
    community_ids: Sequence[int],
    today: dt.date,
    until: dt.date | None = None,
) -> list[TargetProgress]:
    """Every target against the counts of its year; a target for "each community" is read for
    each of ``community_ids``, unless that community has its own target for the metric."""
    own = {(t.year, t.community_id, t.metric) for t in targets if t.community_id is not None}
    tallies: dict[int, Counter[tuple[int | None, Metric]]] = {}
    results: list[TargetProgress] = []
    for target in targets:
        tally = tallies.setdefault(target.year, count(orgs, target.year, until))
        if target.community_id is not None:
            places = [target.community_id]
        else:
            places = [c for c in community_ids if (target.year, c, target.metric) not in own]
        for community_id in places:
            actual = tally[(community_id, target.metric)]
            results.append(
                TargetProgress(
                    target_id=target.id,
                    plan_id=target.plan_id,
                    year=target.year,
                    community_id=community_id,
                    for_each_community=target.community_id is None,
                    metric=target.metric,
                    minimum=target.minimum,
                    maximum=target.maximum,
                    actual=actual,
                    standing=standing(actual, target.minimum, target.maximum),
                    months_left=months_left(target.year, today),
                )
            )
    return results
