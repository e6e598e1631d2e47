"""Programmes: create and edit by state, open, close; needs (需求征集) and topics (选题)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.i18n import _
from core.identity.models import Role
from core.identity.principal import Principal
from core.money import MAX_AMOUNT, format_money
from core.repository import Paged, PageParams
from evaluations.rubrics import service as rubric_service
from grants.access import centre_of, require_staff
from grants.programmes.models import (
    PROGRAMME_STATE_LABELS,
    CommunityNeed,
    Programme,
    ProgrammeCategory,
    ProgrammeState,
    ProgrammeTopic,
    TranchePlanRow,
)
from grants.programmes.repository import NeedRepository, ProgrammeRepository
from grants.programmes.schemas import NeedIn, ProgrammeCreate, ProgrammeUpdate, TopicIn

HUNDRED = Decimal(100)
LARGEST = format_money(MAX_AMOUNT)


# Which fields may change in which state (no budget change after decisions, no rule change
# once applications may have been written against the rules).
EDITABLE: dict[ProgrammeState, frozenset[str]] = {
    ProgrammeState.draft: frozenset(ProgrammeCreate.model_fields),
    ProgrammeState.open: frozenset(
        {
            "name",
            "description",
            "total_budget",
            "categories",
            "closes_at",
            "tranche_plan",
            "rubric_version_id",
            "min_reviewers",
            "blind_review",
            "publicity_working_days",
        }
    ),
    ProgrammeState.reviewing: frozenset(
        {"name", "description", "total_budget", "categories", "tranche_plan", "publicity_working_days"}
    ),
    ProgrammeState.decided: frozenset({"name", "description"}),
    ProgrammeState.publicised: frozenset({"name", "description"}),
    ProgrammeState.running: frozenset({"name", "description"}),
    ProgrammeState.closed: frozenset(),
}


def _validate_programme(data: ProgrammeCreate | ProgrammeUpdate, *, caps: bool = True) -> None:
    """The programme's own consistency. ``caps``: the caps per project are being set, so each
    must fit in the total budget (a cap above it is a typing error). Once applications are
    written against the caps they no longer change, and a later budget cut below a cap is
    allowed: the budget itself then limits every award."""
    if sum((row.share_pct for row in data.tranche_plan), Decimal(0)) != HUNDRED:
        raise ValidationFailed.field("tranche_plan", _("The tranche shares must add up to 100%"))
    if data.closes_at <= data.opens_at:
        raise ValidationFailed.field("closes_at", _("The application window must close after it opens"))
    for track in ("max_award_registered", "max_award_community"):
        if caps and getattr(data, track) > data.total_budget:
            raise ValidationFailed.field(track, _("The cap per project cannot exceed the total budget"))
    if sum((c.budget for c in data.categories), Decimal(0)) > data.total_budget:
        raise ValidationFailed.field("categories", _("The category budgets exceed the total budget"))
    if len({c.code for c in data.categories}) != len(data.categories):
        raise ValidationFailed.field("categories", _("Each category needs its own code"))


async def _check_rubric(session: AsyncSession, principal: Principal, version_id: int | None) -> None:
    if version_id is None:
        return
    try:
        await rubric_service.get_version(session, principal, version_id)
    except NotFound as exc:
        raise ValidationFailed.field("rubric_version_id", _("No such rubric version")) from exc


def _programme_snapshot(programme: Programme) -> dict[str, Any]:
    return {
        "name": programme.name,
        "state": programme.state,
        "total_budget": programme.total_budget,
        "max_award_registered": programme.max_award_registered,
        "max_award_community": programme.max_award_community,
        "min_cofunding_pct": programme.min_cofunding_pct,
        "closes_at": programme.closes_at,
        "categories": [(c.code, c.budget) for c in programme.categories],
        "tranche_plan": [(r.share_pct, r.trigger) for r in programme.tranche_plan],
    }


async def create_programme(session: AsyncSession, principal: Principal, data: ProgrammeCreate) -> Programme:
    require_staff(principal)
    _validate_programme(data)
    await _check_rubric(session, principal, data.rubric_version_id)
    values = data.model_dump(exclude={"categories", "tranche_plan"})
    programme = Programme(
        centre_id=centre_of(principal), state=ProgrammeState.draft, committed=Decimal("0.00"), **values
    )
    programme.categories = [
        ProgrammeCategory(code=c.code, name=c.name, budget=c.budget) for c in data.categories
    ]
    programme.tranche_plan = [
        TranchePlanRow(seq=i, share_pct=row.share_pct, trigger=row.trigger)
        for i, row in enumerate(data.tranche_plan, start=1)
    ]
    programme.topics = []
    session.add(programme)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="programme.create",
        subject_type="programme",
        subject_id=programme.id,
        centre_id=programme.centre_id,
        after=_programme_snapshot(programme),
    )
    return programme


def _centre_reader(principal: Principal) -> bool:
    return principal.sees_all_centres or principal.has(Role.staff, Role.admin, Role.finance)


def _require_programme_reader(principal: Principal) -> None:
    """Calls are read by the centre's people and its applicants; evaluators see nothing of grants."""
    if not (_centre_reader(principal) or principal.has(Role.applicant)):
        raise Forbidden(_("Your role does not allow this"))


