"""Community funds (SPEC §4.7): funds, receipts into pools, allocations with approval steps and
maker-checker, payments out, money returned from terminated awards, and the public accounts.

Money only moves through ``funds.repository``'s conditional UPDATEs; every change is audited
in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from communities import service as communities
from core import audit
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.files import FileStore, StoredFile, store_upload
from core.i18n import _
from core.identity import service as identity
from core.identity.models import Role
from core.identity.principal import Principal
from core.money import CENT
from core.repository import Paged, PageParams
from funds import repository as money
from funds.models import (
    ALLOCATION_STATE_LABELS,
    PURPOSE_LABELS,
    RESTRICTION_LABELS,
    SOURCE_LABELS,
    TARGET_LABELS,
    AllocationDecision,
    AllocationState,
    AllocationTarget,
    Fund,
    FundAllocation,
    FundApprovalStep,
    FundPool,
    FundPurpose,
    FundReceipt,
    FundReturn,
    ReceiptSource,
    Restriction,
    StepDecision,
)
from funds.repository import AllocationRepository, FundRepository, ReceiptRepository
from funds.schemas import AllocationCreate, AllocationPayIn, DecisionIn, FundCreate, ReceiptCreate, ReturnIn
from grants.access import centre_of, notify_finance
from grants.awards import service as awards
from grants.contracts import service as contracts
from grants.programmes import service as programmes
from grants.programmes.models import ProgrammeState

ZERO = Decimal("0.00")
NON_FISCAL_CASH = (
    ReceiptSource.paired_unit,
    ReceiptSource.enterprise,
    ReceiptSource.individual,
    ReceiptSource.residents,
)
FUNDED_ALLOCATIONS = (AllocationState.approved, AllocationState.paid)


def yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


# Who may do what ---------------------------------------------------------------------------


def require_reader(principal: Principal) -> None:
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        raise Forbidden(_("Your role does not allow this"))


def _require_staff(principal: Principal) -> None:
    identity.require_writer(principal)
    if not principal.has(Role.staff):
        raise Forbidden(_("Only centre staff may do this"))


def _require_staff_or_finance(principal: Principal) -> None:
    identity.require_writer(principal)
    if not principal.has(Role.staff, Role.finance):
        raise Forbidden(_("Only centre staff or a finance officer may do this"))


async def _audit(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    subject_type: str,
    subject_id: int,
    centre_id: int,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await audit.record(
        session,
        actor=principal,
        action=f"fund.{action}",
        subject_type=subject_type,
        subject_id=subject_id,
        centre_id=centre_id,
        before=before,
        after=after,
    )


def _totals(fund: Fund) -> dict[str, Any]:
    return {
        "received": fund.received,
        "in_kind_value": fund.in_kind_value,
        "committed": fund.committed,
        "spent": fund.spent,
        "returned": fund.returned,
    }


# Funds -------------------------------------------------------------------------------------


async def create_fund(session: AsyncSession, principal: Principal, data: FundCreate) -> Fund:
    _require_staff(principal)
    if data.community_id is not None:
        await check_community(session, principal, data.community_id, "community_id")
    fund = Fund(
        centre_id=centre_of(principal),
        name=data.name,
        scope=data.scope,
        community_id=data.community_id,
        custodian=data.custodian,
        committee=data.committee,
        description=data.description,
        approval_threshold=data.approval_threshold,
        received=ZERO,
        in_kind_value=ZERO,
        committed=ZERO,
        spent=ZERO,
        returned=ZERO,
        is_public=True,
    )
    fund.steps = [FundApprovalStep(seq=i, name=name.strip()) for i, name in enumerate(data.approval_steps, 1)]
    session.add(fund)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ValidationFailed.field("name", _("A fund of this name already exists")) from exc
    session.add(
        FundPool(fund_id=fund.id, key="none", restriction=Restriction.none, received=ZERO, committed=ZERO)
    )
    await session.flush()
    await _audit(
        session,
        principal,
        "create",
        "fund",
        fund.id,
        fund.centre_id,
        after={
            "name": fund.name,
            "scope": fund.scope,
            "community_id": fund.community_id,
            "custodian": fund.custodian,
            "approval_threshold": fund.approval_threshold,
            "steps": data.approval_steps,
        },
    )
    return fund


async def get_fund(session: AsyncSession, principal: Principal, fund_id: int) -> Fund:
    require_reader(principal)
    repository = FundRepository(session, principal)
    return await repository.get(fund_id, repository.select().execution_options(populate_existing=True))


async def list_funds(session: AsyncSession, principal: Principal, page: PageParams) -> Paged[Fund]:
    require_reader(principal)
    repository = FundRepository(session, principal)
    return await repository.paginate(repository.listed(), page)


async def pools(session: AsyncSession, principal: Principal, fund_id: int) -> Sequence[FundPool]:
    fund = await get_fund(session, principal, fund_id)
    return await money.pools_of(session, fund.id)


def pool_label(pool: FundPool, names: dict[int, str] | None = None) -> str:
    """How people name a pool: 不限定 / 限定用途：为老服务 / 限定项目：… ."""
    if pool.restriction is Restriction.none:
        return _(RESTRICTION_LABELS[Restriction.none])
    if pool.restriction is Restriction.purpose and pool.purpose is not None:
        target = _(PURPOSE_LABELS[pool.purpose])
    elif pool.restriction is Restriction.programme and pool.programme_id is not None:
        target = (names or {}).get(pool.programme_id, f"#{pool.programme_id}")
    else:
        target = (names or {}).get(pool.community_id or 0, f"#{pool.community_id}")
    return f"{_(RESTRICTION_LABELS[pool.restriction])}: {target}"


# Receipts ----------------------------------------------------------------------------------


def _pool_key(data: ReceiptCreate) -> str:
    if data.restriction is Restriction.purpose:
        assert data.purpose is not None
        return f"purpose:{data.purpose.value}"
    if data.restriction is Restriction.community:
        return f"community:{data.community_id}"
    if data.restriction is Restriction.programme:
        return f"programme:{data.programme_id}"
    return "none"


async def _pool_for(session: AsyncSession, fund: Fund, data: ReceiptCreate) -> FundPool:
    key = _pool_key(data)
    pool = await money.pool_by_key(session, fund.id, key)
    if pool is not None:
        return pool
    pool = FundPool(
        fund_id=fund.id,
        key=key,
        restriction=data.restriction,
        purpose=data.purpose,
        community_id=data.community_id,
        programme_id=data.programme_id,
        received=ZERO,
        committed=ZERO,
    )
    try:
        async with session.begin_nested():
            session.add(pool)
            await session.flush()
    except IntegrityError:
        # Another receipt opened the same pool at the same moment: use that one.
        existing = await money.pool_by_key(session, fund.id, key)
        if existing is None:  # pragma: no cover - the unique key says it exists
            raise
        return existing
    return pool


async def _check_restriction_target(session: AsyncSession, principal: Principal, data: ReceiptCreate) -> None:
    if data.programme_id is not None:
        try:
            await programmes.get_programme(session, principal, data.programme_id)
        except NotFound as exc:
            raise ValidationFailed.field("programme_id", _("No such programme")) from exc
    if data.community_id is not None:
        await check_community(session, principal, data.community_id, "community_id")


async def check_community(session: AsyncSession, principal: Principal, community_id: int, field: str) -> None:
    """Communities are records of the centre (SPEC §3.1)."""
    if principal.centre_id is None:
        raise ValidationFailed.field(field, _("Choose a community of your centre"))
    await communities.of_centre(session, principal.centre_id, community_id, field)


async def record_receipt(
    session: AsyncSession, principal: Principal, fund_id: int, data: ReceiptCreate
) -> FundReceipt:
    """Money (or an in-kind gift) comes in. Cash goes to its pool; in-kind only to the record."""
    _require_staff_or_finance(principal)
    fund = await get_fund(session, principal, fund_id)
    await _check_restriction_target(session, principal, data)
    pool = None if data.source is ReceiptSource.in_kind else await _pool_for(session, fund, data)
    receipt = FundReceipt(
        centre_id=fund.centre_id,
        fund_id=fund.id,
        pool_id=pool.id if pool is not None else None,
        received_on=data.received_on,
        source=data.source,
        donor_name=data.donor_name,
        publish_donor=data.publish_donor,
        amount=data.amount,
        receipt_no=data.receipt_no,
        in_kind_items=data.in_kind_items,
        valuation_basis=data.valuation_basis,
        note=data.note,
        recorded_by=principal.user_id,
        recorded_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(receipt)
            await session.flush()
    except IntegrityError as exc:
        raise ValidationFailed.field("receipt_no", _("This receipt number is already recorded")) from exc
    if pool is None:
        await money.credit_in_kind(session, fund.id, data.amount)
    else:
        await money.credit_cash(session, fund.id, pool.id, data.amount)
    fund = await money.fresh_fund(session, fund.id)
    await _audit(
        session,
        principal,
        "receipt",
        "fund",
        fund.id,
        fund.centre_id,
        after={
            "receipt_id": receipt.id,
            "source": data.source,
            "amount": data.amount,
            "receipt_no": data.receipt_no,
            "restriction": data.restriction,
            "pool_id": receipt.pool_id,
            **_totals(fund),
        },
    )
    return receipt


async def list_receipts(
    session: AsyncSession,
    principal: Principal,
    fund_id: int,
    page: PageParams,
    source: ReceiptSource | None = None,
) -> Paged[FundReceipt]:
    fund = await get_fund(session, principal, fund_id)
    repository = ReceiptRepository(session, principal)
    return await repository.paginate(repository.of_fund(fund.id, source), page)


async def get_receipt(
    session: AsyncSession, principal: Principal, fund_id: int, receipt_id: int
) -> FundReceipt:
    fund = await get_fund(session, principal, fund_id)
    receipt = await ReceiptRepository(session, principal).get(receipt_id)
    if receipt.fund_id != fund.id:
        raise NotFound(_("Receipt not found"))
    return receipt


async def attach_to_receipt(
    session: AsyncSession, principal: Principal, fund_id: int, receipt_id: int, stored_file_id: int
) -> FundReceipt:
    _require_staff_or_finance(principal)
    receipt = await get_receipt(session, principal, fund_id, receipt_id)
    before = receipt.attachment_id
    receipt.attachment_id = stored_file_id
    await session.flush()
    await _audit(
        session,
        principal,
        "receipt_attachment",
        "fund_receipt",
        receipt.id,
        receipt.centre_id,
        before={"attachment_id": before},
        after={"attachment_id": stored_file_id},
    )
    return receipt


# Allocations -------------------------------------------------------------------------------


async def _target_programme_of(
    session: AsyncSession, principal: Principal, data: AllocationCreate
) -> int | None:
    """Check the target exists in the caller's centre; answer the programme it belongs to."""
    try:
        if data.target is AllocationTarget.programme:
            assert data.programme_id is not None
            programme = await programmes.get_programme(session, principal, data.programme_id)
            if programme.state is ProgrammeState.closed:
                raise Conflict(_("The programme is closed"))
            return programme.id
        if data.target is AllocationTarget.award:
            assert data.award_id is not None
            award = await awards.get_award(session, principal, data.award_id)
            return award.programme_id
        assert data.contract_id is not None
        await contracts.get_contract(session, principal, data.contract_id)
        return None
    except NotFound as exc:
        field = f"{data.target.value}_id"
        raise ValidationFailed.field(
            field, _("No such {what}").format(what=_(TARGET_LABELS[data.target]))
        ) from exc


