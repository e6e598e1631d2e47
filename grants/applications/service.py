"""Applications: drafting with a budget table, submission before the deadline, the automatic
eligibility checks and staff's confirmation, withdrawal and return."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Protocol

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from communities import service as communities
from core import audit
from core.clock import today
from core.db import utcnow
from core.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from core.files import FileStore, StoredFile, store_upload
from core.i18n import _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from core.money import CENT, MAX_AMOUNT, format_money
from core.repository import Paged, PageParams
from grants import notices, timeline
from grants.access import member_org_ids, require_staff
from grants.applications import repository
from grants.applications.models import (
    APPLICATION_STATE_LABELS,
    Application,
    ApplicationAttachment,
    ApplicationState,
    BudgetCategory,
    BudgetLine,
    EligibilityCheck,
    FundedBy,
    Indicator,
)
from grants.applications.repository import ApplicationRepository, Listed, PageFacts
from grants.applications.schemas import (
    ApplicationCreate,
    ApplicationIn,
    ConfirmEligibility,
)
from grants.programmes.models import (
    Programme,
    ProgrammeState,
)
from grants.programmes.repository import ProgrammeRepository
from grants.programmes.service import HUNDRED, LARGEST, get_programme
from incubator import service as incubator
from incubator.models import LegalStatus, Organisation


async def application_repository(session: AsyncSession, principal: Principal) -> ApplicationRepository:
    orgs = None
    reviewable = None
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        orgs = await member_org_ids(session, principal)
        if principal.has(Role.evaluator):
            reviewable = list(await repository.reviewable_application_ids(session, principal.user_id))
    return ApplicationRepository(session, principal, orgs, reviewable)


class ApplicationFacts(Protocol):
    """What the readers of an application's page need of it: the ORM application, or the
    ``ApplicationOut`` read as columns (``application_detail``)."""

    @property
    def id(self) -> int: ...
    @property
    def programme_id(self) -> int: ...
    @property
    def organisation_id(self) -> int: ...
    @property
    def category_id(self) -> int | None: ...
    @property
    def topic_id(self) -> int | None: ...
    @property
    def state(self) -> ApplicationState: ...


async def programme_of(session: AsyncSession, principal: Principal, application: Application) -> Programme:
    """The programme of an application the caller already reads (an assigned evaluator too, who
    otherwise reads nothing of grants)."""
    programmes = ProgrammeRepository(session, principal)
    return await programmes.get(application.programme_id, programmes.full())


async def programme_and_names(
    session: AsyncSession, principal: Principal, application: ApplicationFacts
) -> tuple[Any, str, str]:
    """The programme of an application the caller already reads (its own columns), with the
    names of the application's category and topic: one statement, for the application's page."""
    return await ProgrammeRepository(session, principal).with_names(
        application.programme_id, application.category_id, application.topic_id
    )


async def identity_hidden(session: AsyncSession, principal: Principal, application: ApplicationFacts) -> bool:
    """Whether the applicant's identity is hidden from this reader: an evaluator who is not a
    member of the organisation (nor staff) and scores the application in a blind round."""
    if principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin):
        return False
    if application.organisation_id in await member_org_ids(session, principal):
        return False
    return (await repository.reviewable_application_ids(session, principal.user_id)).get(application.id, True)


async def get_application(session: AsyncSession, principal: Principal, application_id: int) -> Application:
    repository = await application_repository(session, principal)
    return await repository.get_full(application_id)


async def application_detail(
    session: AsyncSession, principal: Principal, application_id: int
) -> dict[str, Any]:
    """The application as ``ApplicationOut`` shows it, read as columns (``ApplicationRepository.detail``)."""
    repository = await application_repository(session, principal)
    return await repository.detail(application_id)


async def application_page(
    session: AsyncSession, principal: Principal, application_id: int
) -> tuple[dict[str, Any], PageFacts]:
    """``application_detail`` with what the application's page shows besides, read in the
    same statement (``ApplicationRepository.page_detail``)."""
    repository = await application_repository(session, principal)
    return await repository.page_detail(application_id, principal.user_id)


async def page_programme(
    session: AsyncSession, principal: Principal, application: ApplicationFacts, facts: PageFacts | None
) -> tuple[Any, str, str]:
    """``programme_and_names``, answered from ``facts`` when the reader's programme scope
    (their centre) admits the programme; else asked of the programme repository, whose
    refusal stands."""
    if facts is not None and principal.in_centre(facts.programme_centre_id):
        return facts.programme, facts.category_name, facts.topic_title
    return await programme_and_names(session, principal, application)


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
    statement = Listed(programme_id, state, organisation_id).applied(repository.select())
    return await repository.paginate(statement, page)


async def application_briefs(
    session: AsyncSession, principal: Principal, page: PageParams, listed: Listed
) -> Paged[Row[Any]]:
    """A page of applications as rows of the columns ``ApplicationBrief`` shows (no ORM
    objects): what the API's application list answers."""
    repository = await application_repository(session, principal)
    return await repository.briefs_page(listed, page)


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
                    n=i + 1, price=format_money(line.unit_price), quantity=line.quantity, largest=LARGEST
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
                total=format_money(total), largest=LARGEST
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
            ).format(stated=format_money(data.requested_amount), computed=format_money(grant)),
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
    await timeline.record(
        session, principal, application, action, note=reason, previous=previous, extra=extra
    )
    await notices.application_changed(session, application, action, reason)