async def get_programme(session: AsyncSession, principal: Principal, programme_id: int) -> Programme:
    """A programme; applicants do not find one still in draft (it is not published yet)."""
    _require_programme_reader(principal)
    repository = ProgrammeRepository(session, principal)
    programme = await repository.get(programme_id, repository.full())
    if programme.state is ProgrammeState.draft and not _centre_reader(principal):
        raise NotFound(_(repository.not_found_message))
    return programme


async def list_programmes(
    session: AsyncSession, principal: Principal, page: PageParams, *, state: ProgrammeState | None = None
) -> Paged[Programme]:
    _require_programme_reader(principal)
    repository = ProgrammeRepository(session, principal)
    statement = repository.full()
    if not _centre_reader(principal):
        statement = statement.where(Programme.state != ProgrammeState.draft)
    if state is not None:
        statement = statement.where(Programme.state == state)
    return await repository.paginate(statement.order_by(Programme.year.desc(), Programme.id.desc()), page)


async def update_programme(
    session: AsyncSession, principal: Principal, programme_id: int, data: ProgrammeUpdate
) -> Programme:
    require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    before = _programme_snapshot(programme)
    current = ProgrammeCreate.model_validate(
        {
            **{
                name: getattr(programme, name)
                for name in ProgrammeCreate.model_fields
                if name not in {"categories", "tranche_plan"}
            },
            "categories": [
                {"code": c.code, "name": c.name, "budget": c.budget} for c in programme.categories
            ],
            "tranche_plan": [
                {"share_pct": r.share_pct, "trigger": r.trigger} for r in programme.tranche_plan
            ],
        }
    )
    changed = sorted(
        name for name in ProgrammeCreate.model_fields if getattr(current, name) != getattr(data, name)
    )
    refused = [name for name in changed if name not in EDITABLE[programme.state]]
    if refused:
        raise Conflict(
            _("While the programme is {state}, these cannot change: {fields}").format(
                state=_(PROGRAMME_STATE_LABELS[programme.state]), fields=", ".join(refused)
            )
        )
    _validate_programme(data, caps="max_award_registered" in EDITABLE[programme.state])
    await _check_rubric(session, principal, data.rubric_version_id)
    if data.total_budget < programme.committed:
        raise ValidationFailed.field(
            "total_budget", _("The budget cannot be less than what is already committed")
        )
    for name in changed:
        if name == "categories":
            existing = {c.code: c for c in programme.categories}
            kept = []
            for c in data.categories:
                category = existing.get(c.code) or ProgrammeCategory(code=c.code, committed=Decimal("0.00"))
                if c.budget < (category.committed or Decimal(0)):
                    raise ValidationFailed.field(
                        "categories", _("A category budget is below what it has committed")
                    )
                category.name, category.budget = c.name, c.budget
                kept.append(category)
            programme.categories[:] = kept
        elif name == "tranche_plan":
            programme.tranche_plan[:] = [
                TranchePlanRow(seq=i, share_pct=row.share_pct, trigger=row.trigger)
                for i, row in enumerate(data.tranche_plan, start=1)
            ]
        else:
            setattr(programme, name, getattr(data, name))
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="programme.update",
        subject_type="programme",
        subject_id=programme.id,
        centre_id=programme.centre_id,
        before=before,
        after=_programme_snapshot(programme),
    )
    return programme


