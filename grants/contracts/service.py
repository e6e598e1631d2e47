"""政府购买服务: contract lifecycle, milestones and the performance payment rule (SPEC §4.6).

Payments go through the disbursement path of ``grants.payments`` (a milestone is the
target instead of a tranche); this module decides when a milestone becomes due and how
much the final one pays.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.errors import Conflict, ValidationFailed
from core.i18n import _
from core.identity.principal import Principal
from core.money import CENT, format_money, split_into_payments, to_money
from core.repository import Paged, PageParams
from grants import timeline
from grants.access import notify_finance, require_staff
from grants.contracts.models import (
    Contract,
    ContractIndicator,
    ContractMilestone,
    ContractState,
    MilestoneCondition,
    MilestoneState,
)
from grants.contracts.repository import ContractRepository
from grants.contracts.schemas import CompleteIn, ContractIn, ContractTerminateIn, DateIn, EvaluateIn
from grants.disbursements.repository import open_contract_disbursement
from incubator import service as incubator
from incubator.models import Organisation

FULL = Decimal(1)


def payment_factor(
    score: Decimal, full_from: Decimal = Decimal(90), pro_rata_from: Decimal = Decimal(60)
) -> Decimal:
    """The share of the final payment a performance score earns.

    At or above ``full_from`` (default 90): all of it. From ``pro_rata_from`` (default 60)
    up to below ``full_from``: pro rata to the score, i.e. score/100 of it (75 points pay
    75 %). Below ``pro_rata_from``: nothing — the final payment is withheld and the
    provider is barred from the next year's purchases.
    """
    if score >= full_from:
        return FULL
    if score >= pro_rata_from:
        return score / Decimal(100)
    return Decimal(0)


def final_payment(
    amount: Decimal, score: Decimal, full_from: Decimal = Decimal(90), pro_rata_from: Decimal = Decimal(60)
) -> Decimal:
    """What a final milestone of ``amount`` pays at ``score`` (rounded half-up to the fen)."""
    return to_money(amount * payment_factor(score, full_from, pro_rata_from))


def bar_until_for(evaluated_on: dt.date) -> dt.date:
    """Barred from the next year's purchases: until 31 December of the following year."""
    return dt.date(evaluated_on.year + 1, 12, 31)


async def get_contract(session: AsyncSession, principal: Principal, contract_id: int) -> Contract:
    repository = ContractRepository(session, principal)
    return await repository.get(contract_id, repository.full().execution_options(populate_existing=True))


async def list_contracts(
    session: AsyncSession, principal: Principal, params: PageParams, *, state: ContractState | None = None
) -> Paged[Contract]:
    repository = ContractRepository(session, principal)
    return await repository.paginate(repository.filtered(state), params)


async def all_contracts(session: AsyncSession, principal: Principal, *, limit: int = 5000) -> list[Contract]:
    repository = ContractRepository(session, principal)
    statement = (
        repository.full().where(Contract.state != ContractState.draft).order_by(Contract.id).limit(limit)
    )
    return list(await repository.get_all(statement))


def _validate_plan(data: ContractIn) -> None:
    if sum((m.share_pct for m in data.milestones), Decimal(0)) != Decimal(100):
        raise ValidationFailed.field("milestones", _("The milestone shares must add up to 100%"))
    if data.amount < CENT * len(data.milestones):
        raise ValidationFailed.field(
            "amount",
            _("The amount is too small to pay in {n} milestones").format(n=len(data.milestones)),
        )
    finals = [m for m in data.milestones if m.condition is MilestoneCondition.on_evaluation]
    if len(finals) > 1:
        raise ValidationFailed.field(
            "milestones", _("Only one milestone may depend on the performance evaluation")
        )


def _build(contract: Contract, data: ContractIn) -> None:
    parts = split_into_payments(data.amount, [m.share_pct for m in data.milestones])
    contract.milestones = [
        ContractMilestone(
            seq=i, share_pct=m.share_pct, condition=m.condition, description=m.description, amount=part
        )
        for i, (m, part) in enumerate(zip(data.milestones, parts, strict=True), start=1)
    ]
    contract.indicators = [
        ContractIndicator(seq=i, name=ind.name, target=ind.target, unit=ind.unit)
        for i, ind in enumerate(data.indicators, start=1)
    ]


async def _provider(session: AsyncSession, principal: Principal, provider_id: int) -> Organisation:
    """The provider of a new or changed contract: an organisation of the centre that is not barred."""
    provider = await incubator.get_organisation(session, principal, provider_id)
    bar = incubator.bar_in_force(provider, today())
    if bar is not None:
        raise ValidationFailed.field("provider_id", bar)
    return provider


