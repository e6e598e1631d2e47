"""Publicity (公示) on the official calendar: the public list, objections (异议), and the award
of every application whose period ended without an upheld objection."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.clock import today
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _
from core.identity.models import Centre
from core.identity.principal import Principal
from grants.access import require_staff
from grants.applications import repository as queries
from grants.applications.models import (
    Application,
    ApplicationState,
    Objection,
    ObjectionState,
)
from grants.applications.review import _release_budget
from grants.applications.schemas import (
    ObjectionIn,
    ResolveObjection,
)
from grants.applications.service import _record_event, get_application
from grants.awards.models import Award
from grants.awards.service import create_award
from grants.programmes import repository as programme_queries
from grants.programmes.calendar import WorkingCalendar
from grants.programmes.models import (
    Programme,
    ProgrammeState,
)
from grants.programmes.service import _programme_transition, can_programme, get_programme
from incubator.models import Organisation


async def publicise(
    session: AsyncSession,
    principal: Principal,
    programme_id: int,
    *,
    starts_on: dt.date | None = None,
    on: dt.date | None = None,
) -> Programme:
    """Start the publicity (公示) of the approved applications for N working days.

    ``on`` is the day this is done (today in Asia/Shanghai): the publicity starts then or
    later, never before, or it could end before anyone saw it. It is up from its first day,
    whatever day that is, and runs until N working days have passed: put up on a Saturday,
    it is read (and open to objections) that weekend and counts its days from Monday.
    """
    require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    allowed, reason = can_programme(programme, "publicise")
    if not allowed:
        raise Conflict(reason)
    day = on or today()
    if starts_on is not None and starts_on < day:
        raise ValidationFailed.field(
            "starts_on", _("Publicity cannot start in the past: nobody would have seen it")
        )
    start = starts_on or day
    calendar = await WorkingCalendar.load(session, {start.year, start.year + 1})
    _first_working_day, last = calendar.working_days_from(start, programme.publicity_working_days)
    first = start
    approved = await queries.approved_with_events(session, programme.id)
    for application in approved:
        application.publicity_starts_on, application.publicity_ends_on = first, last
        await _record_event(
            session,
            principal,
            application,
            "publicise",
            application.state,
            _("Publicity from {start} to {end}").format(start=first, end=last),
        )
    await _programme_transition(
        session,
        principal,
        programme,
        "publicise",
        _("Publicity from {start} to {end}").format(start=first, end=last),
    )
    return programme


async def lodge_objection(session: AsyncSession, data: ObjectionIn, *, on: dt.date) -> Objection:
    application = await session.get(Application, data.application_id)
    if (
        application is None
        or application.state is not ApplicationState.approved
        or application.publicity_starts_on is None
        or application.publicity_ends_on is None
        or not application.publicity_starts_on <= on <= application.publicity_ends_on
    ):
        raise NotFound(_("This project is not in publicity"))
    objection = Objection(
        centre_id=application.centre_id,
        application_id=application.id,
        content=data.content,
        name=data.name,
        contact=data.contact,
        state=ObjectionState.open,
        reference=new_reference(),
    )
    session.add(objection)
    await session.flush()
    await audit.record(
        session,
        actor=None,
        action="objection.lodge",
        subject_type="application",
        subject_id=application.id,
        centre_id=application.centre_id,
        after={"objection_id": objection.id},
    )
    return objection


REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


def new_reference() -> str:
    """A reference the objector keeps: ``YY-`` and 10 random characters (50 bits), so one
    objection's reference tells nothing of another's."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    return f"YY-{body[:5]}-{body[5:]}"


def normalise_reference(text: str) -> str:
    """What a person types (lower case, spaces, without dashes) as the stored form."""
    letters = "".join(ch for ch in text.upper() if ch.isalnum())
    if letters.startswith("YY"):
        letters = letters[2:]
    return f"YY-{letters[:5]}-{letters[5:]}" if len(letters) == 10 else ""


