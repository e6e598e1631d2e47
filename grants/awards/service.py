"""An award's life (SPEC §4.4): created once after publicity, signed, tranches due when their
trigger holds, evaluation outcomes, rectification (整改), termination with clawback (追回),
closing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.clock import today
from core.db import utcnow
from core.errors import Conflict, Forbidden, ValidationFailed
from core.i18n import _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from core.money import format_money
from core.repository import Paged, PageParams
from evaluations.rubrics import service as rubric_service
from grants import notices, timeline
from grants.access import member_org_ids, notify_finance, require_staff
from grants.applications.models import (
    Application,
    ApplicationState,
)
from grants.applications.service import _record_event
from grants.awards import repository as queries
from grants.awards.execution import award_execution
from grants.awards.models import (
    Award,
    AwardAgreement,
    AwardDocument,
    AwardEvaluation,
    AwardState,
    Clawback,
    EvaluationPurpose,
    Rectification,
    RectificationState,
    Tranche,
    TrancheState,
)
from grants.awards.repository import (
    AwardRepository,
    spent_on_award,
)
from grants.awards.schedule import tranches_for
from grants.awards.schemas import (
    CloseIn,
    EvaluationOutcomeIn,
    RectifyIn,
    SignIn,
    TerminateIn,
)
from grants.disbursements.repository import open_disbursement
from grants.programmes import repository as programme_queries
from grants.programmes.models import (
    Programme,
    TrancheTrigger,
)
from incubator import service as incubator

DEFAULT_RECTIFICATION_DAYS = 30


PURPOSE_TRIGGER = {
    EvaluationPurpose.midterm: TrancheTrigger.midterm_passed,
    EvaluationPurpose.final: TrancheTrigger.final_passed,
}


async def award_repository(session: AsyncSession, principal: Principal) -> AwardRepository:
    members = None
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        members = await member_org_ids(session, principal)
    return AwardRepository(session, principal, members)


async def get_award(session: AsyncSession, principal: Principal, award_id: int) -> Award:
    """The award with its tranches; another centre's (or organisation's) award is not found."""
    repository = await award_repository(session, principal)
    return await repository.get(award_id, repository.full().execution_options(populate_existing=True))


async def list_awards(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    programme_id: int | None = None,
    state: AwardState | None = None,
) -> Paged[Award]:
    repository = await award_repository(session, principal)
    statement = repository.select()
    if programme_id is not None:
        statement = statement.where(Award.programme_id == programme_id)
    if state is not None:
        statement = statement.where(Award.state == state)
    return await repository.paginate(statement.order_by(Award.id.desc()), params)


async def is_grantee(session: AsyncSession, principal: Principal, award: Award) -> bool:
    return award.organisation_id in await member_org_ids(session, principal)


async def require_grantee(session: AsyncSession, principal: Principal, award: Award) -> None:
    identity.require_writer(principal)
    if not await is_grantee(session, principal, award):
        raise Forbidden(_("Only the grantee organisation may do this"))


async def record_event(
    session: AsyncSession,
    principal: Principal | None,
    award: Award,
    action: str,
    note: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await timeline.record(session, principal, award, action, note=note, before=before, after=after)
    await notices.award_changed(session, award, action, note)


async def _make_due(
    session: AsyncSession, award: Award, triggers: set[TrancheTrigger], on: dt.date
) -> list[Tranche]:
    """Planned tranches whose trigger now holds become due (finance is told)."""
    if award.signed_on is None or award.state is not AwardState.active:
        return []
    became: list[Tranche] = []
    for tranche in award.tranches:
        if tranche.state is TrancheState.planned and tranche.trigger in triggers:
            tranche.state = TrancheState.due
            tranche.due_on = on
            became.append(tranche)
    await session.flush()
    if became:
        total = sum((t.amount for t in became), Decimal("0.00"))
        await notify_finance(
            session,
            award.centre_id,
            _("A tranche is due: {title}").format(title=award.title),
            _("{count} tranche(s), {amount} yuan in all, can now be disbursed.").format(
                count=len(became), amount=format_money(total)
            ),
            f"/awards/{award.id}",
        )
        await notices.tranches_due(session, award, became)
    return became


async def _passed_triggers(session: AsyncSession, award_id: int) -> set[TrancheTrigger]:
    return {PURPOSE_TRIGGER[p] for p in await queries.passed_purposes(session, award_id)}


async def create_award(
    session: AsyncSession,
    actor: Principal | None,
    application: Application,
    programme: Programme,
    on: dt.date,
) -> Award | None:
    """Create the award with its tranche schedule, exactly once per application."""
    existing = await queries.award_id_for_application(session, application.id)
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


def can_sign(award: Award) -> tuple[bool, str]:
    if award.signed_on is not None:
        return False, _("The agreement is already signed")
    if award.state is not AwardState.active:
        return False, _("The award is not active")
    return True, ""


async def sign_award(session: AsyncSession, principal: Principal, award_id: int, data: SignIn) -> Award:
    require_staff(principal)
    award = await get_award(session, principal, award_id)
    allowed, reason = can_sign(award)
    if not allowed:
        raise Conflict(reason)
    if data.signed_on > today():
        raise ValidationFailed.field("signed_on", _("The signing date cannot be in the future"))
    if data.document_id is not None:
        await own_document(session, award.id, data.document_id, "document_id")
    award.signed_on = data.signed_on
    session.add(
        AwardAgreement(
            award_id=award.id,
            signed_on=data.signed_on,
            document_id=data.document_id,
            signed_by=principal.user_id,
        )
    )
    await session.flush()
    await record_event(
        session,
        principal,
        award,
        "sign",
        _("Agreement signed on {date}").format(date=data.signed_on.isoformat()),
        after={"signed_on": data.signed_on, "document_id": data.document_id},
    )
    triggers = {TrancheTrigger.on_signing} | await _passed_triggers(session, award.id)
    await _make_due(session, award, triggers, today())
    return award


async def record_evaluation_outcome(
    session: AsyncSession,
    principal: Principal,
    award_id: int,
    purpose: str,
    grade_code: str,
    total: Decimal,
    *,
    deadline: dt.date | None = None,
) -> Award:
    """What a closed mid-term or final evaluation means for the award's money.

    Passed (合格 or better): the tranches waiting for this evaluation become due, and an
    open rectification is closed. Failed: the award goes into rectification (整改) with a
    deadline (by default 30 days); staff later re-evaluate or terminate.
    """
    try:
        kind = EvaluationPurpose(purpose)
    except ValueError as exc:
        raise ValidationFailed.field("purpose", _("Not one of the allowed values")) from exc
    if grade_code not in {"excellent", "good", "pass", "fail"}:
        raise ValidationFailed.field("grade", _("Not one of the allowed values"))
    award = await get_award(session, principal, award_id)
    if award.state in (AwardState.terminated, AwardState.completed):
        raise Conflict(_("The award is closed; its evaluations no longer change its money"))
    passed = grade_code != "fail"
    session.add(
        AwardEvaluation(award_id=award.id, purpose=kind, grade=grade_code, total=total, passed=passed)
    )
    await session.flush()
    detail = {"purpose": kind, "grade": grade_code, "total": total, "passed": passed}
    if passed:
        if award.state is AwardState.rectification:
            await queries.close_rectifications(session, award.id, RectificationState.passed)
            award.state = AwardState.active
        await record_event(
            session,
            principal,
            award,
            "evaluation_passed",
            _("Evaluation passed with {total} points").format(total=total),
            after={**detail, "state": award.state},
        )
        await _make_due(session, award, {PURPOSE_TRIGGER[kind]}, today())
    else:
        due_by = deadline or today() + dt.timedelta(days=DEFAULT_RECTIFICATION_DAYS)
        await _open_rectification(
            session,
            principal,
            award,
            kind,
            _("The evaluation failed with {total} points").format(total=total),
            due_by,
        )
        await audit.record(
            session,
            actor=principal,
            action="award.evaluation_failed",
            subject_type="award",
            subject_id=award.id,
            centre_id=award.centre_id,
            after=detail,
        )
    return award


async def record_outcome(
    session: AsyncSession, principal: Principal, award_id: int, data: EvaluationOutcomeIn
) -> Award:
    """Staff enter an evaluation outcome by hand (e.g. a third-party evaluator's report).

    The grade follows from the total through the project rubric's bands; a stated grade
    that the total does not earn is refused, so a hand entry can never make a tranche due
    on a failing total.
    """
    require_staff(principal)
    award = await get_award(session, principal, award_id)
    grade = await rubric_service.project_grade(session, award.centre_id, data.total)
    if data.grade is not None and data.grade != grade.code.value:
        raise ValidationFailed.field(
            "grade",
            _("A total of {total} is graded “{grade}”; the grade follows from the total").format(
                total=data.total, grade=grade.label
            ),
        )
    return await record_evaluation_outcome(
        session, principal, award.id, data.purpose, grade.code.value, data.total, deadline=data.deadline
    )


async def _open_rectification(
    session: AsyncSession,
    principal: Principal,
    award: Award,
    purpose: EvaluationPurpose | None,
    reason: str,
    deadline: dt.date,
) -> Rectification:
    current = await queries.open_rectification(session, award.id)
    if current is not None:
        if current.deadline == deadline and current.reason == reason:
            raise Conflict(
                _("The project is already in rectification until {date} for this reason").format(
                    date=deadline.isoformat()
                )
            )
        # Replaced by the new one; a compare-and-set on its state, so two replacements
        # racing each other cannot both succeed.
        current.state = RectificationState.terminated
        current.closed_at = utcnow()
    rectification = Rectification(
        award_id=award.id,
        purpose=purpose,
        reason=reason,
        deadline=deadline,
        opened_by=principal.email,
    )
    session.add(rectification)
    before = {"state": award.state}
    award.state = AwardState.rectification
    await session.flush()
    await record_event(
        session,
        principal,
        award,
        "rectify",
        _("Rectification until {date}: {reason}").format(date=deadline.isoformat(), reason=reason),
        before=before,
        after={"state": award.state, "deadline": deadline, "reason": reason},
    )
    return rectification


async def rectify(session: AsyncSession, principal: Principal, award_id: int, data: RectifyIn) -> Award:
    """Staff put an award into rectification (or set a new deadline for the open one)."""
    require_staff(principal)
    award = await get_award(session, principal, award_id)
    if award.state not in (AwardState.active, AwardState.rectification):
        raise Conflict(_("The award is closed"))
    if data.deadline < today():
        raise ValidationFailed.field("deadline", _("The deadline cannot be in the past"))
    await _open_rectification(session, principal, award, None, data.reason, data.deadline)
    return award


def can_terminate(award: Award) -> tuple[bool, str]:
    if award.state not in (AwardState.active, AwardState.rectification):
        return False, _("The award is already closed")
    return True, ""


async def terminate(session: AsyncSession, principal: Principal, award_id: int, data: TerminateIn) -> Award:
    """End the award: unpaid tranches are cancelled, unspent money (paid − approved spending)
    is recorded to be returned (追回), and the organisation may be barred until a date."""
    require_staff(principal)
    award = await get_award(session, principal, award_id)
    allowed, reason = can_terminate(award)
    if not allowed:
        raise Conflict(reason)
    pending = await open_disbursement(session, award_id=award.id)
    if pending is not None:
        raise Conflict(
            _("Disbursement #{id} is still open; reject or pay it before terminating").format(id=pending.id)
        )
    if data.bar_until is not None and data.bar_until < today():
        raise ValidationFailed.field("bar_until", _("The bar must last until today or later"))
    spent = await spent_on_award(session, award.id)
    unspent = max(award.paid - spent, Decimal("0.00"))
    for tranche in award.tranches:
        if tranche.state in (TrancheState.planned, TrancheState.due):
            tranche.state = TrancheState.cancelled
    await queries.close_rectifications(session, award.id, RectificationState.terminated)
    session.add(
        Clawback(
            award_id=award.id,
            paid=award.paid,
            spent=spent,
            amount=unspent,
            reason=data.reason,
            barred_until=data.bar_until,
            recorded_by=principal.email,
        )
    )
    before = {"state": award.state}
    award.state = AwardState.terminated
    # What was never paid goes back to the programme (and category) budget.
    released = award.amount - award.paid
    if released > 0:
        await programme_queries.release_committed(session, award.programme_id, award.category_id, released)
    await session.flush()
    await record_event(
        session,
        principal,
        award,
        "terminate",
        _("Terminated: {reason}. To be returned: {amount} yuan").format(
            reason=data.reason, amount=format_money(unspent)
        ),
        before=before,
        after={
            "state": award.state,
            "paid": award.paid,
            "spent": spent,
            "to_return": unspent,
            "released_to_budget": released,
        },
    )
    if data.bar_until is not None:
        await incubator.bar_by_system(
            session,
            principal,
            award.organisation_id,
            data.bar_until,
            _("Project terminated: {title}").format(title=award.title),
        )
    return award


async def can_close(session: AsyncSession, award: Award) -> tuple[bool, str]:
    if award.state is not AwardState.active:
        return False, _("Only an active award can be closed")
    for tranche in award.tranches:
        if tranche.state not in (TrancheState.paid, TrancheState.cancelled):
            return False, _("Tranche {seq} is not paid yet").format(seq=tranche.seq)
    if TrancheTrigger.final_passed not in await _passed_triggers(session, award.id):
        return False, _("The final evaluation has not been passed yet")
    return True, ""


async def close(session: AsyncSession, principal: Principal, award_id: int, data: CloseIn) -> Award:
    require_staff(principal)
    award = await get_award(session, principal, award_id)
    allowed, reason = await can_close(session, award)
    if not allowed:
        raise Conflict(reason)
    award.state = AwardState.completed
    await session.flush()
    await record_event(session, principal, award, "close", data.note or _("Project completed"))
    return award


async def award_context(session: AsyncSession, award: Award) -> dict[str, Any]:
    """What an award page and the award API show beside the award itself."""
    agreement = await session.get(AwardAgreement, award.id)
    evaluations = await queries.evaluations_of(session, award.id)
    rectifications = await queries.rectifications_of(session, award.id)
    clawback = await queries.clawback_of(session, award.id)
    events = await queries.events_of(session, award.id)
    return {
        "agreement_document_id": agreement.document_id if agreement else None,
        "evaluations": list(evaluations),
        "rectifications": list(rectifications),
        "clawback": clawback,
        "execution": await award_execution(session, award),
        "events": list(events),
    }


async def own_document(session: AsyncSession, award_id: int, document_id: int, field: str) -> AwardDocument:
    document = await queries.document_of(session, award_id, document_id)
    if document is None:
        raise ValidationFailed.field(field, _("Upload the file to this award first"))
    return document