def restriction_refusal(pool: FundPool, data: AllocationCreate, programme_id: int | None) -> str | None:
    """Why restricted money may not pay for this allocation (``None`` when it may)."""
    if pool.restriction is Restriction.purpose and data.purpose != pool.purpose:
        assert pool.purpose is not None
        return _("This money is restricted to {purpose}; the allocation is for {other}").format(
            purpose=_(PURPOSE_LABELS[pool.purpose]), other=_(PURPOSE_LABELS[data.purpose])
        )
    if pool.restriction is Restriction.community and data.community_id != pool.community_id:
        return _("This money is restricted to another community")
    if pool.restriction is Restriction.programme and programme_id != pool.programme_id:
        return _("This money is restricted to another programme")
    return None


def steps_for(fund: Fund, amount: Decimal) -> list[str]:
    """The approval steps an allocation goes through: the fund's bodies when it is above the
    threshold, then always the finance check (maker-checker)."""
    bodies = (
        [s.name for s in fund.steps]
        if fund.approval_threshold is not None and amount > fund.approval_threshold
        else []
    )
    return [*bodies, _("Finance check")]


async def request_allocation(
    session: AsyncSession, principal: Principal, fund_id: int, data: AllocationCreate
) -> FundAllocation:
    """Staff propose an allocation; its amount is committed at once (or refused with the figures)."""
    _require_staff(principal)
    fund = await get_fund(session, principal, fund_id)
    pool = await money.pool_of_fund(session, fund.id, data.pool_id)
    if pool is None:
        raise ValidationFailed.field("pool_id", _("No such pool in this fund"))
    if data.community_id is not None:
        await check_community(session, principal, data.community_id, "community_id")
    programme_id = await _target_programme_of(session, principal, data)
    refusal = restriction_refusal(pool, data, programme_id)
    if refusal is not None:
        raise ValidationFailed.field("pool_id", refusal)
    if not await money.reserve_in_pool(session, pool.id, data.amount):
        pool = await money.pool_of_fund(session, fund.id, pool.id) or pool
        raise Conflict(
            _(
                "The allocation of {amount} yuan exceeds what this money holds: received {received}, "
                "committed {committed}, available {available} yuan"
            ).format(
                amount=yuan(data.amount),
                received=yuan(pool.received),
                committed=yuan(pool.committed),
                available=yuan(pool.received - pool.committed),
            ),
            details=[],
        )
    if not await money.reserve_in_fund(session, fund.id, data.amount):  # pragma: no cover - pools add up
        # The request's transaction rolls back with this error, the pool's reservation with it.
        raise Conflict(_("The fund does not hold this much"))
    steps = steps_for(fund, data.amount)
    allocation = FundAllocation(
        centre_id=fund.centre_id,
        fund_id=fund.id,
        pool_id=pool.id,
        target=data.target,
        programme_id=data.programme_id,
        award_id=data.award_id,
        contract_id=data.contract_id,
        purpose=data.purpose,
        community_id=data.community_id,
        title=data.title,
        amount=data.amount,
        returned=ZERO,
        state=AllocationState.pending,
        next_step=1,
        step_count=len(steps),
        note=data.note,
        requested_by=principal.user_id,
        requested_by_name=principal.full_name or principal.email,
        requested_at=utcnow(),
    )
    allocation.decisions = []
    session.add(allocation)
    await session.flush()
    fund = await money.fresh_fund(session, fund.id)
    await _audit(
        session,
        principal,
        "allocation_request",
        "fund_allocation",
        allocation.id,
        fund.centre_id,
        after={
            "fund_id": fund.id,
            "pool_id": pool.id,
            "target": data.target,
            "target_id": data.programme_id or data.award_id or data.contract_id,
            "amount": data.amount,
            "steps": steps,
            **_totals(fund),
        },
    )
    await notify_finance(
        session,
        fund.centre_id,
        _("A fund allocation awaits approval"),
        _("{amount} yuan from {fund}: {title}").format(
            amount=yuan(data.amount), fund=fund.name, title=data.title
        ),
        f"/funds/{fund.id}",
    )
    return allocation