@dataclass(frozen=True)
class ObjectionStatus:
    """What the public lookup shows: never the objector's name, contact or text."""

    reference: str
    project: str
    lodged_at: dt.datetime
    state: ObjectionState
    resolution: str | None
    resolved_at: dt.datetime | None


async def lookup_objection(session: AsyncSession, reference: str) -> ObjectionStatus:
    code = normalise_reference(reference)
    found = await queries.objection_by_reference(session, code) if code else None
    if found is None:
        raise NotFound(_("No objection has this reference; check the characters and try again"))
    objection, title = found
    return ObjectionStatus(
        reference=code,
        project=title,
        lodged_at=objection.lodged_at,
        state=objection.state,
        resolution=objection.resolution,
        resolved_at=objection.resolved_at,
    )


@dataclass(frozen=True)
class PublicityNotice:
    """One programme's publicity as the public page names it."""

    programme: Programme
    centre: Centre
    rows: list[tuple[Application, Organisation, str | None]]


async def publicity_notices(session: AsyncSession, on: dt.date) -> list[PublicityNotice]:
    rows = await queries.publicity_list(session, on)
    by_programme: dict[int, list[tuple[Application, Organisation, str | None]]] = {}
    for row in rows:
        by_programme.setdefault(row[0].programme_id, []).append(row)
    return [
        PublicityNotice(programme, centre, by_programme[programme.id])
        for programme, centre in await queries.programmes_of(session, set(by_programme))
    ]


async def resolve_objection(
    session: AsyncSession, principal: Principal, objection_id: int, data: ResolveObjection
) -> Objection:
    """Upheld: the application is rejected with the reason and its budget released. Dismissed: noted."""
    require_staff(principal)
    objection = await session.get(Objection, objection_id)
    if objection is None or not principal.in_centre(objection.centre_id):
        raise NotFound(_("Record not found"))
    if objection.state is not ObjectionState.open:
        raise Conflict(_("This objection is already resolved"))
    objection.state = ObjectionState.upheld if data.upheld else ObjectionState.dismissed
    objection.resolution, objection.resolved_by, objection.resolved_at = (
        data.resolution,
        principal.user_id,
        utcnow(),
    )
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action=f"objection.{objection.state.value}",
        subject_type="objection",
        subject_id=objection.id,
        centre_id=objection.centre_id,
        after={"resolution": data.resolution},
    )
    if data.upheld:
        application = await get_application(session, principal, objection.application_id)
        if application.state is ApplicationState.approved and application.approved_amount is not None:
            await _release_budget(session, application, application.approved_amount)
            previous = application.state
            application.state = ApplicationState.rejected
            application.decision_reason = _("Objection upheld: {reason}").format(reason=data.resolution)
            await _record_event(
                session, principal, application, "objection_upheld", previous, data.resolution
            )
    return objection


async def finalise_publicity(
    session: AsyncSession, on: dt.date, *, programme_id: int | None = None
) -> list[Award]:
    """Award every approved application whose publicity ended with no open or upheld objection.

    Runs as a scheduled job and on access; idempotent (an application is awarded once).
    """
    created: list[Award] = []
    for application in await queries.publicity_ended(session, on, programme_id):
        open_objections = await queries.open_objection_count(session, application.id)
        if open_objections:
            continue
        programme = await programme_queries.with_tranche_plan(session, application.programme_id)
        award = await create_award(session, None, application, programme, on)
        if award is not None:
            created.append(award)
    # A publicised programme whose approved applications are all settled is running.
    for programme in await programme_queries.publicised(session, programme_id):
        waiting = await queries.approved_count(session, programme.id)
        if not waiting:
            programme.state = ProgrammeState.running
            await session.flush()
            await audit.record(
                session,
                actor=None,
                action="programme.run",
                subject_type="programme",
                subject_id=programme.id,
                centre_id=programme.centre_id,
                before={"state": ProgrammeState.publicised},
                after={"state": ProgrammeState.running},
            )
    return created