async def require_member(session: AsyncSession, principal: Principal, organisation_id: int) -> Organisation:
    identity.require_writer(principal)
    org = await incubator.get_organisation(session, principal, organisation_id)
    if organisation_id not in await member_org_ids(session, principal):
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
    application.target_community_id = await communities.id_named(
        session, application.centre_id, application.target_community
    )
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
    application.target_community_id = await communities.id_named(
        session, application.centre_id, application.target_community
    )
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


def track_cap(programme: Programme, org: Organisation) -> Decimal:
    """The most this organisation may request: its legal status picks the track."""
    return _track_cap(programme, org)


def track_label(org: Organisation) -> str:
    if org.legal_status is LegalStatus.registered:
        return _("registered organisations")
    return _("filed organisations and resident groups")


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
            _("Co-funding is {pct}%; the budget needs at least {min}%").format(
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
                _("{label} takes {pct}%; the cap is {cap}%").format(label=label, pct=share, cap=cap_pct),
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


def can_application(application: ApplicationFacts, action: str) -> tuple[bool, str]:
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


class ProgrammeWindow(Protocol):
    """What deciding whether a programme takes applications now needs of it."""

    @property
    def state(self) -> ProgrammeState: ...
    @property
    def opens_at(self) -> dt.datetime: ...
    @property
    def closes_at(self) -> dt.datetime: ...


def window_state(programme: ProgrammeWindow, now: dt.datetime) -> tuple[bool, str]:
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
    problems = readiness(programme, org, application, today()).problems
    if problems:
        # The same rule the form applies before its submit button: a proposal without the
        # narrative, activities, indicators or budget it needs is not submitted by any face.
        raise ValidationFailed(
            "；".join(problems.values()),
            details=[FieldError(name, message) for name, message in problems.items()],
        )
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
    require_staff(principal)
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
    require_staff(principal)
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


# --- attachments -------------------------------------------------------------------------

EDITABLE_STATES = frozenset({ApplicationState.draft, ApplicationState.returned})
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class AttachmentView:
    id: int
    label: str
    original_name: str
    content_type: str
    size: int
    sha256: str

    @property
    def inline(self) -> bool:
        """PDF and images are shown in the browser; Office files are downloaded."""
        return self.content_type in INLINE_TYPES

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


def _attachment_view(link: ApplicationAttachment, stored: StoredFile) -> AttachmentView:
    return AttachmentView(
        id=link.id,
        label=link.label,
        original_name=stored.original_name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
    )


def can_edit_content(application: Application) -> tuple[bool, str]:
    if application.state in EDITABLE_STATES:
        return True, ""
    return False, _("Only a draft or an application returned for correction can be edited")


async def list_attachments(
    session: AsyncSession, principal: Principal, application_id: int
) -> list[AttachmentView]:
    """Whoever may read the application (its members, centre staff, its assigned evaluators)."""
    application = await (await application_repository(session, principal)).get(application_id)
    return await attachment_views(session, application)


async def attachment_views(
    session: AsyncSession, application: ApplicationFacts, known: Sequence[Any] | None = None
) -> list[AttachmentView]:
    """The attachments of an application the caller has already read (through
    ``get_application``, which checked their access): no second read of the application.
    ``known``: their rows, read with the application (``PageFacts.attachments``)."""
    rows = known if known is not None else await repository.attachment_rows(session, application.id)
    return [AttachmentView(*row) for row in rows]


async def add_attachment(
    session: AsyncSession,
    principal: Principal,
    application_id: int,
    *,
    store: FileStore,
    filename: str,
    content: bytes,
    label: str,
    max_bytes: int,
) -> AttachmentView:
    """PDF, images or Office files, checked by content and size; only while the application
    can be edited, and only by the organisation's members."""
    application = await get_application(session, principal, application_id)
    await require_member(session, principal, application.organisation_id)
    allowed, reason = can_edit_content(application)
    if not allowed:
        raise Conflict(reason)
    label = label.strip()
    if len(label) > 200:
        raise ValidationFailed.field("label", _("At most 200 characters"))
    stored = await store_upload(
        session,
        store,
        centre_id=application.centre_id,
        uploaded_by=principal.user_id,
        filename=filename or "file",
        content=content,
        max_bytes=max_bytes,
    )
    link = ApplicationAttachment(application_id=application.id, file_id=stored.id, label=label)
    session.add(link)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="application.attach",
        subject_type="application",
        subject_id=application.id,
        centre_id=application.centre_id,
        after={"attachment_id": link.id, "name": stored.original_name, "sha256": stored.sha256},
    )
    return _attachment_view(link, stored)


