"""What waits for someone: one item per thing to do, sorted by urgency.

Domains answer ``Waiting`` items from their ``dashboard`` modules; the dashboard puts them in
one list. Urgency: past its deadline first (the longest overdue on top), then by deadline,
then what has waited longest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from core.clock import SHANGHAI


@dataclass(frozen=True)
class Waiting:
    kind: str
    """What sort of work it is (``verify_organisation``, ``approve_disbursement``, …)."""
    title: str
    link: str
    since: dt.datetime | None = None
    due: dt.date | None = None
    detail: str = ""

    def overdue_days(self, today: dt.date) -> int:
        return (today - self.due).days if self.due is not None and self.due < today else 0

    def waiting_days(self, today: dt.date) -> int | None:
        if self.since is None:
            return None
        return max((today - self.since.astimezone(SHANGHAI).date()).days, 0)


def by_urgency(items: Iterable[Waiting], today: dt.date) -> list[Waiting]:
    far = dt.date.max
    old = dt.datetime.max.replace(tzinfo=dt.UTC)

    def key(item: Waiting) -> tuple[int, dt.date, dt.datetime, str]:
        overdue = item.due is not None and item.due < today
        group = 0 if overdue else 1 if item.due is not None else 2
        return (group, item.due or far, item.since or old, item.title)

    return sorted(items, key=key)
