"""Queries of awards and what hangs off them (reports, claims, spending, execution sums)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, func, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.db import Money, utcnow
from core.files import StoredFile
from core.i18n import N_
from core.identity.models import Role
from core.identity.principal import Principal
from core.repository import CentreScopedRepository, Paged, PageParams, Shape
from core.repository.listing import (
    CHOICES,
    SortJoins,
    SortOrder,
    all_cut_first,
    chosen_first,
    given,
    paginate_cut_first,
)
from grants.awards.models import (
    Award,
    AwardDocument,
    AwardEvaluation,
    AwardEvent,
    AwardState,
    Clawback,
    ExpenseClaim,
    ProgressReport,
    Rectification,
    RectificationState,
    ReviewState,
    Tranche,
    TrancheState,
)
from grants.programmes.models import (
    Programme,
    ProgrammeCategory,
)
from grants.programmes.repository import ProgrammeRecordFilters, filter_programme_records
from incubator.models import Organisation


class AwardRepository(CentreScopedRepository[Award]):
    model = Award
    not_found_message = N_("Award not found")

    def __init__(self, session: object, principal: object, member_org_ids: list[int] | None = None) -> None:
        super().__init__(session, principal)  # type: ignore[arg-type]
        self.member_org_ids = member_org_ids

    def select(self) -> Select[Award]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            statement = statement.where(Award.organisation_id.in_(self.member_org_ids or []))
        return statement

    def full(self) -> Select[Award]:
        return self.select().options(selectinload(Award.tranches))


DUE_STATES = (TrancheState.due, TrancheState.requested, TrancheState.approved)


def money_sum(column: Any) -> Any:
    return type_coerce(func.coalesce(func.sum(column), 0), Money())


async def lock_award(session: AsyncSession, award_id: int) -> None:
    """Hold the award's row until the transaction ends (PostgreSQL; SQLite has one writer), so
    that two approvals of spending on one award are decided one after the other."""
    await session.execute(select(Award.id).where(Award.id == award_id).with_for_update())


async def spent_on_award(session: AsyncSession, award_id: int) -> Decimal:
    value = (
        await session.execute(
            select(money_sum(ExpenseClaim.amount)).where(
                ExpenseClaim.award_id == award_id, ExpenseClaim.state == ReviewState.approved
            )
        )
    ).scalar_one()
    return Decimal(value)


async def execution_by(session: AsyncSession, group: Any, award_filter: Any) -> dict[Any, dict[str, Decimal]]:
    """Granted, due, paid, spent and returned summed per value of ``group`` (an Award column)."""
    result: dict[Any, dict[str, Decimal]] = {}

    def row(key: Any) -> dict[str, Decimal]:
        return result.setdefault(
            key, {k: Decimal("0.00") for k in ("granted", "due", "paid", "spent", "returned")}
        )

    granted = await session.execute(
        select(group, money_sum(Award.amount), money_sum(Award.paid)).where(award_filter).group_by(group)
    )
    for key, amount, paid in granted:
        row(key)["granted"] = amount
        row(key)["paid"] = paid
    due = await session.execute(
        select(group, money_sum(Tranche.amount))
        .join(Award, Award.id == Tranche.award_id)
        .where(award_filter, Tranche.state.in_(DUE_STATES))
        .group_by(group)
    )
    for key, amount in due:
        row(key)["due"] = amount
    spent = await session.execute(
        select(group, money_sum(ExpenseClaim.amount))
        .join(Award, Award.id == ExpenseClaim.award_id)
        .where(award_filter, ExpenseClaim.state == ReviewState.approved)
        .group_by(group)
    )
    for key, amount in spent:
        row(key)["spent"] = amount
    returned = await session.execute(
        select(group, money_sum(Clawback.amount))
        .join(Award, Award.id == Clawback.award_id)
        .where(award_filter)
        .group_by(group)
    )
    for key, amount in returned:
        row(key)["returned"] = amount
    return result


async def passed_purposes(session: AsyncSession, award_id: int) -> list[Any]:
    """The purposes of the award's evaluations that passed."""
    rows = await session.execute(
        select(AwardEvaluation.purpose).where(
            AwardEvaluation.award_id == award_id, AwardEvaluation.passed.is_(True)
        )
    )
    return list(rows.scalars())