async def get_allocation(session: AsyncSession, principal: Principal, allocation_id: int) -> FundAllocation:
    require_reader(principal)
    repository = AllocationRepository(session, principal)
    return await repository.get(allocation_id, repository.select().execution_options(populate_existing=True))


async def list_allocations(
    session: AsyncSession,
    principal: Principal,
    fund_id: int,
    page: PageParams,
    state: AllocationState | None = None,
) -> Paged[FundAllocation]:
    fund = await get_fund(session, principal, fund_id)
    repository = AllocationRepository(session, principal)
    return await repository.paginate(repository.of_fund(fund.id, state), page)


async def step_name(session: AsyncSession, allocation: FundAllocation) -> str:
    fund = await money.fresh_fund(session, allocation.fund_id)
    return steps_for(fund, allocation.amount)[allocation.next_step - 1]


def can_decide(principal: Principal, allocation: FundAllocation) -> tuple[bool, str]:
    if allocation.state is not AllocationState.pending:
        return False, _("The allocation is {state}").format(
            state=_(ALLOCATION_STATE_LABELS[allocation.state])
        )
    if principal.user_id == allocation.requested_by:
        return False, _("You requested this allocation; another person must decide it")
    if principal.read_only:
        return False, _("District-level accounts are read-only")
    final = allocation.next_step == allocation.step_count
    if final and not principal.has(Role.finance):
        return False, _("The last step is the finance check")
    if not final and not principal.has(Role.staff, Role.finance):
        return False, _("Only centre staff or a finance officer may record a step's decision")
    return True, ""


