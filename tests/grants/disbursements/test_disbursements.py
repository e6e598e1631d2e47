"""Disbursements: maker-checker, the tranche paid once, the award never overspent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.identity.models import Role
from grants.awards import execution
from grants.awards import service as awards
from grants.awards.models import Award, TrancheState
from grants.awards.schemas import SignIn
from grants.disbursements import service as disbursements
from grants.disbursements.models import Disbursement, DisbursementState
from grants.disbursements.schemas import DisbursementCreate, PayIn
from tests.factories import make_centre, make_user
from tests.grants.factories import Cast, make_award, make_cast


async def _due_award(session: AsyncSession, cast: Cast, amount: str = "33333.33") -> Award:
    award = await make_award(session, cast, amount=Decimal(amount))
    return await awards.sign_award(session, cast.staff.principal, award.id, SignIn(signed_on=today()))


async def test_request_approve_pay(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await _due_award(session, cast)
    first = award.tranches[0]
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=first.id)
    )
    assert (d.state, d.amount) == (DisbursementState.requested, Decimal("16666.66"))
    approved = await disbursements.approve(session, cast.finance.principal, d.id)
    assert (approved.state, approved.approved_by) == (DisbursementState.approved, cast.finance.user.id)
    with pytest.raises(ValidationFailed) as wrong:
        await disbursements.pay(
            session,
            cast.finance.principal,
            d.id,
            PayIn(voucher_no="记-001", paid_on=today(), amount=Decimal("16666.67")),
        )
    assert wrong.value.details[0].field == "amount"
    d = await disbursements.pay(
        session,
        cast.finance.principal,
        d.id,
        PayIn(voucher_no="记-001", paid_on=today(), amount=Decimal("16666.66")),
    )
    assert (d.state, d.voucher_no, d.paid_on) == (DisbursementState.paid, "记-001", today())
    award = await awards.get_award(session, cast.staff.principal, award.id)
    assert award.paid == Decimal("16666.66")
    assert award.tranches[0].state is TrancheState.paid
    with pytest.raises(Conflict):
        await disbursements.pay(
            session,
            cast.finance.principal,
            d.id,
            PayIn(voucher_no="记-002", paid_on=today(), amount=d.amount),
        )
    with pytest.raises(Conflict):
        await disbursements.request_disbursement(
            session, cast.staff.principal, DisbursementCreate(tranche_id=first.id)
        )


async def test_maker_checker_even_with_both_roles(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await _due_award(session, cast)
    d = await disbursements.request_disbursement(
        session, cast.both.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
    )
    allowed, reason = disbursements.can_decide(cast.both.principal, d)
    assert not allowed
    with pytest.raises(Forbidden, match=reason):
        await disbursements.approve(session, cast.both.principal, d.id)
    with pytest.raises(Forbidden):
        await disbursements.reject(session, cast.both.principal, d.id, "自己驳回")
    d = await disbursements.get_disbursement(session, cast.staff.principal, d.id)
    assert d.state is DisbursementState.requested
    approved = await disbursements.approve(session, cast.finance.principal, d.id)
    assert approved.state is DisbursementState.approved


async def test_maker_checker_is_a_database_check(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await _due_award(session, cast)
    d = await disbursements.request_disbursement(
        session, cast.both.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
    )
    with pytest.raises(IntegrityError, match="maker_checker"):
        async with session.begin_nested():
            await session.execute(
                update(Disbursement)
                .where(Disbursement.id == d.id)
                .values(approved_by=cast.both.user.id, state=DisbursementState.approved)
            )


async def test_one_live_request_per_tranche_is_a_database_constraint(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await _due_award(session, cast)
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
    )
    duplicate = Disbursement(
        centre_id=d.centre_id,
        award_id=d.award_id,
        tranche_id=d.tranche_id,
        payee_organisation_id=d.payee_organisation_id,
        amount=d.amount,
        requested_by=cast.staff.user.id,
        requested_by_name="x",
    )

    async def insert() -> None:
        async with session.begin_nested():
            session.add(duplicate)
            await session.flush()

    with pytest.raises(IntegrityError):
        await insert()


async def test_reject_makes_the_tranche_due_again(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await _due_award(session, cast)
    tranche_id = award.tranches[0].id
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=tranche_id)
    )
    rejected = await disbursements.reject(session, cast.finance.principal, d.id, "收款账户信息有误")
    assert (rejected.state, rejected.reject_reason) == (DisbursementState.rejected, "收款账户信息有误")
    award = await awards.get_award(session, cast.staff.principal, award.id)
    assert award.tranches[0].state is TrancheState.due
    again = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=tranche_id)
    )
    assert again.id != d.id
    with pytest.raises(Conflict):
        await disbursements.approve(session, cast.finance.principal, d.id)


async def test_planned_tranche_cannot_be_requested(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await _due_award(session, cast)
    with pytest.raises(Conflict, match="中期评估"):
        await disbursements.request_disbursement(
            session, cast.staff.principal, DisbursementCreate(tranche_id=award.tranches[1].id)
        )


async def test_roles_and_centres(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await _due_award(session, cast)
    with pytest.raises(Forbidden):
        await disbursements.request_disbursement(
            session, cast.finance.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
        )
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
    )
    with pytest.raises(Forbidden):
        await disbursements.approve(session, cast.staff.principal, d.id)
    other_finance = await make_user(session, await make_centre(session), Role.finance)
    with pytest.raises(NotFound):
        await disbursements.approve(session, other_finance.principal, d.id)
    with pytest.raises(NotFound):
        await disbursements.get_disbursement(session, cast.grantee.principal, d.id)


async def test_duplicate_voucher_is_refused(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await _due_award(session, cast)
    first = await make_award(session, cast, title="第二个项目")
    await awards.sign_award(session, cast.staff.principal, first.id, SignIn(signed_on=today()))
    ids = []
    for a in (award, first):
        d = await disbursements.request_disbursement(
            session, cast.staff.principal, DisbursementCreate(tranche_id=a.tranches[0].id)
        )
        await disbursements.approve(session, cast.finance.principal, d.id)
        ids.append(d)
    await disbursements.pay(
        session,
        cast.finance.principal,
        ids[0].id,
        PayIn(voucher_no="记-9", paid_on=today(), amount=ids[0].amount),
    )
    with pytest.raises(ValidationFailed):
        async with session.begin_nested():
            await disbursements.pay(
                session,
                cast.finance.principal,
                ids[1].id,
                PayIn(voucher_no="记-9", paid_on=today(), amount=ids[1].amount),
            )


async def test_budget_execution_per_programme_and_category(session: AsyncSession) -> None:
    cast = await make_cast(session)
    award = await _due_award(session, cast, "100000.00")
    await make_award(session, cast, amount=Decimal("20000.00"), title="未签约项目")
    d = await disbursements.request_disbursement(
        session, cast.staff.principal, DisbursementCreate(tranche_id=award.tranches[0].id)
    )
    await disbursements.approve(session, cast.finance.principal, d.id)
    await disbursements.pay(
        session, cast.finance.principal, d.id, PayIn(voucher_no="记-1", paid_on=today(), amount=d.amount)
    )
    rows = await execution.execution_rows(session, cast.staff.principal)
    mine = [r for r in rows if r.programme_id == award.programme_id]
    programme_row, category_row = mine
    assert programme_row.category is None
    assert programme_row.execution.granted == Decimal("100000.00")
    assert programme_row.execution.paid == Decimal("50000.00")
    assert programme_row.execution.due == Decimal("0.00")
    assert category_row.category == "为老服务"
    assert category_row.execution.paid == Decimal("50000.00")