async def completed_projects(session: AsyncSession, organisation_id: int) -> int:
    """How many awards of an organisation were completed (the incubator's graduation check)."""
    result = await session.execute(
        select(func.count())
        .select_from(Award)
        .where(Award.organisation_id == organisation_id, Award.state == "completed")
    )
    return int(result.scalar_one())


async def awarded_grants(
    session: AsyncSession, principal: Principal
) -> Sequence[tuple[Award, Organisation, Programme]]:
    statement = (
        select(Award, Organisation, Programme)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .join(Programme, Programme.id == Award.programme_id)
        .order_by(Award.id)
    )
    if not principal.sees_all_centres:
        statement = statement.where(Award.centre_id == principal.centre_id)
    return [(a, o, p) for a, o, p in (await session.execute(statement)).all()]


async def close_rectifications(session: AsyncSession, award_id: int, state: RectificationState) -> None:
    await session.execute(
        update(Rectification)
        .where(Rectification.award_id == award_id, Rectification.state == RectificationState.open)
        .values(state=state, closed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def open_rectification(session: AsyncSession, award_id: int) -> Rectification | None:
    return (
        await session.execute(
            select(Rectification)
            .where(Rectification.award_id == award_id, Rectification.state == RectificationState.open)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def award_id_for_application(session: AsyncSession, application_id: int) -> int | None:
    return (
        await session.execute(select(Award.id).where(Award.application_id == application_id))
    ).scalar_one_or_none()


async def evaluations_of(session: AsyncSession, award_id: int) -> Sequence[AwardEvaluation]:
    return (
        (
            await session.execute(
                select(AwardEvaluation)
                .where(AwardEvaluation.award_id == award_id)
                .order_by(AwardEvaluation.id)
            )
        )
        .scalars()
        .all()
    )


async def rectifications_of(session: AsyncSession, award_id: int) -> Sequence[Rectification]:
    return (
        (
            await session.execute(
                select(Rectification).where(Rectification.award_id == award_id).order_by(Rectification.id)
            )
        )
        .scalars()
        .all()
    )


async def clawback_of(session: AsyncSession, award_id: int) -> Clawback | None:
    return (await session.execute(select(Clawback).where(Clawback.award_id == award_id))).scalar_one_or_none()


async def events_of(session: AsyncSession, award_id: int) -> Sequence[AwardEvent]:
    return (
        (
            await session.execute(
                select(AwardEvent).where(AwardEvent.award_id == award_id).order_by(AwardEvent.id)
            )
        )
        .scalars()
        .all()
    )


async def document_of(session: AsyncSession, award_id: int, document_id: int) -> AwardDocument | None:
    return (
        await session.execute(
            select(AwardDocument).where(AwardDocument.id == document_id, AwardDocument.award_id == award_id)
        )
    ).scalar_one_or_none()


async def documents_of(session: AsyncSession, award_id: int) -> list[tuple[AwardDocument, StoredFile]]:
    rows = await session.execute(
        select(AwardDocument, StoredFile)
        .join(StoredFile, StoredFile.id == AwardDocument.file_id)
        .where(AwardDocument.award_id == award_id)
        .order_by(AwardDocument.id)
    )
    return [(d, f) for d, f in rows]


async def document_with_file(
    session: AsyncSession, award_id: int, document_id: int
) -> tuple[AwardDocument, StoredFile] | None:
    row = (
        await session.execute(
            select(AwardDocument, StoredFile)
            .join(StoredFile, StoredFile.id == AwardDocument.file_id)
            .where(AwardDocument.id == document_id, AwardDocument.award_id == award_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


Reviewed = TypeVar("Reviewed", ProgressReport, ExpenseClaim)
REVIEWED_PARTS: dict[type[Any], Any] = {
    ProgressReport: ProgressReport.actuals,
    ExpenseClaim: ExpenseClaim.receipts,
}


async def reviewed_of(session: AsyncSession, model: type[Reviewed], award_id: int) -> Sequence[Reviewed]:
    """An award's progress reports (with actuals) or expense claims (with receipts), oldest first."""
    rows = await session.execute(
        select(model)
        .where(model.award_id == award_id)
        .options(selectinload(REVIEWED_PARTS[model]))
        .order_by(model.id)
    )
    return rows.scalars().all()


async def reviewed_one(
    session: AsyncSession, model: type[Reviewed], award_id: int, item_id: int
) -> Reviewed | None:
    """The award's report or claim with its parts, re-read (populate_existing)."""
    return (
        await session.execute(
            select(model)
            .where(model.id == item_id, model.award_id == award_id)
            .options(selectinload(REVIEWED_PARTS[model]))
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def move_review(
    session: AsyncSession,
    model: type[ProgressReport] | type[ExpenseClaim],
    item_id: int,
    source: ReviewState,
    target: ReviewState,
    **values: Any,
) -> bool:
    """Compare-and-set a report or claim from ``source`` to ``target`` (with ``values``);
    false when its state had already moved."""
    moved = await session.execute(
        update(model)
        .where(model.id == item_id, model.state == source)
        .values(state=target, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


async def award_for_review(session: AsyncSession, centre_id: int, award_id: int) -> Award | None:
    """One award of a centre with its tranches, for the evaluator assigned to it (no role filter)."""
    statement = (
        select(Award)
        .where(Award.id == award_id, Award.centre_id == centre_id)
        .options(selectinload(Award.tranches))
    )
    return (await session.execute(statement)).scalar_one_or_none()


# --- unscoped reads for report builders (the caller has checked the centre) ---------------


async def award_with_tranches(session: AsyncSession, award_id: int) -> Award | None:
    statement = select(Award).options(selectinload(Award.tranches)).where(Award.id == award_id)
    return (await session.execute(statement)).scalar_one_or_none()


async def award_centre(session: AsyncSession, award_id: int) -> int | None:
    award = await session.get(Award, award_id)
    return award.centre_id if award is not None else None


async def award_organisation(session: AsyncSession, award_id: int) -> int | None:
    award = await session.get(Award, award_id)
    return award.organisation_id if award is not None else None


async def approved_reports_of(session: AsyncSession, award_id: int) -> Sequence[ProgressReport]:
    """Approved progress reports with their indicator actuals, oldest first."""
    statement = (
        select(ProgressReport)
        .options(selectinload(ProgressReport.actuals))
        .where(ProgressReport.award_id == award_id, ProgressReport.state == ReviewState.approved)
        .order_by(ProgressReport.submitted_at, ProgressReport.id)
    )
    return (await session.execute(statement)).scalars().all()


async def awards_with_organisations(
    session: AsyncSession, programme_id: int
) -> Sequence[tuple[Award, Organisation]]:
    """A programme's awards with their organisations and tranches."""
    statement = (
        select(Award, Organisation)
        .options(selectinload(Award.tranches))
        .join(Organisation, Organisation.id == Award.organisation_id)
        .where(Award.programme_id == programme_id)
        .order_by(Award.id)
    )
    return [(a, o) for a, o in (await session.execute(statement)).all()]


async def awards_with_programmes(
    session: AsyncSession, organisation_id: int
) -> Sequence[tuple[Award, Programme]]:
    """An organisation's awards with their programmes, oldest first."""
    statement = (
        select(Award, Programme)
        .join(Programme, Programme.id == Award.programme_id)
        .where(Award.organisation_id == organisation_id)
        .order_by(Award.awarded_on, Award.id)
    )
    return [(a, p) for a, p in (await session.execute(statement)).all()]


async def awards_of_centre(
    session: AsyncSession, centre_id: int, q: str = "", chosen: Collection[int] = (), limit: int = CHOICES
) -> list[tuple[int, str]]:
    """For choosing a report's subject: (id, "title · organisation") of the centre's awards
    matching ``q`` (title, organisation or number), the chosen ones first, at most ``limit`` more."""
    statement = (
        select(Award.id, Award.title, Organisation.name)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .where(Award.centre_id == centre_id)
    )
    rows = await session.execute(
        chosen_first(statement, Award.id, [Award.title, Organisation.name], q, chosen, limit)
    )
    return [(award_id, f"{title} · {name}") for award_id, title, name in rows]


# --- the projects list: filters, whitelisted sort keys, rows with their names -----------


@dataclass(frozen=True)
class AwardListFilters(ProgrammeRecordFilters):
    state: AwardState | None = None
    signed_from: dt.date | None = None
    signed_to: dt.date | None = None

    def bound(self) -> dict[str, Any]:
        return super().bound() | given(signed_from=self.signed_from, signed_to=self.signed_to)


AWARD_SORTS: dict[str, Any] = {
    "number": Award.id,
    "title": Award.title,
    "organisation": Organisation.name,
    "programme": Programme.name,
    "category": ProgrammeCategory.name,
    "state": Award.state,
    "signed": Award.signed_on,
    "awarded": Award.awarded_on,
    "amount": Award.amount,
    "paid": Award.paid,
}


AWARD_SORT_JOINS: SortJoins = {
    "organisation": [(Organisation, Organisation.id == Award.organisation_id)],
    "programme": [(Programme, Programme.id == Award.programme_id)],
    "category": [(ProgrammeCategory, ProgrammeCategory.id == Award.category_id)],
}


def award_ids(repository: AwardRepository, shape: Shape) -> Select[Any]:
    """The ids of the awards the caller may see that match the filters ``shape`` names, each
    a bound parameter (``AwardListFilters.bound``), on the awards table alone (the names are
    joined to a cut page: ``cut_before_naming``)."""
    statement = repository.select().with_only_columns(Award.id, maintain_column_froms=True)
    statement = filter_programme_records(statement, Award, shape)
    if "signed_from" in shape:
        statement = statement.where(Award.signed_on >= bindparam("signed_from"))
    if "signed_to" in shape:
        statement = statement.where(Award.signed_on <= bindparam("signed_to"))
    return statement


def _named() -> Select[*tuple[Any, ...]]:
    """(award, organisation name, programme name, category name, community): a list's row."""
    from grants.applications.models import Application

    return (
        select(Award, Organisation.name, Programme.name, ProgrammeCategory.name, Application.target_community)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .join(Programme, Programme.id == Award.programme_id)
        .join(Application, Application.id == Award.application_id)
        .outerjoin(ProgrammeCategory, ProgrammeCategory.id == Award.category_id)
    )


async def list_award_rows(
    repository: AwardRepository, filters: AwardListFilters, order: SortOrder, page: PageParams
) -> Paged[Any]:
    return await paginate_cut_first(
        repository, "awards", _named, lambda shape: award_ids(repository, shape), filters.bound(), Award.id,
        AWARD_SORTS, order, page, AWARD_SORT_JOINS,
    )  # fmt: skip


async def export_award_rows(
    repository: AwardRepository, filters: AwardListFilters, order: SortOrder, limit: int
) -> Sequence[tuple[Any, ...]]:
    return await all_cut_first(
        repository.session, _named(), lambda shape: award_ids(repository, shape), filters.bound(), Award.id,
        AWARD_SORTS, order, limit, AWARD_SORT_JOINS,
    )  # fmt: skip


async def due_tranche_rows(session: AsyncSession, principal: Principal, limit: int = 500) -> Sequence[Any]:
    """(tranche, award, organisation name) of the tranches due and not yet requested."""
    statement = (
        select(Tranche, Award, Organisation.name)
        .join(Award, Award.id == Tranche.award_id)
        .join(Organisation, Organisation.id == Award.organisation_id)
        .where(Tranche.state == TrancheState.due)
    )
    if not principal.sees_all_centres:
        statement = statement.where(Award.centre_id == principal.centre_id)
    rows = await session.execute(statement.order_by(Tranche.due_on, Tranche.id).limit(limit))
    return [tuple(row) for row in rows]


async def tranches_with_awards(
    session: AsyncSession, principal: Principal, tranche_ids: Sequence[int]
) -> Sequence[Any]:
    """(tranche, award title) of the chosen tranches in the caller's centre (bulk requests)."""
    statement = (
        select(Tranche, Award.title)
        .join(Award, Award.id == Tranche.award_id)
        .where(Tranche.id.in_(list(tranche_ids)))
        .order_by(Tranche.id)
    )
    if not principal.sees_all_centres:
        statement = statement.where(Award.centre_id == principal.centre_id)
    return [tuple(row) for row in await session.execute(statement)]


async def award_titles(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Projects' titles by id (for feeds and timelines)."""
    if not ids:
        return {}
    rows = await session.execute(select(Award.id, Award.title).where(Award.id.in_(ids)))
    return {row_id: str(value) for row_id, value in rows}
