"""Queries of applications, scoped to the caller's centre (and organisations, for applicants)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from core.errors import NotFound
from core.files import StoredFile
from core.i18n import N_, _
from core.identity.models import Centre, Role
from core.identity.principal import Principal
from core.repository import RECORD_ID, CentreScopedRepository, Paged, PageParams, Shape
from core.repository.direct import DirectRead
from core.repository.json_rows import json_rows
from core.repository.listing import (
    SortJoins,
    SortOrder,
    all_cut_first,
    contains,
    given,
    like_pattern,
    number_of,
    paginate_cut_first,
)
from evaluations.assignments.models import Assignment, AssignmentState
from evaluations.rounds.models import ReviewRound, RoundSubject
from grants.applications.models import (
    Application,
    ApplicationAttachment,
    ApplicationEvent,
    ApplicationState,
    BudgetLine,
    EligibilityCheck,
    Indicator,
    Objection,
    ObjectionState,
)
from grants.applications.schemas import (
    DETAIL_FIELDS,
    BudgetLineOut,
    EligibilityOut,
    EventOut,
    IndicatorOut,
)
from grants.programmes.models import (
    Programme,
    ProgrammeCategory,
    ProgrammeState,
    ProgrammeTopic,
)
from grants.programmes.repository import ProgrammeRecordFilters, filter_programme_records
from incubator.models import Organisation, OrganisationMember

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")


class ProgrammeHeading(NamedTuple):
    """What a page about one application shows of its programme: its name and window."""

    id: int
    name: str
    state: ProgrammeState
    opens_at: dt.datetime
    closes_at: dt.datetime


@dataclass(frozen=True)
class PageFacts:
    """What an application's page shows besides the application (``page_detail``). The
    programme's and the organisation's centres are given for the caller to apply the scope
    their own repositories would: read with the application, they are not scoped here."""

    programme: ProgrammeHeading
    programme_centre_id: int
    category_name: str
    topic_title: str
    organisation_name: str
    organisation_centre_id: int
    is_member: bool
    attachments: list[Any]
    """(id, label, original name, content type, size, SHA-256) of each attachment, oldest
    first: what ``attachment_rows`` reads."""


@dataclass(frozen=True)
class Listed:
    """What an application list is filtered by."""

    programme_id: int | None = None
    state: ApplicationState | None = None
    organisation_id: int | None = None

    def applied(self, statement: S) -> S:
        return Listed.shaped(statement, frozenset(self.bound())).params(self.bound())

    def bound(self) -> dict[str, Any]:
        """The given filters' values, by the names ``shaped`` binds them under."""
        return given(programme_id=self.programme_id, state=self.state, organisation_id=self.organisation_id)

    @staticmethod
    def shaped(statement: S, shape: Shape) -> S:
        """``statement`` filtered by the filters named in ``shape``, each a bound parameter
        of its column's name, in rank order."""
        for name in sorted(shape):
            statement = statement.where(getattr(Application, name) == bindparam(name))
        return statement.order_by(Application.rank.is_(None), Application.rank, Application.id)


