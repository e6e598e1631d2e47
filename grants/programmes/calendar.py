"""Working days on the official Chinese calendar, with adjusted working days (调休).

The built-in source is the ``chinese-calendar`` package, whose data ends with the last
year announced when it was released. Admins enter later years' official schedules
(holidays and adjusted working days) in Seedbed; entered years take precedence. A date
in a year neither source knows is an error naming the year, never a guess.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import chinese_calendar
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict
from core.i18n import _
from grants.programmes import repository as queries
from grants.programmes.models import CalendarDay

PACKAGE_YEARS = frozenset(day.year for day in chinese_calendar.holidays) & frozenset(
    day.year for day in chinese_calendar.workdays
)


class UnknownCalendarYear(Conflict):
    code = "calendar_year_unknown"


class WorkingCalendar:
    """Answers ``is_workday`` for the years it knows; built per request from the database."""

    def __init__(self, entered: dict[int, dict[dt.date, bool]]) -> None:
        self.entered = entered

    @classmethod
    async def load(cls, session: AsyncSession, years: Iterable[int] | None = None) -> WorkingCalendar:
        entered: dict[int, dict[dt.date, bool]] = {}
        for day in await queries.calendar_days(session, years):
            entered.setdefault(day.year, {})[day.day] = day.is_workday
        return cls(entered)

    def knows(self, year: int) -> bool:
        return year in self.entered or year in PACKAGE_YEARS

    def is_workday(self, day: dt.date) -> bool:
        if day.year in self.entered:
            override = self.entered[day.year].get(day)
            return override if override is not None else day.weekday() < 5
        if day.year in PACKAGE_YEARS:
            return bool(chinese_calendar.is_workday(day))
        message = _("The official calendar for {year} is not known yet; an administrator must enter it")
        raise UnknownCalendarYear(message.format(year=day.year))

    def working_days_from(self, start: dt.date, count: int) -> tuple[dt.date, dt.date]:
        """The first and the last of ``count`` working days beginning on or after ``start``."""
        day = start
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        first, seen = day, 1
        while seen < count:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                seen += 1
        return first, day


async def enter_year(
    session: AsyncSession,
    year: int,
    holidays: list[dt.date],
    workdays: list[dt.date],
    names: dict[dt.date, str],
) -> None:
    """Replace a year's entered schedule (holidays and adjusted working days)."""
    await queries.forget_calendar_year(session, year)
    for day in holidays:
        session.add(CalendarDay(day=day, year=year, is_workday=False, name=names.get(day, "")))
    for day in workdays:
        session.add(CalendarDay(day=day, year=year, is_workday=True, name=names.get(day, "")))
    await session.flush()