async def decide(
    session: AsyncSession, principal: Principal, allocation_id: int, data: DecisionIn
) -> FundAllocation:
    """Record the decision of the allocation's current step. A rejection at any step ends it and
    gives the money back to its pool; approval at the last step funds the target."""
    allocation = await get_allocation(session, principal, allocation_id)
    allowed, reason = can_decide(principal, allocation)
    if not allowed:
        if allocation.state is not AllocationState.pending:
            raise Conflict(reason)
        raise Forbidden(reason)
    seq = allocation.next_step
    name = await step_name(session, allocation)
    if (
        data.decision is StepDecision.approved
        and seq == allocation.step_count
        and allocation.target is AllocationTarget.programme
    ):
        assert allocation.programme_id is not None
        await _check_programme_budget(session, allocation.programme_id, allocation.amount)
    decision = AllocationDecision(
        allocation_id=allocation.id,
        seq=seq,
        step_name=name,
        decision=data.decision,
        note=data.note,
        requested_by=allocation.requested_by,
        decided_by=principal.user_id,
        decided_by_name=principal.full_name or principal.email,
        decided_at=utcnow(),
    )
    try:
        async with session.begin_nested():
            session.add(decision)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(_("This step has already been decided")) from exc
    before = {"state": allocation.state, "next_step": seq}
    if data.decision is StepDecision.rejected:
        allocation.state = AllocationState.rejected
        await session.flush()
        await money.release(session, allocation.fund_id, allocation.pool_id, allocation.amount)
    elif seq == allocation.step_count:
        allocation.state = AllocationState.approved
        await session.flush()
        if allocation.target is AllocationTarget.programme:
            assert allocation.programme_id is not None
            await _fund_programme(session, allocation.programme_id)
    else:
        allocation.next_step = seq + 1
        await session.flush()
    fund = await money.fresh_fund(session, allocation.fund_id)
    await _audit(
        session,
        principal,
        f"allocation_{data.decision.value}",
        "fund_allocation",
        allocation.id,
        allocation.centre_id,
        before=before,
        after={"state": allocation.state, "step": seq, "step_name": name, "note": data.note, **_totals(fund)},
    )
    session.expire(allocation, ["decisions"])
    return await get_allocation(session, principal, allocation.id)


