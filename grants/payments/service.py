"""Rules and state changes for money after the decision (SPEC §4.4–4.5).

Invariants are enforced in SQL inside the request's transaction, never by reading,
checking in Python and writing back:

- a tranche (or contract milestone) moves ``due → requested → approved → paid`` only by
  conditional UPDATEs on its current state, so two requests cannot both win;
- ``awards.paid`` (and ``contracts.paid``) grows by ``UPDATE … SET paid = paid + :x WHERE
  paid + :x <= amount`` with a CHECK behind it, so concurrent payments never overspend
  and never lose an update;
- the requester of a disbursement never approves or rejects it (service rule and CHECK).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.clock import today
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.files import FileStore, StoredFile, store_upload
from core.i18n import _
from core.identity import service as identity
from core.identity.models import Role, User, UserRole
from core.identity.principal import Principal
from core.notifications import remind
from core.repository import Paged, PageParams
from evaluations import service as evaluations
from grants.contracts.models import Contract, ContractMilestone, ContractState, MilestoneState
from grants.models import (
    TRANCHE_STATE_LABELS,
    TRIGGER_LABELS,
    Award,
    AwardState,
    Indicator,
    Programme,
    ProgrammeCategory,
    Tranche,
    TrancheState,
    TrancheTrigger,
)
from grants.payments.models import (
    AwardAgreement,
    AwardDocument,
    AwardEvaluation,
    AwardEvent,
    Clawback,
    Disbursement,
    DisbursementState,
    DocumentKind,
    EvaluationPurpose,
    ExpenseClaim,
    ExpenseReceipt,
    IndicatorActual,
    ProgressReport,
    Rectification,
    RectificationState,
    ReviewState,
)
from grants.payments.repository import (
    DUE_STATES,
    DisbursementRepository,
    claims_of,
    execution_by,
    reports_of,
    spent_on_award,
)
from grants.payments.schemas import (
    CloseIn,
    DisbursementCreate,
    EvaluationOutcomeIn,
    Execution,
    ExecutionRow,
    ExpenseClaimIn,
    PayIn,
    ProgressReportIn,
    RectifyIn,
    ReviewIn,
    SignIn,
    TerminateIn,
)
from grants.repository import AwardRepository
from incubator import service as incubator

DEFAULT_RECTIFICATION_DAYS = 30
PURPOSE_TRIGGER = {
    EvaluationPurpose.midterm: TrancheTrigger.midterm_passed,
    EvaluationPurpose.final: TrancheTrigger.final_passed,
}
OPEN_DISBURSEMENT_STATES = (DisbursementState.requested, DisbursementState.approved)


# --- access -----------------------------------------------------------------------------


def require_staff(principal: Principal) -> None:
    identity.require_writer(principal)
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))


def require_finance(principal: Principal) -> None:
    identity.require_writer(principal)
    if not principal.has(Role.finance):
        raise Forbidden(_("Only a finance officer may do this"))


async def member_org_ids(session: AsyncSession, principal: Principal) -> list[int]:
    return [o.id for o in await incubator.organisations_of(session, principal.user_id)]


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


# --- helpers ----------------------------------------------------------------------------


async def _event(
    session: AsyncSession,
    principal: Principal | None,
    award: Award,
    action: str,
    note: str = "",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AwardEvent(
            award_id=award.id,
            at=utcnow(),
            action=action,
            note=note,
            actor=principal.email if principal else "system",
        )
    )
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action=f"award.{action}",
        subject_type="award",
        subject_id=award.id,
        centre_id=award.centre_id,
        before=before,
        after=after if after is not None else {"state": award.state, "note": note},
    )


async def finance_user_ids(session: AsyncSession, centre_id: int) -> list[int]:
    rows = await session.execute(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(User.centre_id == centre_id, UserRole.role == Role.finance, User.is_active.is_(True))
    )
    return sorted(set(rows.scalars()))


async def notify_finance(session: AsyncSession, centre_id: int, title: str, body: str, link: str) -> None:
    users = await finance_user_ids(session, centre_id)
    if users:
        await remind(session, users, "tranche_due", title, body, link)


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
                count=len(became), amount=f"{total:,.2f}"
            ),
            f"/awards/{award.id}",
        )
    return became


async def _passed_triggers(session: AsyncSession, award_id: int) -> set[TrancheTrigger]:
    rows = await session.execute(
        select(AwardEvaluation.purpose).where(
            AwardEvaluation.award_id == award_id, AwardEvaluation.passed.is_(True)
        )
    )
    return {PURPOSE_TRIGGER[p] for p in rows.scalars()}


# --- documents --------------------------------------------------------------------------


async def upload_document(
    session: AsyncSession,
    principal: Principal,
    store: FileStore,
    award_id: int,
    *,
    kind: DocumentKind,
    label: str,
    filename: str,
    content: bytes,
    max_bytes: int,
) -> AwardDocument:
    award = await get_award(session, principal, award_id)
    identity.require_writer(principal)
    if not (principal.has(Role.staff) or await is_grantee(session, principal, award)):
        raise Forbidden(_("Only centre staff or the grantee organisation may add documents"))
    stored = await store_upload(
        session,
        store,
        centre_id=award.centre_id,
        uploaded_by=principal.user_id,
        filename=filename,
        content=content,
        max_bytes=max_bytes,
    )
    document = AwardDocument(
        award_id=award.id, file_id=stored.id, kind=kind, label=label[:200], uploaded_by=principal.user_id
    )
    session.add(document)
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="award.document",
        subject_type="award",
        subject_id=award.id,
        centre_id=award.centre_id,
        after={"document_id": document.id, "kind": kind, "sha256": stored.sha256},
    )
    return document


async def documents_of(session: AsyncSession, award_id: int) -> list[tuple[AwardDocument, StoredFile]]:
    rows = await session.execute(
        select(AwardDocument, StoredFile)
        .join(StoredFile, StoredFile.id == AwardDocument.file_id)
        .where(AwardDocument.award_id == award_id)
        .order_by(AwardDocument.id)
    )
    return [(d, f) for d, f in rows]


async def get_document(
    session: AsyncSession, principal: Principal, award_id: int, document_id: int
) -> tuple[AwardDocument, StoredFile]:
    """Whoever may read the award may read its documents; nobody else learns they exist."""
    await get_award(session, principal, award_id)
    row = (
        await session.execute(
            select(AwardDocument, StoredFile)
            .join(StoredFile, StoredFile.id == AwardDocument.file_id)
            .where(AwardDocument.id == document_id, AwardDocument.award_id == award_id)
        )
    ).first()
    if row is None:
        raise NotFound(_("Document not found"))
    return row[0], row[1]


async def _own_document(session: AsyncSession, award_id: int, document_id: int, field: str) -> AwardDocument:
    document = (
        await session.execute(
            select(AwardDocument).where(AwardDocument.id == document_id, AwardDocument.award_id == award_id)
        )
    ).scalar_one_or_none()
    if document is None:
        raise ValidationFailed.field(field, _("Upload the file to this award first"))
    return document


# --- award lifecycle --------------------------------------------------------------------


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
        await _own_document(session, award.id, data.document_id, "document_id")
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
    await _event(
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
            await _close_rectifications(session, award.id, RectificationState.passed)
            award.state = AwardState.active
        await _event(
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
    grade = await evaluations.project_grade(session, award.centre_id, data.total)
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


async def _close_rectifications(session: AsyncSession, award_id: int, state: RectificationState) -> None:
    await session.execute(
        update(Rectification)
        .where(Rectification.award_id == award_id, Rectification.state == RectificationState.open)
        .values(state=state, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def _open_rectification(
    session: AsyncSession,
    principal: Principal,
    award: Award,
    purpose: EvaluationPurpose | None,
    reason: str,
    deadline: dt.date,
) -> Rectification:
    current = await open_rectification(session, award.id)
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
    await _event(
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


async def open_rectification(session: AsyncSession, award_id: int) -> Rectification | None:
    return (
        await session.execute(
            select(Rectification)
            .where(Rectification.award_id == award_id, Rectification.state == RectificationState.open)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def _open_disbursement(
    session: AsyncSession, *, award_id: int | None = None, contract_id: int | None = None
) -> Disbursement | None:
    statement = select(Disbursement).where(Disbursement.state.in_(OPEN_DISBURSEMENT_STATES))
    if award_id is not None:
        statement = statement.where(Disbursement.award_id == award_id)
    if contract_id is not None:
        statement = statement.where(Disbursement.contract_id == contract_id)
    return (await session.execute(statement.limit(1))).scalar_one_or_none()


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
    pending = await _open_disbursement(session, award_id=award.id)
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
    await _close_rectifications(session, award.id, RectificationState.terminated)
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
        await session.execute(
            update(Programme)
            .where(Programme.id == award.programme_id)
            .values(committed=Programme.committed - released)
            .execution_options(synchronize_session=False)
        )
        if award.category_id is not None:
            await session.execute(
                update(ProgrammeCategory)
                .where(ProgrammeCategory.id == award.category_id)
                .values(committed=ProgrammeCategory.committed - released)
                .execution_options(synchronize_session=False)
            )
    await session.flush()
    await _event(
        session,
        principal,
        award,
        "terminate",
        _("Terminated: {reason}. To be returned: {amount} yuan").format(
            reason=data.reason, amount=f"{unspent:,.2f}"
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
    await _event(session, principal, award, "close", data.note or _("Project completed"))
    return award


async def award_execution(session: AsyncSession, award: Award) -> Execution:
    sums = await execution_by(session, Award.id, Award.id == award.id)
    return Execution(**sums.get(award.id, {}))


async def award_context(session: AsyncSession, award: Award) -> dict[str, Any]:
    """What an award page and the award API show beside the award itself."""
    agreement = await session.get(AwardAgreement, award.id)
    evaluations = (
        (
            await session.execute(
                select(AwardEvaluation)
                .where(AwardEvaluation.award_id == award.id)
                .order_by(AwardEvaluation.id)
            )
        )
        .scalars()
        .all()
    )
    rectifications = (
        (
            await session.execute(
                select(Rectification).where(Rectification.award_id == award.id).order_by(Rectification.id)
            )
        )
        .scalars()
        .all()
    )
    clawback = (
        await session.execute(select(Clawback).where(Clawback.award_id == award.id))
    ).scalar_one_or_none()
    events = (
        (
            await session.execute(
                select(AwardEvent).where(AwardEvent.award_id == award.id).order_by(AwardEvent.id)
            )
        )
        .scalars()
        .all()
    )
    return {
        "agreement_document_id": agreement.document_id if agreement else None,
        "evaluations": list(evaluations),
        "rectifications": list(rectifications),
        "clawback": clawback,
        "execution": await award_execution(session, award),
        "events": list(events),
    }


# --- progress reports -------------------------------------------------------------------


def _require_open(award: Award) -> None:
    if award.state not in (AwardState.active, AwardState.rectification):
        raise Conflict(_("The award is closed"))


async def _actuals(session: AsyncSession, award: Award, data: ProgressReportIn) -> list[IndicatorActual]:
    known = set(
        (
            await session.execute(
                select(Indicator.id).where(Indicator.application_id == award.application_id)
            )
        ).scalars()
    )
    seen: set[int] = set()
    actuals = []
    for row in data.actuals:
        if row.indicator_id not in known:
            raise ValidationFailed.field("actuals", _("An indicator does not belong to this project"))
        if row.indicator_id in seen:
            raise ValidationFailed.field("actuals", _("Each indicator may be reported once"))
        seen.add(row.indicator_id)
        actuals.append(IndicatorActual(indicator_id=row.indicator_id, actual=row.actual, note=row.note))
    return actuals


async def list_progress_reports(
    session: AsyncSession, principal: Principal, award_id: int
) -> Sequence[ProgressReport]:
    award = await get_award(session, principal, award_id)
    return await reports_of(session, award.id)


async def _report(session: AsyncSession, award_id: int, report_id: int) -> ProgressReport:
    from sqlalchemy.orm import selectinload

    report = (
        await session.execute(
            select(ProgressReport)
            .where(ProgressReport.id == report_id, ProgressReport.award_id == award_id)
            .options(selectinload(ProgressReport.actuals))
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if report is None:
        raise NotFound(_("Progress report not found"))
    return report


async def submit_progress_report(
    session: AsyncSession, principal: Principal, award_id: int, data: ProgressReportIn
) -> ProgressReport:
    award = await get_award(session, principal, award_id)
    await require_grantee(session, principal, award)
    _require_open(award)
    report = ProgressReport(
        award_id=award.id,
        period=data.period,
        narrative=data.narrative,
        submitted_by=principal.user_id,
        submitted_at=utcnow(),
        actuals=await _actuals(session, award, data),
    )
    session.add(report)
    await session.flush()
    await _event(session, principal, award, "progress_report", data.period, after={"report_id": report.id})
    return await _report(session, award.id, report.id)


async def resubmit_progress_report(
    session: AsyncSession, principal: Principal, award_id: int, report_id: int, data: ProgressReportIn
) -> ProgressReport:
    award = await get_award(session, principal, award_id)
    await require_grantee(session, principal, award)
    _require_open(award)
    report = await _report(session, award.id, report_id)
    if report.state is not ReviewState.returned:
        raise Conflict(_("Only a report returned for changes can be resubmitted"))
    report.period = data.period
    report.narrative = data.narrative
    report.actuals.clear()
    await session.flush()
    report.actuals.extend(await _actuals(session, award, data))
    report.state = ReviewState.submitted
    report.version += 1
    report.submitted_at = utcnow()
    await session.flush()
    await _event(
        session, principal, award, "progress_report_resubmitted", data.period, after={"report_id": report.id}
    )
    return await _report(session, award.id, report.id)


async def review_progress_report(
    session: AsyncSession, principal: Principal, award_id: int, report_id: int, data: ReviewIn
) -> ProgressReport:
    require_staff(principal)
    award = await get_award(session, principal, award_id)
    report = await _report(session, award.id, report_id)
    if report.state is not ReviewState.submitted:
        raise Conflict(_("Only a report awaiting review can be reviewed"))
    report.state = ReviewState.approved if data.approve else ReviewState.returned
    report.reviewed_by = principal.user_id
    report.reviewed_at = utcnow()
    report.review_comment = data.comment or None
    await session.flush()
    await _event(
        session,
        principal,
        award,
        "progress_report_approved" if data.approve else "progress_report_returned",
        data.comment,
        after={"report_id": report.id, "state": report.state},
    )
    return report


# --- expense claims ---------------------------------------------------------------------


async def list_expense_claims(
    session: AsyncSession, principal: Principal, award_id: int
) -> Sequence[ExpenseClaim]:
    award = await get_award(session, principal, award_id)
    return await claims_of(session, award.id)


async def _claim(session: AsyncSession, award_id: int, claim_id: int) -> ExpenseClaim:
    from sqlalchemy.orm import selectinload

    claim = (
        await session.execute(
            select(ExpenseClaim)
            .where(ExpenseClaim.id == claim_id, ExpenseClaim.award_id == award_id)
            .options(selectinload(ExpenseClaim.receipts))
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if claim is None:
        raise NotFound(_("Expense claim not found"))
    return claim


async def _receipts(session: AsyncSession, award: Award, ids: list[int]) -> list[ExpenseReceipt]:
    receipts = []
    for document_id in dict.fromkeys(ids):
        await _own_document(session, award.id, document_id, "receipt_ids")
        receipts.append(ExpenseReceipt(document_id=document_id))
    return receipts


async def submit_expense_claim(
    session: AsyncSession, principal: Principal, award_id: int, data: ExpenseClaimIn
) -> ExpenseClaim:
    award = await get_award(session, principal, award_id)
    await require_grantee(session, principal, award)
    _require_open(award)
    if data.spent_on > today():
        raise ValidationFailed.field("spent_on", _("The date cannot be in the future"))
    claim = ExpenseClaim(
        award_id=award.id,
        category=data.category,
        item=data.item,
        amount=data.amount,
        spent_on=data.spent_on,
        submitted_by=principal.user_id,
        submitted_at=utcnow(),
        receipts=await _receipts(session, award, data.receipt_ids),
    )
    session.add(claim)
    await session.flush()
    await _event(
        session,
        principal,
        award,
        "expense_claim",
        f"{data.item} {data.amount:,.2f}",
        after={"claim_id": claim.id, "amount": data.amount},
    )
    return await _claim(session, award.id, claim.id)


async def resubmit_expense_claim(
    session: AsyncSession, principal: Principal, award_id: int, claim_id: int, data: ExpenseClaimIn
) -> ExpenseClaim:
    award = await get_award(session, principal, award_id)
    await require_grantee(session, principal, award)
    _require_open(award)
    claim = await _claim(session, award.id, claim_id)
    if claim.state is not ReviewState.returned:
        raise Conflict(_("Only a claim returned for changes can be resubmitted"))
    claim.category = data.category
    claim.item = data.item
    claim.amount = data.amount
    claim.spent_on = data.spent_on
    claim.receipts.clear()
    await session.flush()
    claim.receipts.extend(await _receipts(session, award, data.receipt_ids))
    claim.state = ReviewState.submitted
    claim.version += 1
    claim.submitted_at = utcnow()
    await session.flush()
    await _event(
        session, principal, award, "expense_claim_resubmitted", data.item, after={"claim_id": claim.id}
    )
    return await _claim(session, award.id, claim.id)


async def review_expense_claim(
    session: AsyncSession, principal: Principal, award_id: int, claim_id: int, data: ReviewIn
) -> ExpenseClaim:
    require_staff(principal)
    award = await get_award(session, principal, award_id)
    claim = await _claim(session, award.id, claim_id)
    if claim.state is not ReviewState.submitted:
        raise Conflict(_("Only a claim awaiting review can be reviewed"))
    if data.approve:
        spent = await spent_on_award(session, award.id)
        if spent + claim.amount > award.amount:
            raise Conflict(
                _(
                    "Approved spending would exceed the award ({spent} of {amount} yuan already approved)"
                ).format(spent=f"{spent:,.2f}", amount=f"{award.amount:,.2f}")
            )
    claim.state = ReviewState.approved if data.approve else ReviewState.returned
    claim.reviewed_by = principal.user_id
    claim.reviewed_at = utcnow()
    claim.review_comment = data.comment or None
    await session.flush()
    await _event(
        session,
        principal,
        award,
        "expense_claim_approved" if data.approve else "expense_claim_returned",
        data.comment,
        after={"claim_id": claim.id, "state": claim.state, "amount": claim.amount},
    )
    return claim


# --- disbursements ----------------------------------------------------------------------


async def _audit_disbursement(
    session: AsyncSession, principal: Principal, disbursement: Disbursement, action: str, **after: Any
) -> None:
    await audit.record(
        session,
        actor=principal,
        action=f"disbursement.{action}",
        subject_type="disbursement",
        subject_id=disbursement.id,
        centre_id=disbursement.centre_id,
        after={
            "state": disbursement.state,
            "amount": disbursement.amount,
            "award_id": disbursement.award_id,
            "tranche_id": disbursement.tranche_id,
            "contract_id": disbursement.contract_id,
            "milestone_id": disbursement.milestone_id,
            **after,
        },
    )


async def get_disbursement(session: AsyncSession, principal: Principal, disbursement_id: int) -> Disbursement:
    repository = DisbursementRepository(session, principal)
    return await repository.get(
        disbursement_id, repository.select().execution_options(populate_existing=True)
    )


async def list_disbursements(
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    *,
    state: DisbursementState | None = None,
    award_id: int | None = None,
) -> Paged[Disbursement]:
    repository = DisbursementRepository(session, principal)
    return await repository.paginate(repository.filtered(state, award_id), params)


async def paid_disbursements(
    session: AsyncSession, principal: Principal, *, limit: int = 10_000
) -> Sequence[Disbursement]:
    repository = DisbursementRepository(session, principal)
    return await repository.get_all(
        repository.select()
        .where(Disbursement.state == DisbursementState.paid)
        .order_by(Disbursement.paid_on, Disbursement.id)
        .limit(limit)
    )


def can_request_tranche(award: Award, tranche: Tranche) -> tuple[bool, str]:
    if award.state is AwardState.rectification:
        return False, _("Payments are suspended while the award is in rectification")
    if award.state is not AwardState.active:
        return False, _("The award is closed")
    if tranche.state is not TrancheState.due:
        if tranche.state is TrancheState.planned:
            return False, _("Not due yet: {condition}").format(condition=_(TRIGGER_LABELS[tranche.trigger]))
        return False, _("The tranche is {state}; only a due tranche can be requested").format(
            state=_(TRANCHE_STATE_LABELS[tranche.state])
        )
    return True, ""


async def request_disbursement(
    session: AsyncSession, principal: Principal, data: DisbursementCreate
) -> Disbursement:
    """Staff ask finance to pay a due tranche (or contract milestone)."""
    require_staff(principal)
    if data.tranche_id is not None:
        disbursement = await _request_tranche(session, principal, data.tranche_id, data.note)
    else:
        assert data.milestone_id is not None
        disbursement = await _request_milestone(session, principal, data.milestone_id, data.note)
    await _audit_disbursement(session, principal, disbursement, "request")
    await notify_finance(
        session,
        disbursement.centre_id,
        _("A disbursement awaits approval"),
        _("{amount} yuan requested by {who}.").format(
            amount=f"{disbursement.amount:,.2f}", who=principal.full_name or principal.email
        ),
        "/finance",
    )
    return disbursement


async def _insert(session: AsyncSession, disbursement: Disbursement) -> Disbursement:
    session.add(disbursement)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(_("This payment has already been requested")) from exc
    return disbursement


async def _request_tranche(
    session: AsyncSession, principal: Principal, tranche_id: int, note: str
) -> Disbursement:
    tranche = await session.get(Tranche, tranche_id, populate_existing=True)
    if tranche is None:
        raise NotFound(_("Tranche not found"))
    award = await get_award(session, principal, tranche.award_id)
    allowed, reason = can_request_tranche(award, tranche)
    if not allowed:
        raise Conflict(reason)
    moved = await session.execute(
        update(Tranche)
        .where(Tranche.id == tranche.id, Tranche.state == TrancheState.due)
        .values(state=TrancheState.requested)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_("This payment has already been requested"))
    return await _insert(
        session,
        Disbursement(
            centre_id=award.centre_id,
            award_id=award.id,
            tranche_id=tranche.id,
            payee_organisation_id=award.organisation_id,
            amount=tranche.amount,
            note=note,
            requested_by=principal.user_id,
            requested_by_name=principal.full_name or principal.email,
            requested_at=utcnow(),
        ),
    )


async def _request_milestone(
    session: AsyncSession, principal: Principal, milestone_id: int, note: str
) -> Disbursement:
    from grants.contracts.repository import ContractRepository

    milestone = await session.get(ContractMilestone, milestone_id, populate_existing=True)
    if milestone is None:
        raise NotFound(_("Milestone not found"))
    contract = await ContractRepository(session, principal).get(milestone.contract_id)
    if contract.state not in (ContractState.signed, ContractState.in_service, ContractState.under_evaluation):
        raise Conflict(_("The contract is not in force"))
    if milestone.state is not MilestoneState.due:
        raise Conflict(_("Only a due milestone can be requested"))
    if milestone.to_pay <= 0:
        raise Conflict(_("Nothing is payable for this milestone"))
    moved = await session.execute(
        update(ContractMilestone)
        .where(ContractMilestone.id == milestone.id, ContractMilestone.state == MilestoneState.due)
        .values(state=MilestoneState.requested)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_("This payment has already been requested"))
    return await _insert(
        session,
        Disbursement(
            centre_id=contract.centre_id,
            contract_id=contract.id,
            milestone_id=milestone.id,
            payee_organisation_id=contract.provider_id,
            amount=milestone.to_pay,
            note=note,
            requested_by=principal.user_id,
            requested_by_name=principal.full_name or principal.email,
            requested_at=utcnow(),
        ),
    )


def can_decide(principal: Principal, disbursement: Disbursement) -> tuple[bool, str]:
    """Maker-checker: whoever requested a disbursement never approves or rejects it."""
    if not principal.has(Role.finance) or principal.read_only:
        return False, _("Only a finance officer may do this")
    if disbursement.requested_by == principal.user_id:
        return False, _("You requested this disbursement; another finance officer must decide on it")
    if disbursement.state is not DisbursementState.requested:
        return False, _("Only a disbursement awaiting approval can be decided")
    return True, ""


def can_pay(principal: Principal, disbursement: Disbursement) -> tuple[bool, str]:
    if not principal.has(Role.finance) or principal.read_only:
        return False, _("Only a finance officer may do this")
    if disbursement.state is not DisbursementState.approved:
        return False, _("Only an approved disbursement can be paid")
    return True, ""


async def _move_target(
    session: AsyncSession, disbursement: Disbursement, source: str, target: str, **values: Any
) -> bool:
    if disbursement.tranche_id is not None:
        statement = (
            update(Tranche)
            .where(Tranche.id == disbursement.tranche_id, Tranche.state == TrancheState(source))
            .values(state=TrancheState(target), **values)
        )
    else:
        statement = (
            update(ContractMilestone)
            .where(
                ContractMilestone.id == disbursement.milestone_id,
                ContractMilestone.state == MilestoneState(source),
            )
            .values(state=MilestoneState(target), **values)
        )
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _decider(principal: Principal) -> None:
    require_finance(principal)


async def approve(
    session: AsyncSession, principal: Principal, disbursement_id: int, note: str = ""
) -> Disbursement:
    _decider(principal)
    disbursement = await get_disbursement(session, principal, disbursement_id)
    allowed, reason = can_decide(principal, disbursement)
    if not allowed:
        if disbursement.requested_by == principal.user_id:
            raise Forbidden(reason)
        raise Conflict(reason)
    moved = await session.execute(
        update(Disbursement)
        .where(
            Disbursement.id == disbursement.id,
            Disbursement.state == DisbursementState.requested,
            Disbursement.requested_by != principal.user_id,
        )
        .values(
            state=DisbursementState.approved,
            approved_by=principal.user_id,
            decided_by_name=principal.full_name or principal.email,
            decided_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_("Only a disbursement awaiting approval can be decided"))
    if not await _move_target(session, disbursement, "requested", "approved"):
        raise Conflict(_("The tranche is no longer awaiting this disbursement"))
    disbursement = await get_disbursement(session, principal, disbursement_id)
    await _audit_disbursement(session, principal, disbursement, "approve", note=note)
    return disbursement


async def reject(
    session: AsyncSession, principal: Principal, disbursement_id: int, reason_text: str
) -> Disbursement:
    _decider(principal)
    disbursement = await get_disbursement(session, principal, disbursement_id)
    allowed, reason = can_decide(principal, disbursement)
    if not allowed:
        if disbursement.requested_by == principal.user_id:
            raise Forbidden(reason)
        raise Conflict(reason)
    moved = await session.execute(
        update(Disbursement)
        .where(
            Disbursement.id == disbursement.id,
            Disbursement.state == DisbursementState.requested,
            Disbursement.requested_by != principal.user_id,
        )
        .values(
            state=DisbursementState.rejected,
            rejected_by=principal.user_id,
            decided_by_name=principal.full_name or principal.email,
            decided_at=utcnow(),
            reject_reason=reason_text,
        )
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_("Only a disbursement awaiting approval can be decided"))
    # the tranche is due again: staff may correct and request anew
    await _move_target(session, disbursement, "requested", "due")
    disbursement = await get_disbursement(session, principal, disbursement_id)
    await _audit_disbursement(session, principal, disbursement, "reject", reason=reason_text)
    return disbursement


async def pay(session: AsyncSession, principal: Principal, disbursement_id: int, data: PayIn) -> Disbursement:
    """Record the payment (voucher, date, amount): the disbursement, its tranche and the
    award's paid total move together, each by a conditional UPDATE, or nothing moves."""
    require_finance(principal)
    disbursement = await get_disbursement(session, principal, disbursement_id)
    allowed, reason = can_pay(principal, disbursement)
    if not allowed:
        raise Conflict(reason)
    if data.amount != disbursement.amount:
        raise ValidationFailed.field(
            "amount",
            _("The payment must be the approved amount ({amount})").format(
                amount=f"{disbursement.amount:.2f}"
            ),
        )
    if data.paid_on > today():
        raise ValidationFailed.field("paid_on", _("The payment date cannot be in the future"))
    try:
        moved = await session.execute(
            update(Disbursement)
            .where(Disbursement.id == disbursement.id, Disbursement.state == DisbursementState.approved)
            .values(
                state=DisbursementState.paid,
                voucher_no=data.voucher_no,
                paid_on=data.paid_on,
                paid_amount=data.amount,
                paid_by=principal.user_id,
                paid_recorded_at=utcnow(),
            )
            .execution_options(synchronize_session=False)
        )
    except IntegrityError as exc:
        raise ValidationFailed.field("voucher_no", _("This voucher number is already recorded")) from exc
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_("Only an approved disbursement can be paid"))
    if not await _move_target(session, disbursement, "approved", "paid", paid_on=data.paid_on):
        raise Conflict(_("This payment has already been made"))
    amount = disbursement.amount
    if disbursement.award_id is not None:
        grown = await session.execute(
            update(Award)
            .where(Award.id == disbursement.award_id, Award.paid + amount <= Award.amount)
            .values(paid=Award.paid + amount)
            .execution_options(synchronize_session=False)
        )
    else:
        grown = await session.execute(
            update(Contract)
            .where(Contract.id == disbursement.contract_id, Contract.paid + amount <= Contract.amount)
            .values(paid=Contract.paid + amount)
            .execution_options(synchronize_session=False)
        )
    if grown.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(_("The payment would exceed the amount granted"))
    disbursement = await get_disbursement(session, principal, disbursement_id)
    await _audit_disbursement(
        session, principal, disbursement, "pay", voucher_no=data.voucher_no, paid_on=data.paid_on
    )
    if disbursement.award_id is not None:
        award = await session.get(Award, disbursement.award_id, populate_existing=True)
        assert award is not None
        session.add(
            AwardEvent(
                award_id=award.id,
                at=utcnow(),
                action="paid",
                note=_("{amount} yuan paid, voucher {voucher}").format(
                    amount=f"{amount:,.2f}", voucher=data.voucher_no
                ),
                actor=principal.email,
            )
        )
        await session.flush()
    return disbursement


