"""Queries of disbursements, scoped to the caller's centre."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.elements import BindParameter

from core.db import utcnow
from core.i18n import N_
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import CentreScopedRepository, Paged, PageParams, Shape
from core.repository.direct import DirectWrite
from core.repository.listing import (
    SortJoins,
    SortOrder,
    all_cut_first,
    contains,
    given,
    like_values,
    paginate_cut_first,
    searched,
)
from grants.awards.models import (
    Award,
    AwardAgreement,
    Tranche,
    TrancheState,
)
from grants.awards.repository import (
    DUE_STATES,
)
from grants.contracts.models import Contract, ContractMilestone, MilestoneState
from grants.disbursements.models import OPEN_DISBURSEMENT_STATES, Disbursement, DisbursementState
from grants.disbursements.payables import DisbursementFacts
from grants.disbursements.schemas import DisbursementOut
from incubator.models import Organisation
from incubator.repository import organisation_named


class DisbursementRepository(CentreScopedRepository[Disbursement]):
    """Staff, finance and admins of the centre see its disbursements; nobody else does."""

    model = Disbursement
    not_found_message = N_("Disbursement not found")

    def select(self) -> Select[Disbursement]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(Disbursement.id.is_(None))
        return statement

    def fresh(self) -> Select[Disbursement]:
        """The scoped statement, reading over what the session holds (``populate_existing``):
        a decision reads the disbursement as it is now."""
        return self.select().execution_options(populate_existing=True)

    def filtered(
        self, state: DisbursementState | None = None, award_id: int | None = None
    ) -> Select[Disbursement]:
        statement = self.select()
        if state is not None:
            statement = statement.where(Disbursement.state == state)
        if award_id is not None:
            statement = statement.where(Disbursement.award_id == award_id)
        return statement.order_by(Disbursement.requested_at.desc(), Disbursement.id.desc())


async def open_disbursement(
    session: AsyncSession, *, award_id: int | None = None, contract_id: int | None = None
) -> Disbursement | None:
    statement = select(Disbursement).where(Disbursement.state.in_(OPEN_DISBURSEMENT_STATES))
    if award_id is not None:
        statement = statement.where(Disbursement.award_id == award_id)
    if contract_id is not None:
        statement = statement.where(Disbursement.contract_id == contract_id)
    return (await session.execute(statement.limit(1))).scalar_one_or_none()


PAYABLE_STATES: dict[type[Any], type[StrEnum]] = {Tranche: TrancheState, ContractMilestone: MilestoneState}


_MOVES: dict[tuple[Any, ...], DirectWrite[Any]] = {}


def _move(
    model: type[Tranche] | type[ContractMilestone], source: str, target: str, names: tuple[str, ...]
) -> DirectWrite[Any]:
    """The compare-and-set UPDATE of a payable from ``source`` to ``target`` that also sets
    ``names``, built once per combination (there are a handful); it returns the id it moved."""
    key = (model, source, target, names)
    statement = _MOVES.get(key)
    if statement is None:
        states = PAYABLE_STATES[model]
        columns = model.__table__.c
        statement = _MOVES[key] = DirectWrite(
            update(model)
            .where(model.id == bindparam("payable_id"), model.state == states(source))
            .values(state=states(target), **{n: bindparam(n, type_=columns[n].type) for n in names})
            .returning(model.id)
        )
    return statement


async def move_payable(
    session: AsyncSession,
    model: type[Tranche] | type[ContractMilestone],
    payable_id: int,
    source: str,
    target: str,
    **values: Any,
) -> bool:
    """Compare-and-set a tranche or milestone from ``source`` to ``target``; false when
    someone moved it first."""
    statement = _move(model, source, target, tuple(sorted(values)))
    moved = await statement.run(session, {"payable_id": payable_id, **values})
    return len(moved) == 1


async def due_tranches(session: AsyncSession, principal: Principal) -> list[tuple[Tranche, Award]]:
    """Tranches waiting for a request or a decision, for the finance and staff queues."""
    statement = (
        select(Tranche, Award).join(Award, Award.id == Tranche.award_id).where(Tranche.state.in_(DUE_STATES))
    )
    if not principal.sees_all_centres:
        statement = statement.where(Award.centre_id == principal.centre_id)
    rows = await session.execute(statement.order_by(Tranche.due_on, Tranche.id).limit(500))
    return [(t, a) for t, a in rows]


DISBURSEMENT_COLUMNS = tuple(
    Disbursement.__table__.c[name] for name in (*DisbursementOut.model_fields, "centre_id")
)
"""What an approval answers (``DisbursementOut``) and what its payable and audit need."""

_APPROVE: DirectWrite[Any] = DirectWrite(
    update(Disbursement)
    .where(
        Disbursement.id == bindparam("disbursement_id"),
        Disbursement.state == DisbursementState.requested,
        Disbursement.requested_by != bindparam("user_id"),
    )
    .values(
        state=DisbursementState.approved,
        approved_by=bindparam("user_id"),
        decided_by_name=bindparam("user_name"),
        decided_at=bindparam("now", type_=Disbursement.__table__.c.decided_at.type),
    )
    .returning(*DISBURSEMENT_COLUMNS)
)


class Approved(DisbursementFacts, Protocol):
    """The row an approval's UPDATE returns (``DISBURSEMENT_COLUMNS``)."""

    @property
    def requested_by(self) -> int: ...
    @property
    def approved_by(self) -> int | None: ...
    @property
    def decided_at(self) -> dt.datetime | None: ...


