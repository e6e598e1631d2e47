"""Scheduled reminders of the grants domain (SPEC §6): who hears about what, once.

Each job takes a session and the slot's ``now``, flushes, never commits (the job runner
commits), and answers the ids of the users it reminded. Deliveries go through
``core.reminders.remind_once`` (in-app, email, 企业微信).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import SHANGHAI
from core.i18n import _
from core.identity.models import Role
from core.money import format_money
from core.notifications import Channel
from core.reminders import remind_once, users_with_role
from grants import repository as queries
from grants.awards.models import Award
from grants.programmes.models import Programme

DEADLINE_WINDOW = dt.timedelta(days=3)
PROGRESS_REPORT_EVERY = dt.timedelta(days=90)
TRANCHE_WAIT_DAYS = 7

KIND_DEADLINE = "reminder.application_deadline"
KIND_PROGRESS_REPORT = "reminder.progress_report_due"
KIND_TRANCHES_WAITING = "reminder.tranches_waiting"


def _local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(SHANGHAI)


def _start_of_day(moment: dt.datetime) -> dt.datetime:
    local = _local(moment)
    return dt.datetime.combine(local.date(), dt.time(0), SHANGHAI)


async def _members_by_org(session: AsyncSession, org_ids: Collection[int]) -> dict[int, set[int]]:
    if not org_ids:
        return {}
    rows = await queries.member_pairs(session, org_ids)
    members: dict[int, set[int]] = defaultdict(set)
    for org_id, user_id in rows:
        members[org_id].add(user_id)
    return members


async def remind_application_deadlines(
    session: AsyncSession, now: dt.datetime, *, channels: Collection[Channel] = ()
) -> list[int]:
    """A call closing within three days: the members of every organisation with a draft
    or returned application in it hear once per programme."""
    rows = await queries.unfinished_applications_closing(session, now, now + DEADLINE_WINDOW)
    programmes: dict[int, Programme] = {}
    titles: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for programme, application in rows:
        programmes[programme.id] = programme
        titles[programme.id].append((application.organisation_id, application.title))
    members = await _members_by_org(session, {org for pairs in titles.values() for org, _t in pairs})
    reminded: list[int] = []
    for programme_id, programme in programmes.items():
        by_user: dict[int, list[str]] = defaultdict(list)
        for org_id, title in titles[programme_id]:
            for user_id in members.get(org_id, set()):
                by_user[user_id].append(title)
        closes = _local(programme.closes_at).strftime("%Y-%m-%d %H:%M")
        # one text per group of users with the same unfinished applications
        groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for user_id, own in by_user.items():
            groups[tuple(sorted(own))].append(user_id)
        for own_titles, user_ids in groups.items():

            def text(
                name: str = programme.name, listed: tuple[str, ...] = own_titles, closes: str = closes
            ) -> tuple[str, str]:
                return (
                    _("Applications close soon: {programme}").format(programme=name),
                    _(
                        "The call closes at {closes}. Not yet submitted: {titles}. "
                        "Submit before the deadline or the application cannot take part."
                    ).format(closes=closes, titles="; ".join(listed)),
                )

            reminded += await remind_once(
                session,
                user_ids,
                KIND_DEADLINE,
                f"/applications?programme_id={programme_id}",
                text,
                now=now,
                channels=channels,
            )
    return sorted(reminded)


async def remind_progress_reports(
    session: AsyncSession, now: dt.datetime, *, channels: Collection[Channel] = ()
) -> list[int]:
    """An active, signed award with no progress report for 90 days (since signing, or
    since its last report): the grantee's members hear once per such stretch."""
    rows = await queries.signed_awards_with_last_report(session)
    due: list[tuple[Award, dt.datetime]] = []
    for award, last_at in rows:
        assert award.signed_on is not None
        signed = dt.datetime.combine(award.signed_on, dt.time(0), SHANGHAI)
        since = max(signed, last_at) if last_at is not None else signed
        if since <= now - PROGRESS_REPORT_EVERY:
            due.append((award, since))
    members = await _members_by_org(session, {a.organisation_id for a, _s in due})
    reminded: list[int] = []
    for award, since in due:
        last = _local(since).date().isoformat()

        def text(title: str = award.title, last: str = last) -> tuple[str, str]:
            return (
                _("Progress report due: {title}").format(title=title),
                _(
                    "No progress report has been submitted since {date}. Please report the "
                    "project's progress and indicator actuals."
                ).format(date=last),
            )

        reminded += await remind_once(
            session,
            members.get(award.organisation_id, set()),
            KIND_PROGRESS_REPORT,
            f"/awards/{award.id}",
            text,
            now=now,
            since=since,
            channels=channels,
        )
    return sorted(reminded)


async def remind_waiting_tranches(
    session: AsyncSession, now: dt.datetime, *, channels: Collection[Channel] = ()
) -> list[int]:
    """Daily digest to a centre's staff: tranches due for more than seven days that nobody
    has asked finance to pay. (Finance already hears when a tranche becomes due.)"""
    cutoff = _local(now).date() - dt.timedelta(days=TRANCHE_WAIT_DAYS)
    rows = await queries.tranches_due_before(session, cutoff)
    by_centre: dict[int, list[tuple[str, int, Decimal, dt.date]]] = defaultdict(list)
    for centre_id, title, seq, amount, due_on in rows:
        if due_on is not None:
            by_centre[centre_id].append((title, seq, amount, due_on))
    reminded: list[int] = []
    for centre_id, waiting in by_centre.items():
        staff = await users_with_role(session, centre_id, Role.staff)
        total = sum((amount for _t, _s, amount, _d in waiting), Decimal("0.00"))

        def text(
            waiting: list[tuple[str, int, Decimal, dt.date]] = waiting, total: Decimal = total
        ) -> tuple[str, str]:
            lines = [
                _("{title}, tranche {seq}: {amount} yuan, due since {date}").format(
                    title=title, seq=seq, amount=format_money(amount), date=due_on.isoformat()
                )
                for title, seq, amount, due_on in waiting
            ]
            return (
                _("{count} tranche(s) waiting for a disbursement request").format(count=len(waiting)),
                _("Due for more than {days} days, {amount} yuan in all:").format(
                    days=TRANCHE_WAIT_DAYS, amount=format_money(total)
                )
                + "\n"
                + "\n".join(lines),
            )

        reminded += await remind_once(
            session,
            staff,
            KIND_TRANCHES_WAITING,
            "/finance",
            text,
            now=now,
            since=_start_of_day(now),
            channels=channels,
        )
    return sorted(reminded)