class ApplicationRepository(CentreScopedRepository[Application]):
    """Staff see the centre's applications; applicants those of their organisations; evaluators
    also those they are assigned to score."""

    model = Application
    not_found_message = N_("Application not found")

    def __init__(
        self,
        session: object,
        principal: object,
        member_org_ids: list[int] | None = None,
        reviewable_ids: list[int] | None = None,
    ) -> None:
        super().__init__(session, principal)  # type: ignore[arg-type]
        self.member_org_ids = member_org_ids
        self.reviewable_ids = reviewable_ids

    def select(self) -> Select[Application]:
        statement = super().select()
        if not (self.principal.sees_all_centres or self.principal.has(Role.staff, Role.finance, Role.admin)):
            visible: ColumnElement[bool] = Application.organisation_id.in_(self.member_org_ids or [])
            if self.reviewable_ids:
                visible = or_(visible, Application.id.in_(self.reviewable_ids))
            statement = statement.where(visible)
        return statement

    def briefs(self) -> Select[*tuple[Any, ...]]:
        """The scoped statement of the columns ``ApplicationBrief`` shows, as rows."""
        return self.select().with_only_columns(
            Application.id,
            Application.programme_id,
            Application.organisation_id,
            Application.title,
            Application.state,
            Application.requested_amount,
            Application.approved_amount,
            Application.review_score,
            Application.rank,
            Application.submitted_at,
            maintain_column_froms=True,
        )

    async def briefs_page(self, listed: Listed, page: PageParams) -> Paged[Any]:
        """A page of ``briefs`` filtered as ``listed``: built once per shape of the filters."""
        return await self.page_of(
            "briefs", lambda shape: Listed.shaped(self.briefs(), shape), listed.bound(), page
        )

    async def detail(self, application_id: int) -> dict[str, Any]:
        """What ``ApplicationOut`` shows of the application (within the caller's scope) and
        its four collections, as rows of columns: five statements, no ORM object."""
        row = await self.row_of(application_id, "detail", *_DETAIL_COLUMNS)
        return await self._with_collections(row._asdict())

    async def page_detail(self, application_id: int, user_id: int) -> tuple[dict[str, Any], PageFacts]:
        """``detail``, with what the application's page shows besides (``PageFacts``) read in
        the application's own statement: its programme's heading, the names of its category
        and topic, its organisation's name and whether ``user_id`` is a member. Two
        statements fewer than reading them from their repositories; its attachments too
        (``json_rows``), one statement fewer than ``attachment_rows``."""
        row = await self.direct("page_detail", self._page_detail).first(
            self.session, {RECORD_ID: application_id, "member_user_id": user_id}
        )
        if row is None:
            raise NotFound(_(self.not_found_message))
        values = row._asdict()
        facts = PageFacts(
            programme=ProgrammeHeading(
                id=values["programme_id"],
                name=values["programme_name"],
                state=values["programme_state"],
                opens_at=values["programme_opens_at"],
                closes_at=values["programme_closes_at"],
            ),
            programme_centre_id=values["programme_centre_id"],
            category_name=values["category_name"] or "",
            topic_title=values["topic_title"] or "",
            organisation_name=values["organisation_name"],
            organisation_centre_id=values["organisation_centre_id"],
            is_member=bool(values["is_member"]),
            attachments=sorted(values["attachments"] or ()),
        )
        return await self._with_collections({key: values[key] for key in DETAIL_FIELDS}), facts

    def _page_detail(self) -> Select[*tuple[Any, ...]]:
        member = exists().where(
            OrganisationMember.organisation_id == Application.organisation_id,
            OrganisationMember.user_id == bindparam("member_user_id"),
        )
        return (
            self.select()
            .with_only_columns(
                *_DETAIL_COLUMNS,
                Programme.name.label("programme_name"),
                Programme.state.label("programme_state"),
                Programme.opens_at.label("programme_opens_at"),
                Programme.closes_at.label("programme_closes_at"),
                Programme.centre_id.label("programme_centre_id"),
                ProgrammeCategory.name.label("category_name"),
                ProgrammeTopic.title.label("topic_title"),
                Organisation.name.label("organisation_name"),
                Organisation.centre_id.label("organisation_centre_id"),
                member.label("is_member"),
                _ATTACHMENTS_OF_APPLICATION,
                maintain_column_froms=True,
            )
            .join(Programme, Programme.id == Application.programme_id)
            .outerjoin(
                ProgrammeCategory,
                (ProgrammeCategory.id == Application.category_id)
                & (ProgrammeCategory.programme_id == Programme.id),
            )
            .outerjoin(
                ProgrammeTopic,
                (ProgrammeTopic.id == Application.topic_id) & (ProgrammeTopic.programme_id == Programme.id),
            )
            .join(Organisation, Organisation.id == Application.organisation_id)
            .where(Application.id == bindparam(RECORD_ID))
        )

    async def _with_collections(self, detail: dict[str, Any]) -> dict[str, Any]:
        for relation, read in _CHILD_READS:
            detail[relation] = await read.all(self.session, {"application_id": detail["id"]})
        return detail

    async def get_full(self, application_id: int) -> Application:
        """The application (within the caller's scope) with its budget lines, indicators,
        checks and events: five statements, each built once, each loading exactly the rows
        shown. (Four ``selectinload``s read the same rows but cost 40 % more in Python.)"""
        application = await self.get(application_id)
        for relation, statement in _CHILDREN:
            rows = (await self.session.execute(statement, {"application_id": application.id})).scalars()
            set_committed_value(application, relation, list(rows))
        return application


