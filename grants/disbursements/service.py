"""Disbursements (SPEC §4.5): request, approve or reject (maker-checker), pay; every amount
moves with a conditional UPDATE, so concurrent requests can never overpay."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.clock import today
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.i18n import _
from core.identity import repository as identity_queries
from core.identity.models import Role
from core.identity.principal import Principal
from core.money import format_money
from core.notifications import mark_done
from core.repository import Paged, PageParams
from core.repository import audit as audit_queries
from grants.access import notify_finance, require_finance, require_staff
from grants.awards.models import (
    TRANCHE_STATE_LABELS,
    Award,
    AwardState,
    Tranche,
    TrancheState,
)
from grants.awards.service import get_award
from grants.contracts.models import Contract, ContractMilestone, ContractState, MilestoneState
from grants.contracts.repository import ContractRepository
from grants.disbursements import repository as queries
from grants.disbursements.models import Disbursement, DisbursementState
from grants.disbursements.payables import (
    DisbursementFacts,
    MilestonePayment,
    Payable,
    TranchePayment,
    paid_by,
)
from grants.disbursements.repository import DisbursementRepository, payment_context
from grants.disbursements.schemas import DisbursementCreate, PayIn
from grants.programmes.models import TRIGGER_LABELS


async def _audit_disbursement(
    session: AsyncSession, principal: Principal, disbursement: DisbursementFacts, action: str, **after: Any
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
    return await repository.get(disbursement_id, repository.built(repository.fresh))


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


async def request_disbursement(
    session: AsyncSession, principal: Principal, data: DisbursementCreate
) -> Disbursement:
    """Staff ask finance to pay a due tranche (or contract milestone)."""
    require_staff(principal)
    payable = await _to_request(session, principal, data)
    if not await queries.move_payable(session, payable.model, payable.item_id, "due", "requested"):
        raise Conflict(_("This payment has already been requested"))
    disbursement = await _insert(
        session,
        Disbursement(
            centre_id=payable.centre_id,
            payee_organisation_id=payable.payee_organisation_id,
            amount=payable.amount,
            note=data.note,
            requested_by=principal.user_id,
            requested_by_name=principal.full_name or principal.email,
            requested_at=utcnow(),
            **payable.disbursement_targets(),
        ),
    )
    await _audit_disbursement(session, principal, disbursement, "request")
    if disbursement.award_id is not None:  # finance's "a tranche is due" is dealt with
        await mark_done(session, f"/awards/{disbursement.award_id}", kinds=("tranche_due",))
    await notify_finance(
        session,
        disbursement.centre_id,
        _("A disbursement awaits approval"),
        _("{amount} yuan requested by {who}.").format(
            amount=format_money(disbursement.amount), who=principal.full_name or principal.email
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


def can_request_milestone(contract: Contract, milestone: ContractMilestone) -> tuple[bool, str]:
    if contract.state not in (ContractState.signed, ContractState.in_service, ContractState.under_evaluation):
        return False, _("The contract is not in force")
    if milestone.state is not MilestoneState.due:
        return False, _("Only a due milestone can be requested")
    if milestone.to_pay <= 0:
        return False, _("Nothing is payable for this milestone")
    return True, ""


async def _to_request(session: AsyncSession, principal: Principal, data: DisbursementCreate) -> Payable:
    """The tranche or milestone named in a request, once it may be requested now."""
    payable: Payable
    if data.tranche_id is not None:
        tranche = await session.get(Tranche, data.tranche_id, populate_existing=True)
        if tranche is None:
            raise NotFound(_("Tranche not found"))
        award = await get_award(session, principal, tranche.award_id)
        allowed, reason = can_request_tranche(award, tranche)
        payable = TranchePayment(tranche.id, award.id, award.centre_id, award.organisation_id, tranche.amount)
    else:
        milestone = await session.get(ContractMilestone, data.milestone_id, populate_existing=True)
        if milestone is None:
            raise NotFound(_("Milestone not found"))
        contract = await ContractRepository(session, principal).get(milestone.contract_id)
        allowed, reason = can_request_milestone(contract, milestone)
        payable = MilestonePayment(
            milestone.id, contract.id, contract.centre_id, contract.provider_id, milestone.to_pay
        )
    if not allowed:
        raise Conflict(reason)
    return payable


class DecisionFacts(Protocol):
    @property
    def requested_by(self) -> int: ...
    @property
    def state(self) -> DisbursementState: ...


def can_decide(principal: Principal, disbursement: DecisionFacts) -> tuple[bool, str]:
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


def _decider(principal: Principal) -> None:
    require_finance(principal)


async def approve(
    session: AsyncSession, principal: Principal, disbursement_id: int, note: str = ""
) -> queries.Approved:
    """Requested → approved, with its tranche or milestone, in two compare-and-sets and an
    audit event; answers the approved disbursement's columns (``DISBURSEMENT_COLUMNS``)."""
    _decider(principal)
    disbursement = await queries.decision_facts(session, principal, disbursement_id)
    allowed, reason = can_decide(principal, disbursement)
    if not allowed:
        if disbursement.requested_by == principal.user_id:
            raise Forbidden(reason)
        raise Conflict(reason)
    approved = await queries.approve(
        session, disbursement.id, principal.user_id, principal.full_name or principal.email
    )
    if approved is None:
        raise Conflict(_("Only a disbursement awaiting approval can be decided"))
    payable = paid_by(approved)
    if not await queries.move_payable(session, payable.model, payable.item_id, "requested", "approved"):
        raise Conflict(_("The tranche is no longer awaiting this disbursement"))
    await _audit_disbursement(session, principal, approved, "approve", note=note)
    return approved


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
    if not await queries.reject(
        session, disbursement.id, principal.user_id, principal.full_name or principal.email, reason_text
    ):
        raise Conflict(_("Only a disbursement awaiting approval can be decided"))
    # the tranche is due again: staff may correct and request anew
    payable = paid_by(disbursement)
    await queries.move_payable(session, payable.model, payable.item_id, "requested", "due")
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
        moved = await queries.mark_paid(
            session,
            disbursement.id,
            voucher_no=data.voucher_no,
            paid_on=data.paid_on,
            amount=data.amount,
            paid_by=principal.user_id,
        )
    except IntegrityError as exc:
        raise ValidationFailed.field("voucher_no", _("This voucher number is already recorded")) from exc
    if not moved:
        raise Conflict(_("Only an approved disbursement can be paid"))
    payable = paid_by(disbursement)
    if not await queries.move_payable(
        session, payable.model, payable.item_id, "approved", "paid", paid_on=data.paid_on
    ):
        raise Conflict(_("This payment has already been made"))
    if not await queries.add_paid(session, payable.holder, payable.holder_id, payable.amount):
        raise Conflict(_("The payment would exceed the amount granted"))
    disbursement = await get_disbursement(session, principal, disbursement_id)
    await _audit_disbursement(
        session, principal, disbursement, "pay", voucher_no=data.voucher_no, paid_on=data.paid_on
    )
    await payable.after_payment(session, principal, data)
    return disbursement