async def remove_attachment(
    session: AsyncSession, principal: Principal, application_id: int, attachment_id: int
) -> AttachmentView:
    application = await get_application(session, principal, application_id)
    await require_member(session, principal, application.organisation_id)
    found = await repository.attachment_of(session, application.id, attachment_id)
    if found is None:
        raise NotFound(_("Record not found"))
    allowed, reason = can_edit_content(application)
    if not allowed:
        raise Conflict(reason)
    view = _attachment_view(*found)
    if not await repository.delete_attachment(session, attachment_id):
        raise NotFound(_("Record not found"))
    await audit.record(
        session,
        actor=principal,
        action="application.detach",
        subject_type="application",
        subject_id=application.id,
        centre_id=application.centre_id,
        before={"attachment_id": view.id, "name": view.original_name, "sha256": view.sha256},
    )
    return view


async def read_attachment(
    session: AsyncSession, principal: Principal, application_id: int, attachment_id: int, *, store: FileStore
) -> tuple[AttachmentView, bytes]:
    """The bytes, only to a reader of the application (404 to anyone else)."""
    application = await get_application(session, principal, application_id)
    found = await repository.attachment_of(session, application.id, attachment_id)
    if found is None:
        raise NotFound(_("Record not found"))
    view = _attachment_view(*found)
    return view, store.read(found[1].storage_key)


# --- readiness before submission ---------------------------------------------------------

# The eligibility checks an applicant fixes in the budget, and where the form shows them.
CHECK_FIELDS = {
    "requested_within_cap": "total-grant",
    "cofunding_ratio": "total-cofunding",
    "budget_adds_up": "budget_lines",
}
ROW_CAPS = {"management_fee_cap": BudgetCategory.management, "personnel_cap": BudgetCategory.personnel}
ORGANISATION_CHECKS = frozenset({"organisation_verified", "legal_status", "not_barred"})


@dataclass(frozen=True)
class Readiness:
    """Before submitting. ``problems`` block it (what a proposal must contain); ``warnings`` are
    the eligibility checks that would fail, placed under the field or budget row (``budget_lines.N``)
    that fixes them; ``notices`` are what only the centre settles (the organisation's checks)."""

    problems: dict[str, str]
    warnings: dict[str, str]
    notices: list[str]

    @property
    def ready(self) -> bool:
        return not self.problems

    @property
    def clean(self) -> bool:
        return not self.problems and not self.warnings


def readiness(programme: Programme, org: Organisation, application: Application, on: dt.date) -> Readiness:
    """The eligibility checks the submission will run, plus the narrative the proposal needs."""
    problems: dict[str, str] = {}
    for name, message in (
        ("beneficiaries", _("Describe who the project serves")),
        ("needs", _("Describe the needs the project answers")),
        ("objectives", _("State the project's objectives")),
    ):
        if not str(getattr(application, name) or "").strip():
            problems[name] = message
    if not application.activities:
        problems["activities"] = _("Add at least one activity with its dates")
    if not application.indicators:
        problems["indicators"] = _("Add at least one indicator with its target")
    if not application.budget_lines:
        problems["budget_lines"] = _("Add the budget before submitting")
    for i, line in enumerate(application.budget_lines):
        if line.amount <= 0:
            problems[f"budget_lines.{i}"] = _("This line comes to 0.00 yuan: enter a price and a quantity")
    warnings: dict[str, str] = {}
    notices: list[str] = []
    for result in run_checks(programme, org, application, on):
        if result.passed:
            continue
        if result.code in ORGANISATION_CHECKS:
            notices.append(result.reason)
        elif result.code in ROW_CAPS:
            category = ROW_CAPS[result.code]
            for i, line in enumerate(application.budget_lines):
                if line.category is category and line.funded_by is FundedBy.grant:
                    warnings.setdefault(f"budget_lines.{i}", result.reason)
        elif "budget_lines" not in problems:
            field = CHECK_FIELDS.get(result.code, "budget_lines")
            warnings[field] = f"{warnings[field]}；{result.reason}" if field in warnings else result.reason
    return Readiness(problems, warnings, notices)


async def application_readiness(
    session: AsyncSession, principal: Principal, application: Application
) -> Readiness:
    programme = await get_programme(session, principal, application.programme_id)
    org = await incubator.get_organisation(session, principal, application.organisation_id)
    return readiness(programme, org, application, today())


async def confirm_as_checked(session: AsyncSession, principal: Principal, application_id: int) -> Application:
    """Confirm eligibility as the automatic checks found it, for staff working through a batch.

    Only an application whose every automatic check passed is confirmed this way; one with a
    failing check is refused, since overriding or upholding it needs a decision and a reason
    on the application itself.
    """
    require_staff(principal)
    application = await get_application(session, principal, application_id)
    _require(application, "confirm-eligibility")
    failing = [c.reason for c in application.checks if not c.passed]
    if failing:
        raise Conflict(
            _("An automatic check failed ({reasons}); decide it on the application, with a reason").format(
                reasons="；".join(failing)
            )
        )
    return await confirm_eligibility(session, principal, application_id, ConfirmEligibility())
