"""Disbursements (SPEC §4.5): request, approve or reject (maker-checker), pay; every amount
moves with a conditional UPDATE, so concurrent requests can never overpay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.clock import today
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.i18n import _
from core.identity.models import Role
from core.identity.principal import Principal
from core.notifications import mark_done
from core.repository import Paged, PageParams
from grants import notices
from grants.access import notify_finance, require_finance, require_staff
from grants.awards.models import (
    TRANCHE_STATE_LABELS,
    Award,
    AwardEvent,
    AwardState,
    Tranche,
    TrancheState,
)
from grants.awards.repository import (
    DUE_STATES,
)
from grants.awards.service import get_award
from grants.contracts.models import Contract, ContractMilestone, ContractState, MilestoneState
from grants.disbursements.models import Disbursement, DisbursementState
from grants.disbursements.repository import DisbursementRepository
from grants.disbursements.schemas import DisbursementCreate, PayIn
from grants.programmes.models import TRIGGER_LABELS


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
    if disbursement.award_id is not None:  # finance's "a tranche is due" is dealt with
        await mark_done(session, f"/awards/{disbursement.award_id}", kinds=("tranche_due",))
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
        await notices.award_changed(
            session,
            award,
            "paid",
            _("{amount} yuan paid on {day}").format(amount=f"{amount:,.2f}", day=data.paid_on.isoformat()),
        )
    return disbursement


async def due_tranches(session: AsyncSession, principal: Principal) -> list[tuple[Tranche, Award]]:
    """Tranches waiting for a request or a decision, for the finance and staff queues."""
    statement = (
        select(Tranche, Award).join(Award, Award.id == Tranche.award_id).where(Tranche.state.in_(DUE_STATES))
    )
    if not principal.sees_all_centres:
        statement = statement.where(Award.centre_id == principal.centre_id)
    rows = await session.execute(statement.order_by(Tranche.due_on, Tranche.id).limit(500))
    return [(t, a) for t, a in rows]
