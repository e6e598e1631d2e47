"""Rules and state changes of the grant cycle: programmes, applications, decision, publicity, award."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core import audit
from core.clock import today
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.i18n import _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from core.money import CENT, MAX_AMOUNT
from core.repository import Paged, PageParams
from evaluations import service as evaluations
from evaluations.models import RoundPurpose
from evaluations.schemas import RoundCreate, SubjectCreate
from grants.calendar import WorkingCalendar
from grants.models import (
    APPLICATION_STATE_LABELS,
    PROGRAMME_STATE_LABELS,
    Application,
    ApplicationEvent,
    ApplicationState,
    Award,
    BudgetCategory,
    BudgetLine,
    CommunityNeed,
    EligibilityCheck,
    FundedBy,
    Indicator,
    Objection,
    ObjectionState,
    Programme,
    ProgrammeCategory,
    ProgrammeState,
    ProgrammeTopic,
    TranchePlanRow,
)
from grants.repository import ApplicationRepository, AwardRepository, NeedRepository, ProgrammeRepository
from grants.schedule import tranches_for
from grants.schemas import (
    ApplicationCreate,
    ApplicationIn,
    ConfirmEligibility,
    DecideIn,
    NeedIn,
    ObjectionIn,
    ProgrammeCreate,
    ProgrammeUpdate,
    ResolveObjection,
    TopicIn,
)
from incubator import service as incubator
from incubator.models import LegalStatus, Organisation

HUNDRED = Decimal(100)
LARGEST = f"{MAX_AMOUNT:,.2f}"


def _require_staff(principal: Principal) -> None:
    identity.require_writer(principal)
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))


def _centre(principal: Principal) -> int:
    if principal.centre_id is None:
        raise Forbidden(_("District-level accounts are read-only"))
    return principal.centre_id


# --- programmes -------------------------------------------------------------------------

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
        await evaluations.get_version(session, principal, version_id)
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
    _require_staff(principal)
    _validate_programme(data)
    await _check_rubric(session, principal, data.rubric_version_id)
    values = data.model_dump(exclude={"categories", "tranche_plan"})
    programme = Programme(
        centre_id=_centre(principal), state=ProgrammeState.draft, committed=Decimal("0.00"), **values
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
    _require_staff(principal)
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
    _require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    if programme.state is ProgrammeState.draft and programme.rubric_version_id is None:
        raise Conflict(_("Choose the review rubric before opening the call"))
    await _programme_transition(session, principal, programme, "open")
    return programme


# --- needs and topics -------------------------------------------------------------------


async def record_need(session: AsyncSession, principal: Principal, data: NeedIn) -> CommunityNeed:
    _require_staff(principal)
    need = CommunityNeed(centre_id=_centre(principal), recorded_by=principal.user_id, **data.model_dump())
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
    _require_staff(principal)
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


# --- applications -----------------------------------------------------------------------


async def _member_orgs(session: AsyncSession, principal: Principal) -> list[int]:
    return [o.id for o in await incubator.organisations_of(session, principal.user_id)]


async def application_repository(session: AsyncSession, principal: Principal) -> ApplicationRepository:
    orgs = None
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        orgs = await _member_orgs(session, principal)
    return ApplicationRepository(session, principal, orgs)


async def get_application(session: AsyncSession, principal: Principal, application_id: int) -> Application:
    repository = await application_repository(session, principal)
    return await repository.get(application_id, repository.full())


async def list_applications(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    programme_id: int | None = None,
    state: ApplicationState | None = None,
    organisation_id: int | None = None,
) -> Paged[Application]:
    repository = await application_repository(session, principal)
    statement = repository.select()
    if programme_id is not None:
        statement = statement.where(Application.programme_id == programme_id)
    if state is not None:
        statement = statement.where(Application.state == state)
    if organisation_id is not None:
        statement = statement.where(Application.organisation_id == organisation_id)
    order = (Application.rank.is_(None), Application.rank, Application.id)
    return await repository.paginate(statement.order_by(*order), page)


def line_amount(unit_price: Decimal, quantity: Decimal) -> Decimal:
    return (unit_price * quantity).quantize(CENT, rounding=ROUND_HALF_UP)


def _budget_lines(data: ApplicationIn) -> list[BudgetLine]:
    """The budget lines with their amounts; each amount and the totals must fit NUMERIC(14,2)."""
    lines = []
    for i, line in enumerate(data.budget_lines):
        amount = line_amount(line.unit_price, line.quantity)
        if amount > MAX_AMOUNT:
            raise ValidationFailed.field(
                f"budget_lines.{i}.quantity",
                _("Line {n}: {price} × {quantity} comes to more than {largest} yuan").format(
                    n=i + 1, price=f"{line.unit_price:,.2f}", quantity=line.quantity, largest=LARGEST
                ),
            )
        lines.append(
            BudgetLine(
                seq=i + 1,
                category=line.category,
                item=line.item,
                unit_price=line.unit_price,
                quantity=line.quantity,
                amount=amount,
                funded_by=line.funded_by,
            )
        )
    total = sum((line.amount for line in lines), Decimal("0.00"))
    if total > MAX_AMOUNT:
        raise ValidationFailed.field(
            "budget_lines",
            _("The budget lines add up to {total} yuan, more than {largest}").format(
                total=f"{total:,.2f}", largest=LARGEST
            ),
        )
    return lines


def _apply_content(application: Application, programme: Programme, data: ApplicationIn) -> None:
    """Copy what the applicant wrote; compute every amount and total on the server.

    Everything is checked before anything is copied, so a refused request changes nothing.
    """
    if data.topic_id is not None and data.topic_id not in {t.id for t in programme.topics}:
        raise ValidationFailed.field("topic_id", _("This topic does not belong to the programme"))
    if data.category_id is not None and data.category_id not in {c.id for c in programme.categories}:
        raise ValidationFailed.field("category_id", _("This category does not belong to the programme"))
    lines = _budget_lines(data)
    grant = sum((line.amount for line in lines if line.funded_by is FundedBy.grant), Decimal("0.00"))
    cofunding = sum((line.amount for line in lines if line.funded_by is FundedBy.cofunding), Decimal("0.00"))
    if data.requested_amount is not None and data.requested_amount != grant:
        raise ValidationFailed.field(
            "requested_amount",
            _(
                "The stated request of {stated} yuan does not match the grant-funded budget lines, "
                "which add up to {computed} yuan"
            ).format(stated=f"{data.requested_amount:,.2f}", computed=f"{grant:,.2f}"),
        )
    application.title = data.title
    application.topic_id = data.topic_id
    application.category_id = data.category_id
    application.target_community = data.target_community
    application.beneficiaries = data.beneficiaries
    application.beneficiary_count = data.beneficiary_count
    application.needs = data.needs
    application.objectives = data.objectives
    application.activities = [a.model_dump(mode="json") for a in data.activities]
    application.budget_lines[:] = lines
    application.indicators[:] = [
        Indicator(seq=i, kind=ind.kind, name=ind.name, target=ind.target, unit=ind.unit)
        for i, ind in enumerate(data.indicators, start=1)
    ]
    application.requested_amount = grant
    application.cofunding_amount = cofunding
    application.total_budget = grant + cofunding


async def _record_event(
    session: AsyncSession,
    principal: Principal | None,
    application: Application,
    action: str,
    previous: ApplicationState | None,
    reason: str = "",
    extra: dict[str, Any] | None = None,
) -> None:
    session.add(
        ApplicationEvent(
            application_id=application.id,
            action=action,
            from_state=previous.value if previous else None,
            to_state=application.state.value,
            reason=reason,
            actor=(principal.full_name or principal.email) if principal else "system",
        )
    )
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action=f"application.{action}",
        subject_type="application",
        subject_id=application.id,
        centre_id=application.centre_id,
        before={"state": previous} if previous else None,
        after={"state": application.state, "reason": reason, **(extra or {})},
    )


async def require_member(session: AsyncSession, principal: Principal, organisation_id: int) -> Organisation:
    identity.require_writer(principal)
    org = await incubator.get_organisation(session, principal, organisation_id)
    if organisation_id not in await _member_orgs(session, principal):
        raise Forbidden(_("Only the organisation's members may write its applications"))
    return org


async def create_application(
    session: AsyncSession, principal: Principal, data: ApplicationCreate
) -> Application:
    org = await require_member(session, principal, data.organisation_id)
    programme = await get_programme(session, principal, data.programme_id)
    if programme.state is not ProgrammeState.open:
        raise Conflict(_("The programme is not open for applications"))
    if org.centre_id != programme.centre_id:
        raise NotFound(_("Programme not found"))
    application = Application(
        centre_id=programme.centre_id,
        programme_id=programme.id,
        organisation_id=org.id,
        state=ApplicationState.draft,
        created_by=principal.user_id,
        budget_lines=[],
        indicators=[],
        checks=[],
        events=[],
    )
    _apply_content(application, programme, data)
    session.add(application)
    await session.flush()
    await _record_event(session, principal, application, "create", None)
    return application


async def update_application(
    session: AsyncSession, principal: Principal, application_id: int, data: ApplicationIn
) -> Application:
    application = await get_application(session, principal, application_id)
    await require_member(session, principal, application.organisation_id)
    if application.state not in (ApplicationState.draft, ApplicationState.returned):
        raise Conflict(_("Only a draft or an application returned for correction can be edited"))
    programme = await get_programme(session, principal, application.programme_id)
    _apply_content(application, programme, data)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="application.update",
        subject_type="application",
        subject_id=application.id,
        centre_id=application.centre_id,
        after={"requested_amount": application.requested_amount, "total_budget": application.total_budget},
    )
    return application


def _track_cap(programme: Programme, org: Organisation) -> Decimal:
    if org.legal_status is LegalStatus.registered:
        return programme.max_award_registered
    return programme.max_award_community


def _pct(part: Decimal, whole: Decimal) -> Decimal:
    if whole == 0:
        return Decimal(0)
    return (part * HUNDRED / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class CheckResult:
    code: str
    passed: bool
    reason: str


def run_checks(
    programme: Programme, org: Organisation, application: Application, on: dt.date
) -> list[CheckResult]:
    """The automatic eligibility checks, each with its result and the reason."""
    results: list[CheckResult] = []
    verified = org.verified_at is not None and org.centre_id == programme.centre_id
    results.append(
        CheckResult(
            "organisation_verified",
            verified,
            _("The organisation is verified by this centre")
            if verified
            else _("The organisation is not yet verified by this centre"),
        )
    )
    allowed = org.legal_status is not LegalStatus.unregistered or programme.allow_unregistered
    results.append(
        CheckResult(
            "legal_status",
            allowed,
            _("Legal status {status} is allowed").format(status=_(incubator_legal_label(org.legal_status)))
            if allowed
            else _("Unregistered groups may not apply to this programme"),
        )
    )
    bar = incubator.bar_in_force(org, on)
    results.append(CheckResult("not_barred", bar is None, bar or _("Not barred")))
    cap = _track_cap(programme, org)
    within = application.requested_amount <= cap
    results.append(
        CheckResult(
            "requested_within_cap",
            within,
            _("Requested {amount} of at most {cap} for this track").format(
                amount=application.requested_amount, cap=cap
            ),
        )
    )
    cofunding = _pct(application.cofunding_amount, application.total_budget)
    enough = cofunding >= programme.min_cofunding_pct
    results.append(
        CheckResult(
            "cofunding_ratio",
            enough,
            _("Co-funding is {pct}% of the budget; at least {min}% is required").format(
                pct=cofunding, min=programme.min_cofunding_pct
            ),
        )
    )
    for code, category, cap_pct, label in (
        (
            "management_fee_cap",
            BudgetCategory.management,
            programme.management_fee_cap_pct,
            _("Management fee"),
        ),
        ("personnel_cap", BudgetCategory.personnel, programme.personnel_cap_pct, _("Personnel")),
    ):
        spent = sum(
            (
                line.amount
                for line in application.budget_lines
                if line.category is category and line.funded_by is FundedBy.grant
            ),
            Decimal(0),
        )
        share = _pct(spent, application.requested_amount)
        results.append(
            CheckResult(
                code,
                share <= cap_pct,
                _("{label} is {pct}% of the grant; the cap is {cap}%").format(
                    label=label, pct=share, cap=cap_pct
                ),
            )
        )
    grant_lines = [line for line in application.budget_lines if line.funded_by is FundedBy.grant]
    recomputed = sum((line_amount(x.unit_price, x.quantity) for x in application.budget_lines), Decimal(0))
    adds_up = (
        bool(grant_lines) and recomputed == application.total_budget and application.requested_amount > 0
    )
    results.append(
        CheckResult(
            "budget_adds_up",
            adds_up,
            _("Budget lines add up to {total}").format(total=application.total_budget)
            if adds_up
            else _("The budget needs at least one grant-funded line and lines that add up"),
        )
    )
    return results


def incubator_legal_label(status: LegalStatus) -> str:
    from incubator.models import LEGAL_LABELS

    return LEGAL_LABELS[status]


def can_application(application: Application, action: str) -> tuple[bool, str]:
    sources = APPLICATION_ACTIONS[action]
    if application.state in sources:
        return True, ""
    return False, _("Not possible while the application is {state}").format(
        state=_(APPLICATION_STATE_LABELS[application.state])
    )


APPLICATION_ACTIONS: dict[str, frozenset[ApplicationState]] = {
    "submit": frozenset({ApplicationState.draft, ApplicationState.returned}),
    "withdraw": frozenset(
        {
            ApplicationState.draft,
            ApplicationState.submitted,
            ApplicationState.eligible,
            ApplicationState.ineligible,
            ApplicationState.returned,
        }
    ),
    "return": frozenset({ApplicationState.submitted, ApplicationState.eligible, ApplicationState.ineligible}),
    "confirm-eligibility": frozenset({ApplicationState.submitted}),
}


def _require(application: Application, action: str) -> None:
    allowed, reason = can_application(application, action)
    if not allowed:
        raise Conflict(reason)


def window_state(programme: Programme, now: dt.datetime) -> tuple[bool, str]:
    if programme.state is not ProgrammeState.open:
        return False, _("The programme is not open for applications")
    if now < programme.opens_at:
        return False, _("The application window has not opened yet")
    if now >= programme.closes_at:
        return False, _("The deadline has passed")
    return True, ""


async def submit_application(
    session: AsyncSession, principal: Principal, application_id: int, *, now: dt.datetime | None = None
) -> Application:
    application = await get_application(session, principal, application_id)
    org = await require_member(session, principal, application.organisation_id)
    _require(application, "submit")
    programme = await get_programme(session, principal, application.programme_id)
    open_now, reason = window_state(programme, now or utcnow())
    if not open_now:
        raise Conflict(reason)
    if not application.budget_lines:
        raise ValidationFailed.field("budget_lines", _("Add the budget before submitting"))
    previous = application.state
    application.state = ApplicationState.submitted
    application.submitted_at = now or utcnow()
    application.checks.clear()
    await session.flush()  # the old results go before the new ones arrive (one row per check)
    application.checks[:] = [
        EligibilityCheck(code=r.code, passed=r.passed, reason=r.reason)
        for r in run_checks(programme, org, application, today())
    ]
    await session.flush()
    await _record_event(
        session,
        principal,
        application,
        "submit",
        previous,
        extra={
            "requested_amount": application.requested_amount,
            "checks": {c.code: c.passed for c in application.checks},
        },
    )
    return application


async def withdraw_application(
    session: AsyncSession, principal: Principal, application_id: int, reason: str
) -> Application:
    application = await get_application(session, principal, application_id)
    await require_member(session, principal, application.organisation_id)
    _require(application, "withdraw")
    previous = application.state
    application.state = ApplicationState.withdrawn
    await _record_event(session, principal, application, "withdraw", previous, reason)
    return application


async def return_application(
    session: AsyncSession,
    principal: Principal,
    application_id: int,
    reason: str,
    *,
    now: dt.datetime | None = None,
) -> Application:
    _require_staff(principal)
    application = await get_application(session, principal, application_id)
    _require(application, "return")
    programme = await get_programme(session, principal, application.programme_id)
    open_now, why = window_state(programme, now or utcnow())
    if not open_now:
        raise Conflict(
            _("Applications can be returned for correction only within the window: {why}").format(why=why)
        )
    previous = application.state
    application.state = ApplicationState.returned
    await _record_event(session, principal, application, "return", previous, reason)
    return application


async def confirm_eligibility(
    session: AsyncSession, principal: Principal, application_id: int, data: ConfirmEligibility
) -> Application:
    """Staff confirm each automatic check or override it with a written reason."""
    _require_staff(principal)
    application = await get_application(session, principal, application_id)
    _require(application, "confirm-eligibility")
    decisions = {d.code: d for d in data.decisions}
    unknown = set(decisions) - {c.code for c in application.checks}
    if unknown:
        raise ValidationFailed.field(
            "decisions", _("Unknown checks: {codes}").format(codes=", ".join(sorted(unknown)))
        )
    overrides: dict[str, Any] = {}
    for check in application.checks:
        decision = decisions.get(check.code)
        final = check.passed if decision is None else decision.passed
        if final != check.passed and (decision is None or len(decision.reason.strip()) < 2):
            raise ValidationFailed.field(
                f"decisions.{check.code}", _("Overriding a check needs a written reason")
            )
        check.final_passed = final
        check.staff_reason = decision.reason.strip() if decision and decision.reason.strip() else None
        check.decided_by, check.decided_at = principal.user_id, utcnow()
        if final != check.passed:
            overrides[check.code] = {"automatic": check.passed, "final": final, "reason": check.staff_reason}
    previous = application.state
    eligible = all(c.final_passed for c in application.checks)
    application.state = ApplicationState.eligible if eligible else ApplicationState.ineligible
    failing = "；".join(c.reason for c in application.checks if not c.final_passed)
    await _record_event(
        session, principal, application, "confirm_eligibility", previous, failing, {"overrides": overrides}
    )
    return application


# --- review (plugs into evaluations) ----------------------------------------------------


def _display(application: Application, org: Organisation, programme: Programme) -> dict[str, str]:
    category = next((c.name for c in programme.categories if c.id == application.category_id), "")
    budget = "\n".join(
        f"{line.item}: {line.unit_price} × {line.quantity} = {line.amount} ({line.funded_by.value})"
        for line in application.budget_lines
    )
    return {
        "organisation": org.name,
        "uscc": org.uscc or "",
        "contact": org.contact_name,
        "title": application.title,
        "category": category,
        "community": application.target_community,
        "beneficiaries": application.beneficiaries[:5000],
        "needs": application.needs[:5000],
        "objectives": application.objectives[:5000],
        "budget": budget[:5000],
        "requested_amount": str(application.requested_amount),
    }


async def start_review(session: AsyncSession, principal: Principal, programme_id: int) -> Programme:
    """Close the call and hand the eligible applications to a review round."""
    _require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    allowed, reason = can_programme(programme, "start-review")
    if not allowed:
        raise Conflict(reason)
    pending = await session.execute(
        select(func.count())
        .select_from(Application)
        .where(Application.programme_id == programme.id, Application.state == ApplicationState.submitted)
    )
    if pending.scalar_one():
        raise Conflict(_("Confirm the eligibility of every submitted application first"))
    if programme.rubric_version_id is None:
        raise Conflict(_("Choose the review rubric before opening the call"))
    round_ = await evaluations.create_round(
        session,
        principal,
        RoundCreate(
            name=_("Expert review: {name}").format(name=programme.name)[:200],
            purpose=RoundPurpose.application_review,
            rubric_version_id=programme.rubric_version_id,
            min_sheets_per_subject=programme.min_reviewers,
            blind=programme.blind_review,
            programme_budget=programme.total_budget - programme.committed,
            category_budgets={c.code: c.budget - c.committed for c in programme.categories},
        ),
    )
    codes = {c.id: c.code for c in programme.categories}
    applications = (
        await session.execute(
            select(Application, Organisation)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .options(selectinload(Application.budget_lines), selectinload(Application.events))
            .where(Application.programme_id == programme.id, Application.state == ApplicationState.eligible)
            .order_by(Application.id)
        )
    ).all()
    for application, org in applications:
        await evaluations.add_subject(
            session,
            principal,
            round_.id,
            SubjectCreate(
                subject_type="application",
                subject_id=application.id,
                organisation_id=org.id,
                category=codes.get(application.category_id or 0, ""),
                title=application.title,
                requested_amount=application.requested_amount,
                display=_display(application, org, programme),
            ),
        )
        previous = application.state
        application.state = ApplicationState.under_review
        await _record_event(session, principal, application, "start_review", previous)
    programme.review_round_id = round_.id
    await _programme_transition(session, principal, programme, "start-review")
    return programme


async def collect_review(session: AsyncSession, principal: Principal, programme_id: int) -> Programme:
    """Take the closed round's scores, ranks and budget-constrained recommendation."""
    _require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    if programme.state is not ProgrammeState.reviewing or programme.review_round_id is None:
        raise Conflict(_("The programme has no review in progress"))
    recommendation = await evaluations.recommendation(session, principal, programme.review_round_id)
    by_application = {
        item.subject_ref: item for item in recommendation.items if item.subject_type == "application"
    }
    applications = (
        await session.execute(
            select(Application)
            .options(selectinload(Application.events))
            .where(
                Application.programme_id == programme.id, Application.state == ApplicationState.under_review
            )
        )
    ).scalars()
    for application in applications:
        item = by_application.get(application.id)
        if item is None:
            continue
        previous = application.state
        application.review_score = item.final_score
        application.rank = item.rank_in_category
        application.state = (
            ApplicationState.recommended if item.recommended else ApplicationState.not_recommended
        )
        await _record_event(
            session,
            principal,
            application,
            "review",
            previous,
            item.reason,
            {"score": item.final_score, "rank": item.rank_in_category},
        )
    return programme


