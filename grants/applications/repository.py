"""Queries of applications, scoped to the caller's centre (and organisations, for applicants)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.files import StoredFile
from core.i18n import N_
from core.identity.models import Centre, Role
from core.repository import CentreScopedRepository
from evaluations.models import Assignment, AssignmentState, ReviewRound, RoundSubject
from grants.applications.models import Application, ApplicationAttachment, Objection
from grants.programmes.models import Programme


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

    def full(self) -> Select[Application]:
        return self.select().options(
            selectinload(Application.budget_lines),
            selectinload(Application.indicators),
            selectinload(Application.checks),
            selectinload(Application.events),
        )


async def attachments_of(
    session: AsyncSession, application_id: int
) -> list[tuple[ApplicationAttachment, StoredFile]]:
    """The application's attachments with their stored files, oldest first."""
    rows = await session.execute(
        select(ApplicationAttachment, StoredFile)
        .join(StoredFile, StoredFile.id == ApplicationAttachment.file_id)
        .where(ApplicationAttachment.application_id == application_id)
        .order_by(ApplicationAttachment.id)
    )
    return [(a, f) for a, f in rows.all()]


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


async def delete_attachment(session: AsyncSession, attachment_id: int) -> bool:
    """Remove the link (the stored bytes stay: the audit trail names their SHA-256)."""
    result = await session.execute(
        delete(ApplicationAttachment)
        .where(ApplicationAttachment.id == attachment_id)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


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
