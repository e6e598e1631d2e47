"""Working days on the official calendar, across 国庆 2026 with its adjusted working day."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from grants.programmes.calendar import UnknownCalendarYear, WorkingCalendar
from tests.factories import make_centre, make_user


async def test_across_national_day_with_adjusted_saturday(session: AsyncSession) -> None:
    calendar = await WorkingCalendar.load(session)
    # 2026-09-30 (Wed) works; 1-7 October are holidays; Saturday 10 October is an adjusted working day.
    first, last = calendar.working_days_from(dt.date(2026, 9, 30), 5)
    assert (first, last) == (dt.date(2026, 9, 30), dt.date(2026, 10, 12))
    first, last = calendar.working_days_from(dt.date(2026, 10, 3), 3)
    assert (first, last) == (dt.date(2026, 10, 8), dt.date(2026, 10, 10))


async def test_unknown_year_is_an_error_naming_it(session: AsyncSession) -> None:
    calendar = await WorkingCalendar.load(session)
    with pytest.raises(UnknownCalendarYear, match="2027"):
        calendar.working_days_from(dt.date(2026, 12, 28), 10)


async def test_admin_entered_year_takes_precedence(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = await make_user(session, await make_centre(session), Role.admin)
    unknown = await client.get(
        "/api/v1/calendar/working-days?start=2027-01-29&count=3", headers=admin.headers
    )
    assert unknown.status_code == 409
    assert "2027" in unknown.json()["error"]["message"]
    # 2027 as an admin might enter it: Spring Festival holidays, Saturday 6 Feb worked
    schedule = {
        "holidays": ["2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11"],
        "workdays": ["2027-02-06"],
    }
    staff = await make_user(session, await make_centre(session), Role.staff)
    refused = await client.put("/api/v1/calendar/2027", json=schedule, headers=staff.headers)
    assert refused.status_code == 403
    entered = await client.put("/api/v1/calendar/2027", json=schedule, headers=admin.headers)
    assert entered.status_code == 200
    days = await client.get("/api/v1/calendar/working-days?start=2027-02-04&count=3", headers=admin.headers)
    assert days.json() == {"first": "2027-02-04", "last": "2027-02-12"}
    wrong_year = await client.put("/api/v1/calendar/2028", json=schedule, headers=admin.headers)
    assert wrong_year.status_code == 422