async def _check_programme_budget(session: AsyncSession, programme_id: int, amount: Decimal) -> None:
    """Before a programme's funding is approved: the programme (locked for the rest of the
    transaction) must not have committed more than its fundings will total."""
    programme = await money.lock_programme(session, programme_id)
    if programme is None:  # pragma: no cover - the FK keeps it
        raise NotFound(_("Programme not found"))
    if programme.state is ProgrammeState.closed:
        raise Conflict(_("The programme is closed"))
    total = await money.programme_fundings_total(session, programme_id) + amount
    if programme.committed > total:
        raise Conflict(
            _(
                "The programme has already committed {committed} yuan; its fundings would total only "
                "{total} yuan"
            ).format(committed=yuan(programme.committed), total=yuan(total))
        )


async def _fund_programme(session: AsyncSession, programme_id: int) -> None:
    """A programme financed by funds has the sum of its fundings as its total budget."""
    total = await money.programme_fundings_total(session, programme_id)
    if not await money.set_programme_budget(session, programme_id, total):  # pragma: no cover - checked
        raise Conflict(_("The programme has committed more than its fundings"))


def can_pay(principal: Principal, allocation: FundAllocation) -> tuple[bool, str]:
    if not principal.has(Role.finance) or principal.read_only:
        return False, _("Only a finance officer may do this")
    if allocation.state is not AllocationState.approved:
        return False, _("Only an approved allocation can be paid out")
    if principal.user_id == allocation.requested_by:
        return False, _("You requested this allocation; another person must pay it out")
    return True, ""