# --- budget execution -------------------------------------------------------------------


async def execution_rows(session: AsyncSession, principal: Principal) -> list[ExecutionRow]:
    """Per programme, then per category within it: granted, due, paid, spent, returned."""
    programmes = select(Programme)
    if not principal.sees_all_centres:
        programmes = programmes.where(Programme.centre_id == principal.centre_id)
    programme_rows = (
        await session.execute(programmes.order_by(Programme.year.desc(), Programme.id))
    ).scalars()
    programme_list = list(programme_rows)
    ids = [p.id for p in programme_list]
    if not ids:
        return []
    by_programme = await execution_by(session, Award.programme_id, Award.programme_id.in_(ids))
    by_category = await execution_by(session, Award.category_id, Award.programme_id.in_(ids))
    categories = (
        (
            await session.execute(
                select(ProgrammeCategory)
                .where(ProgrammeCategory.programme_id.in_(ids))
                .order_by(ProgrammeCategory.id)
            )
        )
        .scalars()
        .all()
    )
    rows: list[ExecutionRow] = []
    for programme in programme_list:
        rows.append(
            ExecutionRow(
                programme_id=programme.id,
                programme=programme.name,
                budget=programme.total_budget,
                execution=Execution(**by_programme.get(programme.id, {})),
            )
        )
        for category in categories:
            if category.programme_id == programme.id:
                rows.append(
                    ExecutionRow(
                        programme_id=programme.id,
                        programme=programme.name,
                        category_id=category.id,
                        category=category.name,
                        budget=category.budget,
                        execution=Execution(**by_category.get(category.id, {})),
                    )
                )
    return rows


async def due_tranches(session: AsyncSession, principal: Principal) -> list[tuple[Tranche, Award]]:
    """Tranches waiting for a request or a decision, for the finance and staff queues."""
    statement = (
        select(Tranche, Award).join(Award, Award.id == Tranche.award_id).where(Tranche.state.in_(DUE_STATES))
    )
    if not principal.sees_all_centres:
        statement = statement.where(Award.centre_id == principal.centre_id)
    rows = await session.execute(statement.order_by(Tranche.due_on, Tranche.id).limit(500))
    return [(t, a) for t, a in rows]