@dataclass(frozen=True)
class BankChange:
    """The payee changed its bank account after the centre had verified it: when and who."""

    at: dt.datetime
    who: str


@dataclass
class PaymentLine:
    """A disbursement as finance reads it: whom, to which account, for what, which instalment."""

    disbursement: Disbursement
    payee: str
    bank_name: str
    bank_account_name: str
    bank_account_no: str
    subject_title: str
    subject_href: str
    instalment: tuple[int, int] | None
    agreement_href: str | None
    bank_changed: BankChange | None = None


async def payment_lines(session: AsyncSession, disbursements: Sequence[Disbursement]) -> list[PaymentLine]:
    organisations, awards, tranche_counts, contracts, milestones, agreements = await payment_context(
        session, disbursements
    )
    changes = await _bank_changes(session, {d.payee_organisation_id for d in disbursements})
    lines = []
    for d in disbursements:
        payee = organisations.get(d.payee_organisation_id)
        instalment: tuple[int, int] | None = None
        agreement_href = None
        if d.award_id is not None:
            award = awards.get(d.award_id)
            title, href = (award.title if award else ""), f"/awards/{d.award_id}"
            tranche = next((t for t in award.tranches if t.id == d.tranche_id), None) if award else None
            if tranche is not None:
                instalment = (tranche.seq, tranche_counts.get(d.award_id, 0))
            document_id = agreements.get(d.award_id)
            if document_id is not None:
                agreement_href = f"/api/v1/awards/{d.award_id}/documents/{document_id}"
        else:
            contract = contracts.get(d.contract_id or 0)
            title, href = (contract.title if contract else ""), f"/contracts/{d.contract_id}"
            instalment = milestones.get(d.milestone_id or 0)
        lines.append(
            PaymentLine(
                disbursement=d,
                payee=payee.name if payee else "",
                bank_name=payee.bank_name if payee else "",
                bank_account_name=payee.bank_account_name if payee else "",
                bank_account_no=payee.bank_account_no if payee else "",
                subject_title=title,
                subject_href=href,
                instalment=instalment,
                agreement_href=agreement_href,
                bank_changed=changes.get(d.payee_organisation_id),
            )
        )
    return lines


async def _bank_changes(session: AsyncSession, organisation_ids: set[int]) -> dict[int, BankChange]:
    """Each payee's last bank-account change, where it came after the organisation was verified
    (the account finance is about to pay into is then not the one the centre approved)."""
    events = await audit_queries.latest_of(
        session, "organisation", organisation_ids, "organisation.bank_account"
    )
    after_approval = {i: e for i, e in events.items() if (e.after or {}).get("verified")}
    names = await identity_queries.display_names(
        session, {e.actor_id for e in after_approval.values() if e.actor_id is not None}
    )
    return {
        i: BankChange(e.at, (names.get(e.actor_id) if e.actor_id is not None else None) or e.actor)
        for i, e in after_approval.items()
    }