async def create_contract(session: AsyncSession, principal: Principal, data: ContractIn) -> Contract:
    require_staff(principal)
    assert principal.centre_id is not None
    provider = await _provider(session, principal, data.provider_id)
    _validate_plan(data)
    values = data.model_dump(exclude={"indicators", "milestones", "service_category"})
    contract = Contract(
        centre_id=principal.centre_id,
        service_category=data.service_category.value,
        created_by=principal.user_id,
        state=ContractState.draft,
        paid=Decimal("0.00"),
        **values,
    )
    contract.provider_id = provider.id
    _build(contract, data)
    contract.events = []
    session.add(contract)
    await session.flush()
    await timeline.record(
        session, principal, contract, "create", extra={"amount": contract.amount, "title": contract.title}
    )
    return await get_contract(session, principal, contract.id)


async def update_contract(
    session: AsyncSession, principal: Principal, contract_id: int, data: ContractIn
) -> Contract:
    require_staff(principal)
    contract = await get_contract(session, principal, contract_id)
    if contract.state is not ContractState.draft:
        raise Conflict(_("Only a draft contract can be changed"))
    provider = await _provider(session, principal, data.provider_id)
    _validate_plan(data)
    for name, value in data.model_dump(exclude={"indicators", "milestones", "service_category"}).items():
        setattr(contract, name, value)
    contract.provider_id = provider.id
    contract.service_category = data.service_category.value
    contract.milestones.clear()
    contract.indicators.clear()
    await session.flush()
    _build(contract, data)
    await session.flush()
    await timeline.record(
        session, principal, contract, "update", previous=contract.state, extra={"amount": contract.amount}
    )
    return await get_contract(session, principal, contract.id)


async def _make_due(
    session: AsyncSession, contract: Contract, condition: MilestoneCondition, on: dt.date
) -> None:
    became = []
    for milestone in contract.milestones:
        if milestone.state is MilestoneState.planned and milestone.condition is condition:
            milestone.state = MilestoneState.due
            milestone.due_on = on
            became.append(milestone)
    await session.flush()
    if became:
        total = sum((m.to_pay for m in became), Decimal("0.00"))
        await notify_finance(
            session,
            contract.centre_id,
            _("A contract payment is due: {title}").format(title=contract.title),
            _("{count} milestone(s), {amount} yuan in all, can now be disbursed.").format(
                count=len(became), amount=format_money(total)
            ),
            f"/contracts/{contract.id}",
        )


TRANSITIONS: dict[str, tuple[frozenset[ContractState], ContractState]] = {
    "sign": (frozenset({ContractState.draft}), ContractState.signed),
    "start": (frozenset({ContractState.signed}), ContractState.in_service),
    "evaluate": (
        frozenset({ContractState.in_service, ContractState.under_evaluation}),
        ContractState.under_evaluation,
    ),
    "complete": (frozenset({ContractState.under_evaluation}), ContractState.completed),
    "terminate": (
        frozenset(
            {
                ContractState.draft,
                ContractState.signed,
                ContractState.in_service,
                ContractState.under_evaluation,
            }
        ),
        ContractState.terminated,
    ),
}


def can_transition(contract: Contract, action: str, provider: Organisation | None = None) -> tuple[bool, str]:
    """Whether ``action`` is possible now, and why not; signing also needs a provider that is
    not barred (pass ``provider`` for that check)."""
    sources, _target = TRANSITIONS[action]
    if contract.state not in sources:
        from grants.contracts.models import CONTRACT_STATE_LABELS

        return False, _("Not possible while the contract is “{state}”").format(
            state=_(CONTRACT_STATE_LABELS[contract.state])
        )
    if action == "complete":
        if contract.evaluation_score is None:
            return False, _("Record the performance evaluation score first")
        for milestone in contract.milestones:
            if milestone.state not in (
                MilestoneState.paid,
                MilestoneState.withheld,
                MilestoneState.cancelled,
            ):
                return False, _("Milestone {seq} is not paid yet").format(seq=milestone.seq)
    if action == "sign" and provider is not None:
        bar = incubator.bar_in_force(provider, today())
        if bar is not None:
            return False, bar
    return True, ""


def _check(contract: Contract, action: str, provider: Organisation | None = None) -> None:
    allowed, reason = can_transition(contract, action, provider)
    if not allowed:
        raise Conflict(reason)


def _not_future(day: dt.date, field: str) -> None:
    if day > today():
        raise ValidationFailed.field(field, _("The date cannot be in the future"))


async def sign(session: AsyncSession, principal: Principal, contract_id: int, data: DateIn) -> Contract:
    require_staff(principal)
    contract = await get_contract(session, principal, contract_id)
    provider = await incubator.get_organisation(session, principal, contract.provider_id)
    _check(contract, "sign", provider)
    _not_future(data.on, "on")
    contract.state = ContractState.signed
    contract.signed_on = data.on
    await timeline.record(
        session, principal, contract, "sign", previous=ContractState.draft, extra={"signed_on": data.on}
    )
    await _make_due(session, contract, MilestoneCondition.on_signing, today())
    return await get_contract(session, principal, contract.id)


async def start(session: AsyncSession, principal: Principal, contract_id: int, data: DateIn) -> Contract:
    require_staff(principal)
    contract = await get_contract(session, principal, contract_id)
    _check(contract, "start")
    _not_future(data.on, "on")
    contract.state = ContractState.in_service
    contract.started_on = data.on
    await timeline.record(
        session, principal, contract, "start", previous=ContractState.signed, extra={"started_on": data.on}
    )
    await _make_due(session, contract, MilestoneCondition.on_start, today())
    return await get_contract(session, principal, contract.id)


