"""Scheduled reminders of the evaluations domain (SPEC §6): reviews about to fall due."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SHANGHAI
from core.i18n import _
from core.notifications import Channel
from core.reminders import remind_once
from evaluations.assignments.repository import awaiting_by

REVIEW_WINDOW = dt.timedelta(days=2)
KIND_REVIEW_DUE = "reminder.review_due"


async def remind_reviews_due(
    session: AsyncSession, now: dt.datetime, *, channels: Collection[Channel] = ()
) -> list[int]:
    """An open round due within two days: each evaluator with assignments still to
    declare or to score (no submitted sheet) hears once per round."""
    rows = await awaiting_by(session, now + REVIEW_WINDOW)
    rounds: dict[int, tuple[str, dt.datetime]] = {}
    open_count: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for round_id, name, due_at, evaluator_id in rows:
        if due_at is not None:
            rounds[round_id] = (name, due_at)
        open_count[round_id][evaluator_id] += 1
    reminded: list[int] = []
    for round_id, (name, due_at) in rounds.items():
        due = due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        by_count: dict[int, list[int]] = defaultdict(list)
        for evaluator_id, count in open_count[round_id].items():
            by_count[count].append(evaluator_id)
        for count, evaluators in sorted(by_count.items()):

            def text(name: str = name, due: str = due, count: int = count) -> tuple[str, str]:
                return (
                    _("Review due: {round}").format(round=name),
                    _(
                        "Scores are due by {due}; {count} assigned subject(s) still await your "
                        "declaration or your submitted score sheet."
                    ).format(due=due, count=count),
                )

            reminded += await remind_once(
                session,
                evaluators,
                KIND_REVIEW_DUE,
                f"/evaluations#round-{round_id}",
                text,
                now=now,
                channels=channels,
            )
    return sorted(reminded)