async def pay_allocation(
    session: AsyncSession, principal: Principal, allocation_id: int, data: AllocationPayIn
) -> FundAllocation:
    """Finance records that the custodian paid the allocation out (its voucher and date)."""
    allocation = await get_allocation(session, principal, allocation_id)
    allowed, reason = can_pay(principal, allocation)
    if not allowed:
        if principal.has(Role.finance) and allocation.state is not AllocationState.approved:
            raise Conflict(reason)
        raise Forbidden(reason)
    outstanding = allocation.amount - allocation.returned
    allocation.state = AllocationState.paid
    allocation.voucher_no = data.voucher_no
    allocation.paid_on = data.paid_on
    await session.flush()
    if not await money.record_spent(session, allocation.fund_id, outstanding):  # pragma: no cover - CHECKed
        raise Conflict(_("The fund has not committed this much"))
    fund = await money.fresh_fund(session, allocation.fund_id)
    await _audit(
        session,
        principal,
        "allocation_pay",
        "fund_allocation",
        allocation.id,
        allocation.centre_id,
        before={"state": AllocationState.approved},
        after={
            "state": allocation.state,
            "voucher_no": data.voucher_no,
            "paid_on": data.paid_on,
            **_totals(fund),
        },
    )
    return allocation


# Returned money ----------------------------------------------------------------------------