_COLLECTIONS: tuple[tuple[str, Any, Any, tuple[Any, ...]], ...] = (
    ("budget_lines", BudgetLine, BudgetLineOut, (BudgetLine.seq,)),
    ("indicators", Indicator, IndicatorOut, (Indicator.seq,)),
    ("checks", EligibilityCheck, EligibilityOut, (EligibilityCheck.id,)),
    ("events", ApplicationEvent, EventOut, (ApplicationEvent.id,)),
)
"""An application's collections: relation, model, the schema the detail shows it by, and
the order its relationship declares."""

_DETAIL_COLUMNS = [getattr(Application, name) for name in DETAIL_FIELDS]
_CHILD_READS: list[tuple[str, DirectRead[Any]]] = [
    (
        relation,
        DirectRead(
            select(*(getattr(model, name) for name in schema.model_fields))
            .where(model.application_id == bindparam("application_id"))
            .order_by(*order)
        ),
    )
    for relation, model, schema, order in _COLLECTIONS
]
"""The collections as the detail shows them: the columns of their ``*Out`` schemas, read
through ``core.repository.direct``."""

_CHILDREN: list[tuple[str, Select[Any]]] = [
    (relation, select(model).where(model.application_id == bindparam("application_id")).order_by(*order))
    for relation, model, _schema, order in _COLLECTIONS
]
"""The collections as ORM objects, for the record itself (``get_full``)."""


async def publicity_list(
    session: AsyncSession, on: dt.date, centre_id: int | None = None
) -> list[tuple[Application, Organisation, str | None]]:
    """Approved applications whose publicity is open on ``on`` (no login needed)."""
    statement = (
        select(Application, Organisation, ProgrammeCategory.name)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .outerjoin(ProgrammeCategory, ProgrammeCategory.id == Application.category_id)
        .where(
            Application.state == ApplicationState.approved,
            Application.publicity_starts_on <= on,
            Application.publicity_ends_on >= on,
        )
        .order_by(Application.programme_id, Application.rank.is_(None), Application.rank, Application.id)
    )
    if centre_id is not None:
        statement = statement.where(Application.centre_id == centre_id)
    return [(a, o, c) for a, o, c in (await session.execute(statement)).all()]


async def list_objections(
    session: AsyncSession, principal: Principal, page: PageParams, *, state: ObjectionState | None = None
) -> Paged[Objection]:
    statement = select(Objection).order_by(Objection.id.desc())
    if not principal.sees_all_centres:
        statement = statement.where(Objection.centre_id == principal.centre_id)
    if state is not None:
        statement = statement.where(Objection.state == state)
    count = (await session.execute(select(func.count()).select_from(statement.subquery()))).scalar_one()
    rows = (await session.execute(statement.limit(page.page_size).offset(page.offset))).scalars().all()
    return Paged(items=rows, total=count, page=page.page, page_size=page.page_size)


async def approved_with_events(session: AsyncSession, programme_id: int) -> Sequence[Application]:
    return (
        (
            await session.execute(
                select(Application)
                .options(selectinload(Application.events))
                .where(
                    Application.programme_id == programme_id, Application.state == ApplicationState.approved
                )
            )
        )
        .scalars()
        .all()
    )


