"""Reminders that reach each person once: the deciding half of SPEC §6 "Reminders".

Domain jobs decide who should hear about what; ``remind_once`` skips whoever already had
the same reminder and writes the rest through ``core.notifications.remind`` (in-app plus
the configured email and 企业微信 deliveries), each in the person's own language.

"The same reminder" is the pair (kind, link) of a stored notification, optionally only
counting notifications created since a moment (a daily digest counts today's only). The
link carries the subject (``/awards/12``, ``/evaluations#round-3``), so no extra column is
needed and a second run of a job in the same slot notifies nobody twice.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import DEFAULT_LOCALE, use_locale
from core.identity.models import Role
from core.notifications import Channel, remind
from core.repository import reminders as queries

Text = Callable[[], tuple[str, str]]
"""Builds (title, body); called inside ``use_locale`` once per language of the recipients."""


class ReminderJob(Protocol):
    """A domain's reminder job: answers the ids of the users it reminded."""

    async def __call__(
        self, session: AsyncSession, now: dt.datetime, *, channels: Collection[Channel] = ()
    ) -> list[int]: ...


async def already_reminded(
    session: AsyncSession,
    user_ids: Collection[int],
    kind: str,
    link: str,
    since: dt.datetime | None = None,
) -> set[int]:
    if not user_ids:
        return set()
    return await queries.reminded_users(session, user_ids, kind, link, since)


async def remind_once(
    session: AsyncSession,
    user_ids: Collection[int],
    kind: str,
    link: str,
    text: Text,
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
    channels: Collection[Channel] = (),
) -> list[int]:
    """Remind those of ``user_ids`` not yet reminded; answers who was reminded now.

    The notifications are stamped with the job's ``now`` so that windows (``since``)
    are measured in the job's time, also when a test runs the job at a fixed moment.
    """
    done = await already_reminded(session, user_ids, kind, link, since)
    wanted = set(user_ids) - done
    if not wanted:
        return []
    rows = await queries.active_locales(session, wanted)
    by_locale: dict[str, list[int]] = defaultdict(list)
    for user_id, locale in rows:
        by_locale[locale or DEFAULT_LOCALE].append(user_id)
    reminded: list[int] = []
    for locale, ids in sorted(by_locale.items()):
        with use_locale(locale):
            title, body = text()
        for note in await remind(session, ids, kind, title, body, link, channels=channels):
            note.created_at = now
            reminded.append(note.user_id)
    await session.flush()
    return sorted(reminded)


async def users_with_role(session: AsyncSession, centre_id: int, role: Role) -> list[int]:
    return await queries.active_users_with_role(session, centre_id, role)