async def evaluate(
    session: AsyncSession, principal: Principal, contract_id: int, data: EvaluateIn
) -> Contract:
    require_staff(principal)
    return await _evaluate(session, principal, contract_id, data)


async def record_contract_evaluation(
    session: AsyncSession, principal: Principal, contract_id: int, total: Decimal
) -> Contract:
    """Called when a contract-performance round closes: apply the payment rule to its score.

    The round's total is computed, not typed: with bonus criteria it may pass 100, which the
    hand-entry schema (at most 100) would refuse, so it is taken as it is.
    """
    return await _evaluate(session, principal, contract_id, EvaluateIn.model_construct(score=total))


async def _evaluate(
    session: AsyncSession, principal: Principal, contract_id: int, data: EvaluateIn
) -> Contract:
    contract = await get_contract(session, principal, contract_id)
    _check(contract, "evaluate")
    before = contract.state
    on = data.on or today()
    _not_future(on, "on")
    indicators = {i.id: i for i in contract.indicators}
    for row in data.actuals:
        if row.indicator_id not in indicators:
            raise ValidationFailed.field("actuals", _("An indicator does not belong to this contract"))
        indicators[row.indicator_id].actual = row.actual
    if data.score is None:
        if contract.state is ContractState.under_evaluation and not data.actuals:
            raise Conflict(_("The evaluation has already started"))
        contract.state = ContractState.under_evaluation
        started = _("Performance evaluation started")
        await timeline.record(session, principal, contract, "evaluate", note=started, previous=before)
        return await get_contract(session, principal, contract.id)
    if contract.evaluation_score is not None:
        raise Conflict(_("The performance score is already recorded"))
    factor = payment_factor(data.score, contract.full_payment_from, contract.pro_rata_from)
    contract.state = ContractState.under_evaluation
    contract.evaluation_score = data.score
    contract.payment_factor = factor
    contract.evaluated_on = on
    withheld = factor == 0
    for milestone in contract.milestones:
        if (
            milestone.condition is MilestoneCondition.on_evaluation
            and milestone.state is MilestoneState.planned
        ):
            milestone.payable = final_payment(
                milestone.amount, data.score, contract.full_payment_from, contract.pro_rata_from
            )
            if withheld:
                milestone.state = MilestoneState.withheld
    await session.flush()
    note = _("Performance score {score}: final payment at {share}%").format(
        score=data.score, share=f"{factor * 100:.2f}".rstrip("0").rstrip(".")
    )
    await timeline.record(
        session,
        principal,
        contract,
        "evaluate",
        note=note,
        previous=before,
        extra={"score": data.score, "factor": factor},
    )
    if withheld:
        until = bar_until_for(on)
        await incubator.bar_by_system(
            session,
            principal,
            contract.provider_id,
            until,
            _("Performance score {score} below {threshold} on contract “{title}”").format(
                score=data.score, threshold=contract.pro_rata_from, title=contract.title
            ),
        )
    else:
        await _make_due(session, contract, MilestoneCondition.on_evaluation, today())
    return await get_contract(session, principal, contract.id)


async def complete(
    session: AsyncSession, principal: Principal, contract_id: int, data: CompleteIn
) -> Contract:
    require_staff(principal)
    contract = await get_contract(session, principal, contract_id)
    _check(contract, "complete")
    contract.state = ContractState.completed
    contract.closed_on = today()
    await timeline.record(
        session, principal, contract, "complete", note=data.note, previous=ContractState.under_evaluation
    )
    return await get_contract(session, principal, contract.id)


async def terminate(
    session: AsyncSession, principal: Principal, contract_id: int, data: ContractTerminateIn
) -> Contract:
    require_staff(principal)
    contract = await get_contract(session, principal, contract_id)
    _check(contract, "terminate")
    pending = await open_contract_disbursement(session, contract.id)
    if pending is not None:
        raise Conflict(
            _("Disbursement #{id} is still open; reject or pay it before terminating").format(id=pending.id)
        )
    if data.bar_until is not None and data.bar_until < today():
        raise ValidationFailed.field("bar_until", _("The bar must last until today or later"))
    before = contract.state
    for milestone in contract.milestones:
        if milestone.state in (MilestoneState.planned, MilestoneState.due):
            milestone.state = MilestoneState.cancelled
    contract.state = ContractState.terminated
    contract.termination_reason = data.reason
    contract.closed_on = today()
    await session.flush()
    await timeline.record(
        session,
        principal,
        contract,
        "terminate",
        note=data.reason,
        previous=before,
        extra={"paid": contract.paid},
    )
    if data.bar_until is not None:
        await incubator.bar_by_system(
            session,
            principal,
            contract.provider_id,
            data.bar_until,
            _("Contract terminated: {title}").format(title=contract.title),
        )
    return await get_contract(session, principal, contract.id)