async def publicity_ended(
    session: AsyncSession, on: dt.date, programme_id: int | None
) -> Sequence[Application]:
    """Approved applications whose publicity ended before ``on`` (re-read: populate_existing)."""
    statement = (
        select(Application)
        .options(selectinload(Application.events))
        .where(Application.state == ApplicationState.approved, Application.publicity_ends_on < on)
        .execution_options(populate_existing=True)
    )
    if programme_id is not None:
        statement = statement.where(Application.programme_id == programme_id)
    return (await session.execute(statement)).scalars().all()


async def open_objection_count(session: AsyncSession, application_id: int) -> int:
    return (
        await session.execute(
            select(func.count())
            .select_from(Objection)
            .where(Objection.application_id == application_id, Objection.state == ObjectionState.open)
        )
    ).scalar_one()


async def approved_count(session: AsyncSession, programme_id: int) -> int:
    return (
        await session.execute(
            select(func.count())
            .select_from(Application)
            .where(Application.programme_id == programme_id, Application.state == ApplicationState.approved)
        )
    ).scalar_one()


async def submitted_count(session: AsyncSession, programme_id: int) -> int:
    pending = await session.execute(
        select(func.count())
        .select_from(Application)
        .where(Application.programme_id == programme_id, Application.state == ApplicationState.submitted)
    )
    return pending.scalar_one()


async def eligible_with_organisations(session: AsyncSession, programme_id: int) -> Sequence[Any]:
    """(application, organisation) of the eligible applications, budget lines and events loaded."""
    return (
        await session.execute(
            select(Application, Organisation)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .options(selectinload(Application.budget_lines), selectinload(Application.events))
            .where(Application.programme_id == programme_id, Application.state == ApplicationState.eligible)
            .order_by(Application.id)
        )
    ).all()


async def under_review_with_events(session: AsyncSession, programme_id: int) -> Sequence[Application]:
    return (
        (
            await session.execute(
                select(Application)
                .options(selectinload(Application.events))
                .where(
                    Application.programme_id == programme_id,
                    Application.state == ApplicationState.under_review,
                )
            )
        )
        .scalars()
        .all()
    )


async def in_states_with_organisations(
    session: AsyncSession, programme_id: int, states: Collection[ApplicationState]
) -> Sequence[Any]:
    """(application, organisation) of the programme's applications in ``states``, events loaded."""
    return (
        await session.execute(
            select(Application, Organisation)
            .join(Organisation, Organisation.id == Application.organisation_id)
            .options(selectinload(Application.events))
            .where(Application.programme_id == programme_id, Application.state.in_(states))
        )
    ).all()


async def indicator_ids(session: AsyncSession, application_id: int) -> list[int]:
    return list(
        (
            await session.execute(select(Indicator.id).where(Indicator.application_id == application_id))
        ).scalars()
    )


async def indicators_of(session: AsyncSession, application_id: int) -> Sequence[Indicator]:
    return (
        (
            await session.execute(
                select(Indicator).where(Indicator.application_id == application_id).order_by(Indicator.seq)
            )
        )
        .scalars()
        .all()
    )


async def attachments_with_files(
    session: AsyncSession, application_id: int
) -> list[tuple[ApplicationAttachment, StoredFile]]:
    rows = await session.execute(
        select(ApplicationAttachment, StoredFile)
        .join(StoredFile, StoredFile.id == ApplicationAttachment.file_id)
        .where(ApplicationAttachment.application_id == application_id)
        .order_by(ApplicationAttachment.id)
    )
    return [(attachment, file) for attachment, file in rows]


async def attachment_file(
    session: AsyncSession, application_id: int, attachment_id: int
) -> StoredFile | None:
    """The stored file of an attachment of this application (None for another application's)."""
    return (
        await session.execute(
            select(StoredFile)
            .join(ApplicationAttachment, ApplicationAttachment.file_id == StoredFile.id)
            .where(
                ApplicationAttachment.id == attachment_id,
                ApplicationAttachment.application_id == application_id,
            )
        )
    ).scalar_one_or_none()