PROGRAMME_TRANSITIONS: dict[str, tuple[frozenset[ProgrammeState], ProgrammeState]] = {
    "open": (frozenset({ProgrammeState.draft}), ProgrammeState.open),
    "start-review": (frozenset({ProgrammeState.open}), ProgrammeState.reviewing),
    "decide": (frozenset({ProgrammeState.reviewing}), ProgrammeState.decided),
    "publicise": (frozenset({ProgrammeState.decided}), ProgrammeState.publicised),
    "close": (frozenset({ProgrammeState.running}), ProgrammeState.closed),
}


def can_programme(programme: Programme, action: str) -> tuple[bool, str]:
    sources, _target = PROGRAMME_TRANSITIONS[action]
    if programme.state in sources:
        return True, ""
    return False, _("Not possible while the programme is {state}").format(
        state=_(PROGRAMME_STATE_LABELS[programme.state])
    )


async def _programme_transition(
    session: AsyncSession, principal: Principal, programme: Programme, action: str, note: str = ""
) -> None:
    allowed, reason = can_programme(programme, action)
    if not allowed:
        raise Conflict(reason)
    previous = programme.state
    programme.state = PROGRAMME_TRANSITIONS[action][1]
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action=f"programme.{action}",
        subject_type="programme",
        subject_id=programme.id,
        centre_id=programme.centre_id,
        before={"state": previous},
        after={"state": programme.state, "note": note},
    )


async def open_programme(session: AsyncSession, principal: Principal, programme_id: int) -> Programme:
    require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    if programme.state is ProgrammeState.draft and programme.rubric_version_id is None:
        raise Conflict(_("Choose the review rubric before opening the call"))
    await _programme_transition(session, principal, programme, "open")
    return programme


async def close_programme(session: AsyncSession, principal: Principal, programme_id: int) -> Programme:
    require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    await _programme_transition(session, principal, programme, "close")
    return programme


async def record_need(session: AsyncSession, principal: Principal, data: NeedIn) -> CommunityNeed:
    require_staff(principal)
    need = CommunityNeed(centre_id=centre_of(principal), recorded_by=principal.user_id, **data.model_dump())
    session.add(need)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="need.create",
        subject_type="community_need",
        subject_id=need.id,
        centre_id=need.centre_id,
        after=data.model_dump(),
    )
    return need


async def list_needs(session: AsyncSession, principal: Principal, page: PageParams) -> Paged[CommunityNeed]:
    repository = NeedRepository(session, principal)
    return await repository.paginate(repository.select().order_by(CommunityNeed.id.desc()), page)


async def add_topic(
    session: AsyncSession, principal: Principal, programme_id: int, data: TopicIn
) -> ProgrammeTopic:
    require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    if programme.state not in (ProgrammeState.draft, ProgrammeState.open):
        raise Conflict(_("Topics are published before or during the call"))
    if data.need_id is not None:
        await NeedRepository(session, principal).get(data.need_id)
    topic = ProgrammeTopic(programme_id=programme.id, **data.model_dump())
    programme.topics.append(topic)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="programme.add_topic",
        subject_type="programme",
        subject_id=programme.id,
        centre_id=programme.centre_id,
        after=data.model_dump(),
    )
    return topic