async def _commit_budget(session: AsyncSession, application: Application, amount: Decimal) -> None:
    """Reserve the award in the programme (and category) budget with conditional UPDATEs.

    ``committed + x <= total`` is checked by the database in the same statement that
    changes it, so concurrent decisions can never overspend; the CHECK constraints are the
    last line of defence.
    """
    result = await session.execute(
        update(Programme)
        .where(
            Programme.id == application.programme_id, Programme.committed + amount <= Programme.total_budget
        )
        .values(committed=Programme.committed + amount)
        .returning(Programme.id)
    )
    if result.first() is None:
        raise Conflict(_("The programme budget does not allow this award"))
    if application.category_id is not None:
        result = await session.execute(
            update(ProgrammeCategory)
            .where(
                ProgrammeCategory.id == application.category_id,
                ProgrammeCategory.committed + amount <= ProgrammeCategory.budget,
            )
            .values(committed=ProgrammeCategory.committed + amount)
            .returning(ProgrammeCategory.id)
        )
        if result.first() is None:
            raise Conflict(_("The category budget does not allow this award"))


async def _release_budget(session: AsyncSession, application: Application, amount: Decimal) -> None:
    await session.execute(
        update(Programme)
        .where(Programme.id == application.programme_id)
        .values(committed=Programme.committed - amount)
    )
    if application.category_id is not None:
        await session.execute(
            update(ProgrammeCategory)
            .where(ProgrammeCategory.id == application.category_id)
            .values(committed=ProgrammeCategory.committed - amount)
        )


