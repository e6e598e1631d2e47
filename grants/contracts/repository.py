"""Every query of purchased-service contracts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.identity.models import Role
from core.repository import CentreScopedRepository, Paged, PageParams, Shape
from core.repository.listing import (
    CHOICES,
    SortJoins,
    SortOrder,
    chosen_first,
    contains,
    given,
    like_values,
    paginate_cut_first,
    searched,
)
from grants.contracts.models import Contract, ContractState, ProcurementMethod
from grants.programmes.repository import matches_text
from incubator.models import Organisation
from incubator.repository import organisation_named


class ContractRepository(CentreScopedRepository[Contract]):
    """Contracts are the centre's business: staff, finance and admins see them."""

    model = Contract
    not_found_message = N_("Contract not found")

    def select(self) -> Select[Contract]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(Contract.id.is_(None))
        return statement

    def full(self) -> Select[Contract]:
        return self.select().options(
            selectinload(Contract.indicators),
            selectinload(Contract.milestones),
            selectinload(Contract.events),
        )

    def filtered(self, state: ContractState | None = None) -> Select[Contract]:
        statement = self.select()
        if state is not None:
            statement = statement.where(Contract.state == state)
        return statement.order_by(Contract.id.desc())


# --- unscoped reads for report builders (the caller has checked the centre) ---------------


async def contract_with_terms(session: AsyncSession, contract_id: int) -> Contract | None:
    """A contract with its indicators and milestones."""
    statement = (
        select(Contract)
        .options(selectinload(Contract.indicators), selectinload(Contract.milestones))
        .where(Contract.id == contract_id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def contract_centre(session: AsyncSession, contract_id: int) -> int | None:
    contract = await session.get(Contract, contract_id)
    return contract.centre_id if contract is not None else None


async def contracts_of_centre(
    session: AsyncSession, centre_id: int, q: str = "", chosen: Collection[int] = (), limit: int = CHOICES
) -> list[tuple[int, str]]:
    """For choosing a report's subject: (id, title) of the centre's contracts matching ``q``
    (title or number), the chosen ones first, at most ``limit`` more."""
    statement = select(Contract.id, Contract.title).where(Contract.centre_id == centre_id)
    rows = await session.execute(chosen_first(statement, Contract.id, [Contract.title], q, chosen, limit))
    return [(contract_id, title) for contract_id, title in rows]


# --- the contracts list: filters, whitelisted sort keys, rows with the provider's name ----


@dataclass(frozen=True)
class ContractListFilters:
    q: str | None = None
    centre_id: int | None = None
    state: ContractState | None = None
    provider: str | None = None
    purchaser: str | None = None
    category: str | None = None
    procurement_method: ProcurementMethod | None = None
    in_service_from: dt.date | None = None
    in_service_to: dt.date | None = None

    def bound(self) -> dict[str, Any]:
        """The given filters' values, by the name ``contract_ids`` binds each under (a text
        filter's is its LIKE pattern; the search's, ``listing.searched``)."""
        return (
            given(
                centre_id=self.centre_id,
                state=self.state,
                procurement_method=self.procurement_method,
                in_service_from=self.in_service_from,
                in_service_to=self.in_service_to,
            )
            | searched(self.q)
            | like_values(provider=self.provider, purchaser=self.purchaser, category=self.category)
        )


CONTRACT_SORTS: dict[str, Any] = {
    "number": Contract.id,
    "title": Contract.title,
    "purchaser": Contract.purchaser,
    "provider": Organisation.name,
    "method": Contract.procurement_method,
    "starts": Contract.starts_on,
    "ends": Contract.ends_on,
    "state": Contract.state,
    "amount": Contract.amount,
    "paid": Contract.paid,
}


CONTRACT_SORT_JOINS: SortJoins = {"provider": [(Organisation, Organisation.id == Contract.provider_id)]}


def contract_ids(repository: ContractRepository, shape: Shape) -> Select[Any]:
    """The ids of the contracts the caller may see that match the filters ``shape`` names,
    each a bound parameter (``ContractListFilters.bound``), on the contracts table alone
    (the provider's name is joined to a cut page: ``cut_before_naming``)."""
    statement = repository.select().with_only_columns(Contract.id, maintain_column_froms=True)
    if "centre_id" in shape:
        statement = statement.where(Contract.centre_id == bindparam("centre_id"))
    if "q" in shape:
        statement = statement.where(matches_text(Contract, shape, Contract.provider_id))
    if "state" in shape:
        statement = statement.where(Contract.state == bindparam("state"))
    if "provider" in shape:
        statement = statement.where(organisation_named(Contract.provider_id, bindparam("provider")))
    if "purchaser" in shape:
        statement = statement.where(contains(Contract.purchaser, bindparam("purchaser")))
    if "category" in shape:
        statement = statement.where(contains(Contract.service_category, bindparam("category")))
    if "procurement_method" in shape:
        statement = statement.where(Contract.procurement_method == bindparam("procurement_method"))
    # In service at some time in [from, to]: the term overlaps the period.
    if "in_service_from" in shape:
        statement = statement.where(Contract.ends_on >= bindparam("in_service_from"))
    if "in_service_to" in shape:
        statement = statement.where(Contract.starts_on <= bindparam("in_service_to"))
    return statement


def _named_contracts() -> Select[*tuple[Any, ...]]:
    return select(Contract, Organisation.name).join(Organisation, Organisation.id == Contract.provider_id)


async def list_contract_rows(
    repository: ContractRepository, filters: ContractListFilters, order: SortOrder, page: PageParams
) -> Paged[Any]:
    return await paginate_cut_first(
        repository, "contracts", _named_contracts, lambda shape: contract_ids(repository, shape),
        filters.bound(), Contract.id, CONTRACT_SORTS, order, page, CONTRACT_SORT_JOINS,
    )  # fmt: skip


async def contract_titles(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Contracts' titles by id (for feeds and timelines)."""
    if not ids:
        return {}
    rows = await session.execute(select(Contract.id, Contract.title).where(Contract.id.in_(ids)))
    return {row_id: str(value) for row_id, value in rows}
