"""The hand-off to evaluations (start the review, collect the ranking) and the decision (立项):
approved amounts are committed from the programme and category budgets."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, ValidationFailed
from core.i18n import _
from core.identity.principal import Principal
from core.money import CENT
from evaluations.results import service as result_service
from evaluations.rounds import service as round_service
from evaluations.rounds.schemas import RoundCreate, SubjectCreate
from evaluations.rubrics.models import RoundPurpose
from grants.access import require_staff
from grants.applications import repository as queries
from grants.applications.models import (
    Application,
    ApplicationState,
)
from grants.applications.schemas import (
    DecideIn,
)
from grants.applications.service import _record_event, _track_cap
from grants.programmes import repository as programme_queries
from grants.programmes.models import (
    Programme,
    ProgrammeState,
)
from grants.programmes.service import _programme_transition, can_programme, get_programme
from incubator.models import Organisation


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
    require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    allowed, reason = can_programme(programme, "start-review")
    if not allowed:
        raise Conflict(reason)
    if await queries.submitted_count(session, programme.id):
        raise Conflict(_("Confirm the eligibility of every submitted application first"))
    if programme.rubric_version_id is None:
        raise Conflict(_("Choose the review rubric before opening the call"))
    round_ = await round_service.create_round(
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
    applications = await queries.eligible_with_organisations(session, programme.id)
    for application, org in applications:
        await round_service.add_subject(
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
    require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    if programme.state is not ProgrammeState.reviewing or programme.review_round_id is None:
        raise Conflict(_("The programme has no review in progress"))
    recommendation = await result_service.recommendation(session, principal, programme.review_round_id)
    by_application = {
        item.subject_ref: item for item in recommendation.items if item.subject_type == "application"
    }
    applications = await queries.under_review_with_events(session, programme.id)
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
    if not await programme_queries.reserve_programme_budget(session, application.programme_id, amount):
        raise Conflict(_("The programme budget does not allow this award"))
    if application.category_id is not None and not await programme_queries.reserve_category_budget(
        session, application.category_id, amount
    ):
        raise Conflict(_("The category budget does not allow this award"))


async def _release_budget(session: AsyncSession, application: Application, amount: Decimal) -> None:
    await programme_queries.release_budget(session, application.programme_id, application.category_id, amount)


DECIDABLE = frozenset(
    {ApplicationState.reviewed, ApplicationState.recommended, ApplicationState.not_recommended}
)


async def decide(session: AsyncSession, principal: Principal, programme_id: int, data: DecideIn) -> Programme:
    """立项: approve or reject every reviewed application, each with a reason."""
    require_staff(principal)
    programme = await get_programme(session, principal, programme_id)
    allowed, reason = can_programme(programme, "decide")
    if not allowed:
        raise Conflict(reason)
    rows = await queries.in_states_with_organisations(session, programme.id, DECIDABLE)
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
        reason_needed = not decision.approve or (
            decision.amount is not None and decision.amount != application.requested_amount
        )
        if reason_needed and len(decision.reason.strip()) < 2:
            raise ValidationFailed.field(
                f"decisions.{application_id}.reason",
                _("Give the reason: the decision differs from the request")
                if decision.approve
                else _("Give the reason for rejecting"),
            )
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