async def approve(
    session: AsyncSession, disbursement_id: int, user_id: int, user_name: str
) -> Approved | None:
    """Requested → approved, never by the one who requested it (maker-checker in the WHERE):
    the approved disbursement's ``DISBURSEMENT_COLUMNS`` as the UPDATE returned them, or None
    when nothing moved. The statement is built once and sent with the driver's call."""
    approved: Approved | None = await _APPROVE.first(
        session,
        {"disbursement_id": disbursement_id, "user_id": user_id, "user_name": user_name, "now": utcnow()},
    )
    return approved


async def decision_facts(session: AsyncSession, principal: Principal, disbursement_id: int) -> Any:
    """Who requested the disbursement and its state, within the caller's scope (else
    ``NotFound``), read as columns: what a decision checks before it moves anything."""
    return await DisbursementRepository(session, principal).row_of(
        disbursement_id, "decision", Disbursement.id, Disbursement.requested_by, Disbursement.state
    )


async def reject(
    session: AsyncSession, disbursement_id: int, user_id: int, user_name: str, reason: str
) -> bool:
    """Requested → rejected, never by the one who requested it."""
    moved = await session.execute(
        update(Disbursement)
        .where(
            Disbursement.id == disbursement_id,
            Disbursement.state == DisbursementState.requested,
            Disbursement.requested_by != user_id,
        )
        .values(
            state=DisbursementState.rejected,
            rejected_by=user_id,
            decided_by_name=user_name,
            decided_at=utcnow(),
            reject_reason=reason,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


async def mark_paid(
    session: AsyncSession,
    disbursement_id: int,
    *,
    voucher_no: str,
    paid_on: dt.date,
    amount: Decimal,
    paid_by: int,
) -> bool:
    """Approved → paid with its voucher; a voucher number already recorded raises IntegrityError."""
    moved = await session.execute(
        update(Disbursement)
        .where(Disbursement.id == disbursement_id, Disbursement.state == DisbursementState.approved)
        .values(
            state=DisbursementState.paid,
            voucher_no=voucher_no,
            paid_on=paid_on,
            paid_amount=amount,
            paid_by=paid_by,
            paid_recorded_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


async def add_paid(
    session: AsyncSession, holder: type[Award] | type[Contract], holder_id: int, amount: Decimal
) -> bool:
    """``paid += amount`` on an award or contract only while it stays within its amount:
    false when it would exceed it (the ``paid_within_amount`` CHECK stands behind)."""
    grown = await session.execute(
        update(holder)
        .where(holder.id == holder_id, holder.paid + amount <= holder.amount)
        .values(paid=holder.paid + amount)
        .execution_options(synchronize_session=False)
    )
    return bool(grown.rowcount == 1)  # type: ignore[attr-defined]


async def open_contract_disbursement(session: AsyncSession, contract_id: int) -> Disbursement | None:
    return (
        await session.execute(
            select(Disbursement)
            .where(Disbursement.contract_id == contract_id, Disbursement.state.in_(OPEN_DISBURSEMENT_STATES))
            .limit(1)
        )
    ).scalar_one_or_none()


async def paid_for_contracts(session: AsyncSession, contract_ids: Sequence[int]) -> Sequence[Disbursement]:
    """The paid disbursements of the given contracts, in order of payment."""
    rows = await session.execute(
        select(Disbursement)
        .where(Disbursement.contract_id.in_(contract_ids), Disbursement.state == DisbursementState.paid)
        .order_by(Disbursement.paid_on, Disbursement.id)
    )
    return rows.scalars().all()


async def payment_names(
    session: AsyncSession, org_ids: set[int], award_ids: set[int], contract_ids: set[int]
) -> tuple[dict[int, str], dict[int, str], dict[int, str], dict[int, int]]:
    """Names of payees, titles of awards and contracts, and tranche seqs of the awards, by id."""
    orgs = dict(
        (
            await session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids))
            )
        ).all()
    )
    awards = dict((await session.execute(select(Award.id, Award.title).where(Award.id.in_(award_ids)))).all())
    contracts = dict(
        (
            await session.execute(select(Contract.id, Contract.title).where(Contract.id.in_(contract_ids)))
        ).all()
    )
    seqs = dict(
        (await session.execute(select(Tranche.id, Tranche.seq).where(Tranche.award_id.in_(award_ids)))).all()
    )
    return orgs, awards, contracts, seqs


async def paid_for_award(session: AsyncSession, award_id: int) -> Sequence[Disbursement]:
    """The payments made on one award, oldest first."""
    statement = (
        select(Disbursement)
        .where(Disbursement.award_id == award_id, Disbursement.state == DisbursementState.paid)
        .order_by(Disbursement.paid_on, Disbursement.id)
    )
    return (await session.execute(statement)).scalars().all()


async def payment_context(
    session: AsyncSession, disbursements: Sequence[Disbursement]
) -> tuple[
    dict[int, Organisation],
    dict[int, Award],
    dict[int, int],
    dict[int, Contract],
    dict[int, tuple[int, int]],
    dict[int, int | None],
]:
    """What finance sees beside each disbursement, in one query per kind: payees, awards,
    tranche counts per award, contracts, milestone (number, count), agreement documents."""
    org_ids = {d.payee_organisation_id for d in disbursements}
    award_ids = {d.award_id for d in disbursements if d.award_id is not None}
    contract_ids = {d.contract_id for d in disbursements if d.contract_id is not None}
    milestone_ids = {d.milestone_id for d in disbursements if d.milestone_id is not None}
    organisations = {
        o.id: o
        for o in (await session.execute(select(Organisation).where(Organisation.id.in_(org_ids)))).scalars()
    }
    awards = {
        a.id: a
        for a in (
            await session.execute(
                select(Award).where(Award.id.in_(award_ids)).options(selectinload(Award.tranches))
            )
        ).scalars()
    }
    tranche_counts = {a.id: len(a.tranches) for a in awards.values()}
    contracts = {
        c.id: c
        for c in (await session.execute(select(Contract).where(Contract.id.in_(contract_ids)))).scalars()
    }
    milestone_rows = (
        await session.execute(
            select(ContractMilestone.id, ContractMilestone.seq, ContractMilestone.contract_id).where(
                ContractMilestone.id.in_(milestone_ids)
            )
        )
    ).all()
    counts = dict(
        (
            await session.execute(
                select(ContractMilestone.contract_id, func.count())
                .where(ContractMilestone.contract_id.in_(contract_ids))
                .group_by(ContractMilestone.contract_id)
            )
        ).all()
    )
    milestones = {row.id: (row.seq, int(counts.get(row.contract_id, 0))) for row in milestone_rows}
    agreements = dict(
        (
            await session.execute(
                select(AwardAgreement.award_id, AwardAgreement.document_id).where(
                    AwardAgreement.award_id.in_(award_ids)
                )
            )
        ).all()
    )
    return organisations, awards, tranche_counts, contracts, milestones, agreements


# --- the disbursements list: filters, whitelisted sort keys, rows with their names ------


@dataclass(frozen=True)
class DisbursementListFilters:
    q: str | None = None
    centre_id: int | None = None
    state: DisbursementState | None = None
    kind: str | None = None  # "award" or "contract"
    payee: str | None = None
    programme_id: int | None = None
    requested_from: dt.datetime | None = None
    requested_before: dt.datetime | None = None
    paid_from: dt.date | None = None
    paid_to: dt.date | None = None

    def bound(self) -> dict[str, Any]:
        """The given filters' values, by the name ``disbursement_ids`` binds each under (the
        search's pattern and number, ``listing.searched``; the payee's pattern). The kind
        binds nothing: ``kind_award`` or ``kind_contract`` names the clause it chooses."""
        kind = {f"kind_{self.kind}": True} if self.kind in ("award", "contract") else {}
        return (
            given(
                centre_id=self.centre_id,
                state=self.state,
                programme_id=self.programme_id,
                requested_from=self.requested_from,
                requested_before=self.requested_before,
                paid_from=self.paid_from,
                paid_to=self.paid_to,
            )
            | searched(self.q)
            | like_values(payee=self.payee)
            | kind
        )


DISBURSEMENT_SORTS: dict[str, Any] = {
    "number": Disbursement.id,
    "requested": Disbursement.requested_at,
    "payee": Organisation.name,
    "subject": func.coalesce(Award.title, Contract.title),
    "amount": Disbursement.amount,
    "state": Disbursement.state,
    "paid_on": Disbursement.paid_on,
    "voucher": Disbursement.voucher_no,
}


DISBURSEMENT_SORT_JOINS: SortJoins = {
    "payee": [(Organisation, Organisation.id == Disbursement.payee_organisation_id)],
    "subject": [
        (Award, Award.id == Disbursement.award_id),
        (Contract, Contract.id == Disbursement.contract_id),
    ],
}


def disbursement_ids(repository: DisbursementRepository, shape: Shape) -> Select[Any]:
    """The ids of the disbursements the caller may see that match the filters ``shape``
    names, each a bound parameter (``DisbursementListFilters.bound``), on the disbursements
    table alone (the names are joined to a cut page: ``cut_before_naming``)."""
    statement = repository.select().with_only_columns(Disbursement.id, maintain_column_froms=True)
    if "centre_id" in shape:
        statement = statement.where(Disbursement.centre_id == bindparam("centre_id"))
    if "q" in shape:
        q: BindParameter[str] = bindparam("q")
        matches = [
            organisation_named(Disbursement.payee_organisation_id, q),
            Disbursement.award_id.in_(select(Award.id).where(contains(Award.title, q))),
            Disbursement.contract_id.in_(select(Contract.id).where(contains(Contract.title, q))),
            contains(Disbursement.voucher_no, q),
        ]
        if "q_number" in shape:
            matches.append(Disbursement.id == bindparam("q_number"))
        statement = statement.where(or_(*matches))
    if "state" in shape:
        statement = statement.where(Disbursement.state == bindparam("state"))
    if "kind_award" in shape:
        statement = statement.where(Disbursement.award_id.is_not(None))
    elif "kind_contract" in shape:
        statement = statement.where(Disbursement.contract_id.is_not(None))
    if "payee" in shape:
        statement = statement.where(
            organisation_named(Disbursement.payee_organisation_id, bindparam("payee"))
        )
    if "programme_id" in shape:
        programme = select(Award.id).where(Award.programme_id == bindparam("programme_id"))
        statement = statement.where(Disbursement.award_id.in_(programme))
    if "requested_from" in shape:
        statement = statement.where(Disbursement.requested_at >= bindparam("requested_from"))
    if "requested_before" in shape:
        statement = statement.where(Disbursement.requested_at < bindparam("requested_before"))
    if "paid_from" in shape:
        statement = statement.where(Disbursement.paid_on >= bindparam("paid_from"))
    if "paid_to" in shape:
        statement = statement.where(Disbursement.paid_on <= bindparam("paid_to"))
    return statement


NAMED = (
    select(Disbursement, Organisation.name, func.coalesce(Award.title, Contract.title), Tranche.seq)
    .join(Organisation, Organisation.id == Disbursement.payee_organisation_id)
    .outerjoin(Award, Award.id == Disbursement.award_id)
    .outerjoin(Contract, Contract.id == Disbursement.contract_id)
    .outerjoin(Tranche, Tranche.id == Disbursement.tranche_id)
)
"""(disbursement, payee name, project or contract title, tranche number): a list's row."""


async def list_disbursement_rows(
    repository: DisbursementRepository, filters: DisbursementListFilters, order: SortOrder, page: PageParams
) -> Paged[Any]:
    return await paginate_cut_first(
        repository, "disbursements", lambda: NAMED, lambda shape: disbursement_ids(repository, shape),
        filters.bound(), Disbursement.id, DISBURSEMENT_SORTS, order, page, DISBURSEMENT_SORT_JOINS,
    )  # fmt: skip


async def export_disbursement_rows(
    repository: DisbursementRepository, filters: DisbursementListFilters, order: SortOrder, limit: int
) -> Sequence[tuple[Any, ...]]:
    return await all_cut_first(
        repository.session, NAMED, lambda shape: disbursement_ids(repository, shape), filters.bound(),
        Disbursement.id, DISBURSEMENT_SORTS, order, limit, DISBURSEMENT_SORT_JOINS,
    )  # fmt: skip
