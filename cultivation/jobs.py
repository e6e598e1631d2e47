"""The 1 October reminder: three months before the year's end, the station officers and the
staff of every community still behind its cultivation targets hear which targets, once a year."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncSession

from communities import repository as community_queries
from core.clock import SHANGHAI
from core.i18n import _
from core.identity import repository as identity_queries
from core.identity.models import Role
from core.notifications import Channel
from core.reminders import remind_once, users_with_role
from cultivation import service as cultivation
from cultivation.models import METRIC_LABELS
from cultivation.service import ProgressRow

KIND_TARGETS_BEHIND = "reminder.cultivation_behind"
CRON = "0 9 1 10 *"
"""09:00 on 1 October, Asia/Shanghai."""


def _lines(rows: list[ProgressRow]) -> str:
    return "；".join(
        _("{metric}: {actual} of at least {minimum}").format(
            metric=_(METRIC_LABELS[r.progress.metric]), actual=r.progress.actual, minimum=r.progress.minimum
        )
        for r in rows
    )


async def remind_targets_behind(
    session: AsyncSession, now: dt.datetime, *, channels: Collection[Channel] = ()
) -> list[int]:
    """Each community behind this year: its station officers hear about it, and the centre's
    staff hear about every community behind. Answers who was reminded."""
    today = now.astimezone(SHANGHAI).date()
    reminded: list[int] = []
    for centre in await identity_queries.list_centres(session):
        behind = cultivation.behind(await cultivation.centre_progress(session, centre.id, today.year, today))
        if not behind:
            continue
        by_community: dict[int, list[ProgressRow]] = defaultdict(list)
        for row in behind:
            by_community[row.progress.community_id].append(row)
        names = {cid: rows[0].community for cid, rows in by_community.items()}
        link = f"/network?year={today.year}"
        officers = await community_queries.station_officers(session, list(by_community))
        for community_id, rows in sorted(by_community.items(), key=lambda item: names[item[0]]):

            def station_text(
                rows: list[ProgressRow] = rows, name: str = names[community_id]
            ) -> tuple[str, str]:
                return (
                    _("{community}: cultivation targets behind").format(community=name),
                    _("{year}: {lines}. {months} months are left.").format(
                        year=today.year, lines=_lines(rows), months=rows[0].progress.months_left
                    ),
                )

            reminded += await remind_once(
                session,
                officers.get(community_id, []),
                KIND_TARGETS_BEHIND,
                link,
                station_text,
                now=now,
                channels=channels,
            )

        ordered = sorted(by_community.items(), key=lambda item: names[item[0]])
        digest = [(names[cid], rows) for cid, rows in ordered]

        def staff_text(digest: list[tuple[str, list[ProgressRow]]] = digest) -> tuple[str, str]:
            return (
                _("Communities behind their cultivation targets"),
                "\n".join(f"{name}: {_lines(rows)}" for name, rows in digest),
            )

        staff = await users_with_role(session, centre.id, Role.staff)
        reminded += await remind_once(
            session, staff, KIND_TARGETS_BEHIND, link, staff_text, now=now, channels=channels
        )
    return sorted(set(reminded))