def pro_rata(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split ``total`` over ``weights`` exactly to the fen (largest remainder, earliest first)."""
    whole = sum(weights, ZERO)
    if whole <= 0:
        return [ZERO for _w in weights]
    fen = int(total / CENT)
    raw = [Decimal(fen) * w / whole for w in weights]
    floors = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - floors[i]), i))
    for i in order[: fen - sum(floors)]:
        floors[i] += 1
    return [(Decimal(f) * CENT).quantize(CENT) for f in floors]


async def return_clawback(session: AsyncSession, principal: Principal, data: ReturnIn) -> list[FundReturn]:
    """追回: the money recovered from a terminated award goes back to the funds it came from,
    through the allocations that financed it (pro rata when several did)."""
    _require_staff_or_finance(principal)
    award = await awards.get_award(session, principal, data.award_id)
    found = await money.clawback_of_award(session, award.id)
    if found is None:
        raise Conflict(_("Nothing is to be returned: the award was not terminated with a clawback"))
    _award, clawback = found
    if clawback.amount <= 0:
        raise Conflict(_("Nothing is to be returned from this award"))
    if await money.returns_of_clawback(session, clawback.id):
        raise Conflict(_("This clawback has already been returned to its funds"))
    allocations = await money.allocations_behind_award(session, award)
    if not allocations:
        raise Conflict(_("No fund financed this project"))
    weights = [a.amount - a.returned for a in allocations]
    funded = sum(weights, ZERO)
    direct = allocations[0].award_id == award.id
    # A fund that paid part of an award gets back its share of the clawback; a programme whose
    # budget is the sum of its fundings owes all of it to them.
    to_return = clawback.amount
    if direct and award.amount > funded:
        to_return = (clawback.amount * funded / award.amount).quantize(CENT, rounding=ROUND_DOWN)
    to_return = min(to_return, funded)
    returns: list[FundReturn] = []
    for allocation, part in zip(allocations, pro_rata(to_return, weights), strict=True):
        if part <= 0:
            continue
        if not await money.take_back(
            session, allocation, part, was_paid=allocation.state is AllocationState.paid
        ):
            raise Conflict(_("The allocation cannot take this much back"))
        fund_return = FundReturn(
            centre_id=allocation.centre_id,
            fund_id=allocation.fund_id,
            allocation_id=allocation.id,
            clawback_id=clawback.id,
            amount=part,
            returned_on=data.returned_on,
            note=data.note,
            recorded_by=principal.user_id,
            recorded_at=utcnow(),
        )
        session.add(fund_return)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError as exc:
            raise Conflict(_("This clawback has already been returned to its funds")) from exc
        fund = await money.fresh_fund(session, allocation.fund_id)
        await _audit(
            session,
            principal,
            "return",
            "fund_allocation",
            allocation.id,
            allocation.centre_id,
            after={"award_id": award.id, "clawback_id": clawback.id, "amount": part, **_totals(fund)},
        )
        returns.append(fund_return)
    return returns


# Public accounts and statements ------------------------------------------------------------


@dataclass(frozen=True)
class Accounts:
    """What a fund shows the public (and its statement prints)."""

    fund: Fund
    by_source: list[tuple[str, Decimal]]
    receipts: list[dict[str, Any]]
    allocations: list[dict[str, Any]]
    fiscal: Decimal
    non_fiscal: Decimal
    leverage: Decimal | None
    cultivation: Decimal
    cultivation_pct: Decimal | None
    allocated: Decimal


def donor_shown(receipt: FundReceipt) -> str:
    return receipt.donor_name if receipt.publish_donor else _("Caring donor")


def leverage_of(fiscal: Decimal, non_fiscal: Decimal) -> Decimal | None:
    """撬动比: non-fiscal money raised for each yuan of fiscal money."""
    if fiscal <= 0:
        return None
    return (non_fiscal / fiscal).quantize(Decimal("0.01"))


async def accounts(
    session: AsyncSession, fund: Fund, *, start: dt.date | None = None, end: dt.date | None = None
) -> Accounts:
    receipts = await money.receipts_between(session, fund.id, start, end)
    allocations = await money.live_allocations(session, fund.id)
    sums = dict.fromkeys(ReceiptSource, ZERO)
    for receipt in receipts:
        sums[receipt.source] += receipt.amount
    fiscal = sums[ReceiptSource.fiscal]
    non_fiscal = sum((sums[s] for s in NON_FISCAL_CASH), ZERO)
    funded = [a for a in allocations if a.state in FUNDED_ALLOCATIONS]
    allocated = sum((a.amount - a.returned for a in funded), ZERO)
    cultivation = sum((a.amount - a.returned for a in funded if a.purpose is FundPurpose.cultivation), ZERO)
    return Accounts(
        fund=fund,
        by_source=[(_(SOURCE_LABELS[s]), sums[s]) for s in ReceiptSource if sums[s] > 0],
        receipts=[
            {
                "received_on": r.received_on,
                "source": _(SOURCE_LABELS[r.source]),
                "donor": donor_shown(r),
                "amount": r.amount,
                "in_kind": r.source is ReceiptSource.in_kind,
                "in_kind_items": r.in_kind_items,
            }
            for r in receipts
        ],
        allocations=[
            {
                "title": a.title,
                "target": _(TARGET_LABELS[a.target]),
                "purpose": _(PURPOSE_LABELS[a.purpose]),
                "amount": a.amount,
                "returned": a.returned,
                "state": _(ALLOCATION_STATE_LABELS[a.state]),
                "requested_at": a.requested_at,
            }
            for a in allocations
        ],
        fiscal=fiscal,
        non_fiscal=non_fiscal,
        leverage=leverage_of(fiscal, non_fiscal),
        cultivation=cultivation,
        cultivation_pct=(cultivation * 100 / allocated).quantize(Decimal("0.1")) if allocated > 0 else None,
        allocated=allocated,
    )


async def public_accounts(session: AsyncSession, fund_id: int) -> Accounts:
    fund = await money.public_fund(session, fund_id)
    if fund is None:
        raise NotFound(_("Fund not found"))
    return await accounts(session, fund)


async def public_funds(session: AsyncSession) -> Sequence[Fund]:
    return await money.public_funds(session)


async def programme_fundings(
    session: AsyncSession, principal: Principal, programme_id: int
) -> list[tuple[FundAllocation, Fund]]:
    await programmes.get_programme(session, principal, programme_id)
    return list(await money.programme_fundings(session, programme_id))


async def returns_of_fund(session: AsyncSession, principal: Principal, fund_id: int) -> Sequence[FundReturn]:
    fund = await get_fund(session, principal, fund_id)
    return await money.returns_of_fund(session, fund.id)


async def attach_receipt_file(
    session: AsyncSession,
    principal: Principal,
    store: FileStore,
    fund_id: int,
    receipt_id: int,
    *,
    filename: str,
    content: bytes,
    max_bytes: int,
) -> FundReceipt:
    """The scanned donation receipt (捐赠票据) or transfer slip of a receipt."""
    _require_staff_or_finance(principal)
    receipt = await get_receipt(session, principal, fund_id, receipt_id)
    stored = await store_upload(
        session,
        store,
        centre_id=receipt.centre_id,
        uploaded_by=principal.user_id,
        filename=filename,
        content=content,
        max_bytes=max_bytes,
    )
    return await attach_to_receipt(session, principal, fund_id, receipt_id, stored.id)


async def receipt_file(
    session: AsyncSession, principal: Principal, fund_id: int, receipt_id: int
) -> StoredFile:
    receipt = await get_receipt(session, principal, fund_id, receipt_id)
    stored = await money.stored_file(session, receipt.attachment_id) if receipt.attachment_id else None
    if stored is None:
        raise NotFound(_("This receipt has no attachment"))
    return stored


async def funders_of_awards(
    session: AsyncSession,
    principal: Principal,
    awards_by_programme: dict[int, int],
    centre_funder: dict[str, str],
) -> dict[int, list[dict[str, str]]]:
    """360Giving's funding organisations of each award financed by community funds.

    ``awards_by_programme`` maps award id → programme id. An award paid from a programme whose
    budget is the sum of its fundings is funded by those funds; an award that received an
    allocation of its own is funded by that fund, and by the centre as well while the
    allocation covers only part of it. Awards no fund touched are left out (the centre funds
    them alone).
    """
    require_reader(principal)
    prefix = centre_funder["id"]
    direct: dict[int, dict[int, Fund]] = {}
    covered: dict[int, Decimal] = {}
    for allocation, fund in await money.award_fundings(session, list(awards_by_programme)):
        assert allocation.award_id is not None
        direct.setdefault(allocation.award_id, {})[fund.id] = fund
        covered[allocation.award_id] = (
            covered.get(allocation.award_id, ZERO) + allocation.amount - allocation.returned
        )
    by_programme: dict[int, dict[int, Fund]] = {}
    for programme_id in set(awards_by_programme.values()):
        for _allocation, fund in await money.programme_fundings(session, programme_id):
            by_programme.setdefault(programme_id, {})[fund.id] = fund
    answer: dict[int, list[dict[str, str]]] = {}
    for award_id, programme_id in awards_by_programme.items():
        funds_found = {**by_programme.get(programme_id, {}), **direct.get(award_id, {})}
        if not funds_found:
            continue
        funders = [{"id": f"{prefix}-fund-{f.id}", "name": f.name} for f in funds_found.values()]
        if programme_id not in by_programme and award_id in direct:
            amount = await money.award_amount(session, award_id)
            if covered.get(award_id, ZERO) < amount:
                funders.insert(0, dict(centre_funder))
        answer[award_id] = funders
    return answer