async def application_for_review(
    session: AsyncSession, centre_id: int, application_id: int
) -> Application | None:
    """One application of a centre with its budget and indicators, for whoever reviews it.

    No role filter: the caller has already established that the reader was assigned it.
    """
    statement = (
        select(Application)
        .where(Application.id == application_id, Application.centre_id == centre_id)
        .options(selectinload(Application.budget_lines), selectinload(Application.indicators))
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def attachment_of(
    session: AsyncSession, application_id: int, attachment_id: int
) -> tuple[ApplicationAttachment, StoredFile] | None:
    row = (
        await session.execute(
            select(ApplicationAttachment, StoredFile)
            .join(StoredFile, StoredFile.id == ApplicationAttachment.file_id)
            .where(
                ApplicationAttachment.id == attachment_id,
                ApplicationAttachment.application_id == application_id,
            )
        )
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


_ATTACHMENT_COLUMNS = (
    ApplicationAttachment.id,
    ApplicationAttachment.label,
    StoredFile.original_name,
    StoredFile.content_type,
    StoredFile.size,
    StoredFile.sha256,
)
_ATTACHMENTS_OF_APPLICATION = (
    select(json_rows(*_ATTACHMENT_COLUMNS))
    .join_from(ApplicationAttachment, StoredFile, StoredFile.id == ApplicationAttachment.file_id)
    .where(ApplicationAttachment.application_id == Application.id)
    .scalar_subquery()
    .label("attachments")
)
"""The attachments of the application of the enclosing statement, as one column."""

_ATTACHMENT_ROWS: DirectRead[Any] = DirectRead(
    select(*_ATTACHMENT_COLUMNS)
    .join(StoredFile, StoredFile.id == ApplicationAttachment.file_id)
    .where(ApplicationAttachment.application_id == bindparam("application_id"))
    .order_by(ApplicationAttachment.id)
)


async def attachment_rows(session: AsyncSession, application_id: int) -> list[Any]:
    """What an application's page lists of its attachments (id, label, original name,
    content type, size, SHA-256), oldest first, as rows of columns."""
    return await _ATTACHMENT_ROWS.all(session, {"application_id": application_id})


async def delete_attachment(session: AsyncSession, attachment_id: int) -> bool:
    """Remove the link (the stored bytes stay: the audit trail names their SHA-256)."""
    result = await session.execute(
        delete(ApplicationAttachment)
        .where(ApplicationAttachment.id == attachment_id)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def objection_by_reference(session: AsyncSession, reference: str) -> tuple[Objection, str] | None:
    """An objection by its public reference, with the project's title."""
    row = (
        await session.execute(
            select(Objection, Application.title)
            .join(Application, Application.id == Objection.application_id)
            .where(Objection.reference == reference)
        )
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None


async def programmes_of(session: AsyncSession, programme_ids: set[int]) -> list[tuple[Programme, Centre]]:
    """The programmes named on the public publicity page, with their publishing centre."""
    if not programme_ids:
        return []
    rows = await session.execute(
        select(Programme, Centre)
        .join(Centre, Centre.id == Programme.centre_id)
        .where(Programme.id.in_(programme_ids))
        .order_by(Programme.id)
    )
    return [(p, c) for p, c in rows.all()]


async def reviewable_application_ids(session: AsyncSession, evaluator_id: int) -> dict[int, bool]:
    """Applications this evaluator is assigned to score (not withdrawn for a conflict), each with
    whether its round is blind (then the applicant's identity is hidden from them)."""
    rows = await session.execute(
        select(RoundSubject.subject_id, ReviewRound.blind)
        .join(Assignment, Assignment.subject_id == RoundSubject.id)
        .join(ReviewRound, ReviewRound.id == RoundSubject.round_id)
        .where(
            Assignment.evaluator_id == evaluator_id,
            Assignment.state != AssignmentState.conflict,
            RoundSubject.subject_type == "application",
        )
    )
    seen: dict[int, bool] = {}
    for subject_id, blind in rows.all():
        seen[subject_id] = seen.get(subject_id, False) or bool(blind)
    return seen


# --- unscoped reads for report builders (the caller has checked the centre) ---------------


async def applications_with_organisations(
    session: AsyncSession, programme_id: int
) -> Sequence[tuple[Application, Organisation]]:
    """A programme's applications with their organisations, ranked ones first by rank."""
    statement = (
        select(Application, Organisation)
        .join(Organisation, Organisation.id == Application.organisation_id)
        .where(Application.programme_id == programme_id)
        .order_by(Application.rank.is_(None), Application.rank, Application.id)
    )
    return [(a, o) for a, o in (await session.execute(statement)).all()]


# --- the applications list: filters, whitelisted sort keys, rows with their names -------


@dataclass(frozen=True)
class ApplicationListFilters(ProgrammeRecordFilters):
    """What staff look for in the applications list."""

    state: ApplicationState | None = None
    organisation_id: int | None = None
    submitted_from: dt.datetime | None = None
    submitted_before: dt.datetime | None = None

    def bound(self) -> dict[str, Any]:
        return super().bound() | given(
            organisation_id=self.organisation_id,
            submitted_from=self.submitted_from,
            submitted_before=self.submitted_before,
        )


APPLICATION_SORTS: dict[str, Any] = {
    "number": Application.id,
    "title": Application.title,
    "organisation": Organisation.name,
    "programme": Programme.name,
    "category": ProgrammeCategory.name,
    "community": Application.target_community,
    "state": Application.state,
    "requested": Application.requested_amount,
    "score": Application.review_score,
    "rank": Application.rank,
    "submitted": Application.submitted_at,
}


APPLICATION_SORT_JOINS: SortJoins = {
    "organisation": [(Organisation, Organisation.id == Application.organisation_id)],
    "programme": [(Programme, Programme.id == Application.programme_id)],
    "category": [(ProgrammeCategory, ProgrammeCategory.id == Application.category_id)],
}


def application_ids(repository: ApplicationRepository, shape: Shape) -> Select[Any]:
    """The ids of the applications the caller may see that match the filters ``shape``
    names, each a bound parameter (``ApplicationListFilters.bound``), on the applications
    table alone (the names are joined to a cut page: ``cut_before_naming``)."""
    statement = repository.select().with_only_columns(Application.id, maintain_column_froms=True)
    statement = filter_programme_records(statement, Application, shape)
    if "organisation_id" in shape:
        statement = statement.where(Application.organisation_id == bindparam("organisation_id"))
    if "submitted_from" in shape:
        statement = statement.where(Application.submitted_at >= bindparam("submitted_from"))
    if "submitted_before" in shape:
        statement = statement.where(Application.submitted_at < bindparam("submitted_before"))
    return statement


LISTED = (
    Application.id,
    Application.centre_id,
    Application.state,
    Application.title,
    Application.target_community,
    Application.requested_amount,
    Application.review_score,
    Application.rank,
    Application.submitted_at,
)
"""The columns a list of applications prints (``api.pages.application_rows``, the search
page): not the proposal's long texts and JSON, nor the ids and amounts it does not show."""


def _named(*application: Any) -> Select[*tuple[Any, ...]]:
    return (
        select(
            *application,
            Organisation.name.label("organisation_name"),
            Programme.name.label("programme_name"),
            ProgrammeCategory.name.label("category_name"),
        )
        .join(Organisation, Organisation.id == Application.organisation_id)
        .join(Programme, Programme.id == Application.programme_id)
        .outerjoin(ProgrammeCategory, ProgrammeCategory.id == Application.category_id)
    )


LISTED_ROWS = _named(*LISTED)
"""A list's row: the listed columns, ``organisation_name``, ``programme_name`` and
``category_name``. Rows, not objects: a page prints them and changes nothing."""
EXPORTED = _named(Application)
"""An export's row: (application, organisation name, programme name, category name)."""


async def list_application_rows(
    repository: ApplicationRepository, filters: ApplicationListFilters, order: SortOrder, page: PageParams
) -> Paged[Any]:
    return await paginate_cut_first(
        repository,
        "applications",
        lambda: LISTED_ROWS,
        lambda shape: application_ids(repository, shape),
        filters.bound(),
        Application.id,
        APPLICATION_SORTS,
        order,
        page,
        APPLICATION_SORT_JOINS,
        as_rows=True,
    )


async def export_application_rows(
    repository: ApplicationRepository, filters: ApplicationListFilters, order: SortOrder, limit: int
) -> Sequence[tuple[Any, ...]]:
    return await all_cut_first(
        repository.session, EXPORTED, lambda shape: application_ids(repository, shape), filters.bound(),
        Application.id,
        APPLICATION_SORTS, order, limit, APPLICATION_SORT_JOINS,
    )  # fmt: skip


PROGRAMME_CHOICES = 20
"""How many programmes a list's programme filter offers besides the chosen one: the newest,
or the first matches of its search box (a district runs hundreds over the years)."""


def _programme_choices(scoped: bool, searching: bool, chosen: bool) -> DirectRead[tuple[int, str]]:
    statement = select(Programme.id, Programme.name)
    if scoped:
        statement = statement.where(Programme.centre_id == bindparam("centre_id"))
    picked = Programme.id == bindparam("chosen") if chosen else None
    if searching:
        match = or_(contains(Programme.name, bindparam("q")), Programme.id == bindparam("q_number"))
        statement = statement.where(match if picked is None else or_(match, picked))
    newest = [Programme.year.desc(), Programme.id.desc()]
    ordered = statement.order_by(*newest) if picked is None else statement.order_by(picked.desc(), *newest)
    return DirectRead(ordered.limit(PROGRAMME_CHOICES + 1), make=tuple)


_PROGRAMME_CHOICES = {
    (scoped, searching, chosen): _programme_choices(scoped, searching, chosen)
    for scoped in (True, False)
    for searching in (True, False)
    for chosen in (True, False)
}


async def programme_choices(
    session: AsyncSession, principal: Principal, q: str = "", chosen: int | None = None
) -> list[tuple[int, str]]:
    """(id, name) of the programmes of the caller's centre for a list's filter: the chosen
    one first, then the newest (or those whose name contains ``q`` or whose number it is),
    ``PROGRAMME_CHOICES`` of them; one statement whatever the number of programmes."""
    scoped = not principal.sees_all_centres
    values: dict[str, Any] = {"centre_id": principal.centre_id} if scoped else {}
    if q.strip():
        values |= {"q": like_pattern(q), "q_number": number_of(q)}
    if chosen is not None:
        values["chosen"] = chosen
    read = _PROGRAMME_CHOICES[(scoped, "q" in values, chosen is not None)]
    rows = await read.all(session, values)
    keep = PROGRAMME_CHOICES + (1 if chosen is not None and rows and rows[0][0] == chosen else 0)
    return rows[:keep]


async def submitted_of(repository: ApplicationRepository, ids: Collection[int]) -> Sequence[Application]:
    """The chosen applications the caller may see, in the order of their numbers (bulk actions)."""
    statement = repository.select().where(Application.id.in_(list(ids))).order_by(Application.id)
    return await repository.get_all(statement)


async def application_titles(session: AsyncSession, ids: Collection[int]) -> dict[int, str]:
    """Applications' titles by id (for feeds and timelines)."""
    if not ids:
        return {}
    rows = await session.execute(select(Application.id, Application.title).where(Application.id.in_(ids)))
    return {row_id: str(value) for row_id, value in rows}
