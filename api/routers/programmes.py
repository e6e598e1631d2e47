"""Programmes (calls): create, edit, open, review, decide, publicise, close; topics, needs, the calendar."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, Field

from api.deps import (
    AdminUser,
    CurrentPrincipal,
    IdPath,
    Pagination,
    SessionDep,
    StaffAdminOrStation,
    StaffOrStation,
    StaffUser,
)
from api.routing import Router
from api.schemas import ListResponse
from core.clock import today
from core.errors import ValidationFailed
from core.fields import Day, RequestModel
from core.i18n import N_, _
from grants.applications import publicity, review
from grants.applications.schemas import (
    DecideIn,
)
from grants.programmes import calendar as working_calendar
from grants.programmes import service as programmes
from grants.programmes.models import Programme, ProgrammeState
from grants.programmes.schemas import (
    CalendarYearIn,
    NeedIn,
    NeedOut,
    ProgrammeCreate,
    ProgrammeOut,
    ProgrammeUpdate,
    TopicIn,
    TopicOut,
)

router = Router(prefix="/api/v1", tags=["programmes"])


def programme_out(programme: Programme) -> ProgrammeOut:
    return ProgrammeOut.model_validate(programme)


@router.get("/programmes", response_model=ListResponse[ProgrammeOut])
async def list_programmes(
    session: SessionDep,
    principal: CurrentPrincipal,
    pagination: Pagination,
    state: ProgrammeState | None = None,
) -> ListResponse[ProgrammeOut]:
    page = await programmes.list_programmes(session, principal, pagination, state=state)
    return ListResponse.of_page(page, [programme_out(p) for p in page.items])


@router.post("/programmes", response_model=ProgrammeOut, status_code=201)
async def create_programme(data: ProgrammeCreate, session: SessionDep, principal: StaffUser) -> ProgrammeOut:
    programme = await programmes.create_programme(session, principal, data)
    return programme_out(await programmes.get_programme(session, principal, programme.id))


@router.get("/programmes/{programme_id:int}", response_model=ProgrammeOut)
async def get_programme(
    programme_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> ProgrammeOut:
    await programmes.get_programme(session, principal, programme_id)  # 404/403 before any work
    await publicity.finalise_publicity(session, today(), programme_id=programme_id)
    return programme_out(await programmes.get_programme(session, principal, programme_id))


@router.put("/programmes/{programme_id:int}", response_model=ProgrammeOut)
async def update_programme(
    programme_id: IdPath, data: ProgrammeUpdate, session: SessionDep, principal: StaffUser
) -> ProgrammeOut:
    await programmes.update_programme(session, principal, programme_id, data)
    return programme_out(await programmes.get_programme(session, principal, programme_id))


@router.post("/programmes/{programme_id:int}/open", response_model=ProgrammeOut)
async def open_programme(programme_id: IdPath, session: SessionDep, principal: StaffUser) -> ProgrammeOut:
    return programme_out(await programmes.open_programme(session, principal, programme_id))


@router.post("/programmes/{programme_id:int}/start-review", response_model=ProgrammeOut)
async def start_review(programme_id: IdPath, session: SessionDep, principal: StaffUser) -> ProgrammeOut:
    """Hand every eligible application to an expert review round (the evaluations engine)."""
    return programme_out(await review.start_review(session, principal, programme_id))


@router.post("/programmes/{programme_id:int}/collect-results", response_model=ProgrammeOut)
async def collect_results(programme_id: IdPath, session: SessionDep, principal: StaffUser) -> ProgrammeOut:
    """Take the closed round's scores, ranks and budget-constrained recommendation."""
    return programme_out(await review.collect_review(session, principal, programme_id))


@router.post("/programmes/{programme_id:int}/decide", response_model=ProgrammeOut)
async def decide(
    programme_id: IdPath, data: DecideIn, session: SessionDep, principal: StaffUser
) -> ProgrammeOut:
    return programme_out(await review.decide(session, principal, programme_id, data))


class PubliciseIn(RequestModel):
    starts_on: Day | None = Field(None, title=N_("Start date"))


@router.post("/programmes/{programme_id:int}/publicise", response_model=ProgrammeOut)
async def publicise(
    programme_id: IdPath, data: PubliciseIn, session: SessionDep, principal: StaffUser
) -> ProgrammeOut:
    return programme_out(
        await publicity.publicise(session, principal, programme_id, starts_on=data.starts_on)
    )


@router.post("/programmes/{programme_id:int}/close", response_model=ProgrammeOut)
async def close_programme(programme_id: IdPath, session: SessionDep, principal: StaffUser) -> ProgrammeOut:
    return programme_out(await programmes.close_programme(session, principal, programme_id))


@router.get("/programmes/{programme_id:int}/topics", response_model=list[TopicOut])
async def list_topics(
    programme_id: IdPath, session: SessionDep, principal: CurrentPrincipal
) -> list[TopicOut]:
    programme = await programmes.get_programme(session, principal, programme_id)
    return [TopicOut.model_validate(t) for t in programme.topics]


@router.post("/programmes/{programme_id:int}/topics", response_model=TopicOut, status_code=201)
async def add_topic(
    programme_id: IdPath, data: TopicIn, session: SessionDep, principal: StaffUser
) -> TopicOut:
    return TopicOut.model_validate(await programmes.add_topic(session, principal, programme_id, data))


@router.get("/needs", response_model=ListResponse[NeedOut])
async def list_needs(
    session: SessionDep, principal: StaffAdminOrStation, pagination: Pagination
) -> ListResponse[NeedOut]:
    page = await programmes.list_needs(session, principal, pagination)
    return ListResponse.of_page(page, [NeedOut.model_validate(n) for n in page.items])


@router.post("/needs", response_model=NeedOut, status_code=201)
async def record_need(data: NeedIn, session: SessionDep, principal: StaffOrStation) -> NeedOut:
    return NeedOut.model_validate(await programmes.record_need(session, principal, data))


class WorkingDays(BaseModel):
    first: dt.date
    last: dt.date


@router.get("/calendar/working-days", response_model=WorkingDays)
async def working_days(
    session: SessionDep,
    principal: CurrentPrincipal,
    start: dt.date,
    count: Annotated[int, Query(ge=1, le=60)],
) -> WorkingDays:
    """The first and last of ``count`` working days from ``start`` on the official calendar."""
    cal = await working_calendar.WorkingCalendar.load(session, {start.year, start.year + 1})
    first, last = cal.working_days_from(start, count)
    return WorkingDays(first=first, last=last)


@router.put("/calendar/{year:int}", response_model=WorkingDays)
async def enter_calendar_year(
    year: Annotated[int, Path(ge=2000, le=2100)], data: CalendarYearIn, session: SessionDep, admin: AdminUser
) -> WorkingDays:
    """An admin enters a year's official schedule (holidays and adjusted working days)."""
    days = data.holidays + data.workdays
    if any(day.year != year for day in days):
        raise ValidationFailed.field("holidays", _("Every date must fall in {year}").format(year=year))
    await working_calendar.enter_year(session, year, data.holidays, data.workdays, {})
    from core import audit

    await audit.record(
        session,
        actor=admin,
        action="calendar.enter_year",
        subject_type="calendar",
        subject_id=year,
        centre_id=None,
        after={"holidays": data.holidays, "workdays": data.workdays},
    )
    cal = await working_calendar.WorkingCalendar.load(session, {year})
    first, last = cal.working_days_from(dt.date(year, 1, 1), 1)
    return WorkingDays(first=first, last=last)