DECIDABLE = frozenset(
    {ApplicationState.reviewed, ApplicationState.recommended, ApplicationState.not_recommended}
)


async def decide(session: AsyncSession, principal: Principal, programme_id: int, data: DecideIn) -> Programme:
    """立项: approve or reject every reviewed application, each with a reason."""
    _require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    allowed, reason = can_programme(programme, "decide")
    if not allowed:
        raise Conflict(reason)
    rows = (
        await session.execute(
            select(Application, Organisation)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .options(selectinload(Application.events))
            .where(Application.programme_id == programme.id, Application.state.in_(DECIDABLE))
        )
    ).all()
    pending = {application.id: (application, org) for application, org in rows}
    if not pending:
        raise Conflict(_("No reviewed applications to decide; collect the review results first"))
    decided = {d.application_id: d for d in data.decisions}
    unknown = sorted(set(decided) - set(pending))
    if unknown:
        raise ValidationFailed.field(
            "decisions",
            _("These applications cannot be decided now: {ids}").format(ids=", ".join(map(str, unknown))),
        )
    missing = sorted(set(pending) - set(decided))
    if missing:
        raise ValidationFailed.field(
            "decisions",
            _("Every reviewed application needs a decision; missing: {ids}").format(
                ids=", ".join(map(str, missing))
            ),
        )
    # The programme's state moves first: of concurrent decisions one wins this
    # compare-and-set, and the others stop at it before touching any budget.
    await _programme_transition(session, principal, programme, "decide")
    for application_id in sorted(pending):
        application, org = pending[application_id]
        decision = decided[application_id]
        previous = application.state
        if decision.approve:
            amount = decision.amount if decision.amount is not None else application.requested_amount
            if amount <= 0 or amount > application.requested_amount:
                raise ValidationFailed.field(
                    f"decisions.{application_id}.amount",
                    _("The approved amount must be above zero and at most the request"),
                )
            if amount > _track_cap(programme, org):
                raise ValidationFailed.field(
                    f"decisions.{application_id}.amount",
                    _("The approved amount exceeds the cap of the track"),
                )
            if amount < CENT * max(1, len(programme.tranche_plan)):
                raise ValidationFailed.field(
                    f"decisions.{application_id}.amount",
                    _("The approved amount is too small to pay in {n} tranches").format(
                        n=len(programme.tranche_plan)
                    ),
                )
            await _commit_budget(session, application, amount)
            application.approved_amount = amount
            application.state = ApplicationState.approved
        else:
            application.state = ApplicationState.rejected
        application.decision_reason = decision.reason
        await _record_event(
            session,
            principal,
            application,
            "decide",
            previous,
            decision.reason,
            {"approved_amount": application.approved_amount},
        )
    return programme


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
    later, never before, or it could end before anyone saw it.
    """
    _require_staff(principal)
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
    first, last = calendar.working_days_from(start, programme.publicity_working_days)
    approved = (
        await session.execute(
            select(Application)
            .options(selectinload(Application.events))
            .where(Application.programme_id == programme.id, Application.state == ApplicationState.approved)
        )
    ).scalars()
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


async def close_programme(session: AsyncSession, principal: Principal, programme_id: int) -> Programme:
    _require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    await _programme_transition(session, principal, programme, "close")
    return programme


# --- publicity: the public list and objections ------------------------------------------


async def publicity_list(
    session: AsyncSession, on: dt.date, centre_id: int | None = None
) -> list[tuple[Application, Organisation, str | None]]:
    """Approved applications whose publicity is open on ``on`` (no login needed)."""
    statement = (
        select(Application, Organisation, ProgrammeCategory.name)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .outerjoin(ProgrammeCategory, ProgrammeCategory.id == Application.category_id)
        .where(
            Application.state == ApplicationState.approved,
            Application.publicity_starts_on <= on,
            Application.publicity_ends_on >= on,
        )
        .order_by(Application.programme_id, Application.rank.is_(None), Application.rank, Application.id)
    )
    if centre_id is not None:
        statement = statement.where(Application.centre_id == centre_id)
    return [(a, o, c) for a, o, c in (await session.execute(statement)).all()]


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


async def list_objections(
    session: AsyncSession, principal: Principal, page: PageParams, *, state: ObjectionState | None = None
) -> Paged[Objection]:
    statement = select(Objection).order_by(Objection.id.desc())
    if not principal.sees_all_centres:
        statement = statement.where(Objection.centre_id == principal.centre_id)
    if state is not None:
        statement = statement.where(Objection.state == state)
    count = (await session.execute(select(func.count()).select_from(statement.subquery()))).scalar_one()
    rows = (await session.execute(statement.limit(page.page_size).offset(page.offset))).scalars().all()
    return Paged(items=rows, total=count, page=page.page, page_size=page.page_size)


async def resolve_objection(
    session: AsyncSession, principal: Principal, objection_id: int, data: ResolveObjection
) -> Objection:
    """Upheld: the application is rejected with the reason and its budget released. Dismissed: noted."""
    _require_staff(principal)
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


# --- awards -----------------------------------------------------------------------------


async def create_award(
    session: AsyncSession,
    actor: Principal | None,
    application: Application,
    programme: Programme,
    on: dt.date,
) -> Award | None:
    """Create the award with its tranche schedule, exactly once per application."""
    existing = (
        await session.execute(select(Award.id).where(Award.application_id == application.id))
    ).scalar_one_or_none()
    if existing is not None or application.approved_amount is None:
        return None
    award = Award(
        centre_id=application.centre_id,
        programme_id=programme.id,
        application_id=application.id,
        organisation_id=application.organisation_id,
        category_id=application.category_id,
        title=application.title,
        amount=application.approved_amount,
        paid=Decimal("0.00"),
        awarded_on=on,
        tranches=tranches_for(application.approved_amount, programme.tranche_plan),
    )
    try:
        async with session.begin_nested():
            session.add(award)
            await session.flush()
    except IntegrityError:
        return None  # another process created it first: the unique application_id says so
    previous = application.state
    application.state = ApplicationState.awarded
    await _record_event(session, actor, application, "award", previous, "", {"award_id": award.id})
    await audit.record(
        session,
        actor=actor,
        action="award.create",
        subject_type="award",
        subject_id=award.id,
        centre_id=award.centre_id,
        after={"amount": award.amount, "tranches": [str(t.amount) for t in award.tranches]},
    )
    return award


async def finalise_publicity(
    session: AsyncSession, on: dt.date, *, programme_id: int | None = None
) -> list[Award]:
    """Award every approved application whose publicity ended with no open or upheld objection.

    Runs as a scheduled job and on access; idempotent (an application is awarded once).
    """
    statement = (
        select(Application)
        .options(selectinload(Application.events))
        .where(Application.state == ApplicationState.approved, Application.publicity_ends_on < on)
        .execution_options(populate_existing=True)
    )
    if programme_id is not None:
        statement = statement.where(Application.programme_id == programme_id)
    created: list[Award] = []
    for application in (await session.execute(statement)).scalars().all():
        open_objections = (
            await session.execute(
                select(func.count())
                .select_from(Objection)
                .where(Objection.application_id == application.id, Objection.state == ObjectionState.open)
            )
        ).scalar_one()
        if open_objections:
            continue
        programme = (
            await session.execute(
                select(Programme)
                .options(selectinload(Programme.tranche_plan))
                .where(Programme.id == application.programme_id)
            )
        ).scalar_one()
        award = await create_award(session, None, application, programme, on)
        if award is not None:
            created.append(award)
    # A publicised programme whose approved applications are all settled is running.
    publicised = (
        select(Programme)
        .where(Programme.state == ProgrammeState.publicised)
        .execution_options(populate_existing=True)
    )
    if programme_id is not None:
        publicised = publicised.where(Programme.id == programme_id)
    for programme in (await session.execute(publicised)).scalars().all():
        waiting = (
            await session.execute(
                select(func.count())
                .select_from(Application)
                .where(
                    Application.programme_id == programme.id, Application.state == ApplicationState.approved
                )
            )
        ).scalar_one()
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


async def get_award(session: AsyncSession, principal: Principal, award_id: int) -> Award:
    orgs = None
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        orgs = await _member_orgs(session, principal)
    repository = AwardRepository(session, principal, orgs)
    return await repository.get(award_id, repository.full())


async def list_awards(
    session: AsyncSession, principal: Principal, page: PageParams, *, programme_id: int | None = None
) -> Paged[Award]:
    orgs = None
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        orgs = await _member_orgs(session, principal)
    repository = AwardRepository(session, principal, orgs)
    statement = repository.full()
    if programme_id is not None:
        statement = statement.where(Award.programme_id == programme_id)
    return await repository.paginate(statement.order_by(Award.id), page)


async def completed_projects(session: AsyncSession, organisation_id: int) -> int:
    """How many awards of an organisation were completed (the incubator's graduation check)."""
    result = await session.execute(
        select(func.count())
        .select_from(Award)
        .where(Award.organisation_id == organisation_id, Award.state == "completed")
    )
    return int(result.scalar_one())


async def awarded_grants(
    session: AsyncSession, principal: Principal
) -> Sequence[tuple[Award, Organisation, Programme]]:
    statement = (
        select(Award, Organisation, Programme)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .join(Programme, Programme.id == Award.programme_id)
        .order_by(Award.id)
    )
    if not principal.sees_all_centres:
        statement = statement.where(Award.centre_id == principal.centre_id)
    return [(a, o, p) for a, o, p in (await session.execute(statement)).all()]
