"""Scoring: an evaluator's draft is saved partial and checked against the criteria's bounds on
every save; submitting needs every base criterion scored and locks the sheet."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utcnow
from core.errors import Conflict, FieldError, Forbidden, ValidationFailed
from core.i18n import _
from core.identity.principal import Principal
from evaluations import access
from evaluations.assignments.models import Assignment, AssignmentState
from evaluations.assignments.service import get_assignment, own_assignment
from evaluations.rounds.models import RoundState
from evaluations.rubrics.schemas import Criterion
from evaluations.rubrics.service import criteria_of, points
from evaluations.sheets.models import ScoreItem, ScoreSheet, SheetKind, SheetState
from evaluations.sheets.schemas import ScoreItemRead, SheetIn, SheetRead


def sheet_read(sheet: ScoreSheet | None, assignment: Assignment | None = None) -> SheetRead:
    if sheet is None:
        return SheetRead(
            id=None,
            assignment_id=assignment.id if assignment else None,
            kind=SheetKind.expert,
            state=SheetState.draft,
            total=Decimal("0.00"),
            comment="",
            items=[],
            submitted_at=None,
        )
    return SheetRead(
        id=sheet.id,
        assignment_id=sheet.assignment_id,
        kind=sheet.kind,
        state=sheet.state,
        total=points(sheet.total),
        comment=sheet.comment,
        items=[
            ScoreItemRead(criterion_key=i.criterion_key, score=i.score, comment=i.comment)
            for i in sheet.items
        ],
        submitted_at=sheet.submitted_at,
    )


async def get_sheet(
    session: AsyncSession, principal: Principal, assignment_id: int
) -> tuple[Assignment, ScoreSheet | None]:
    """The evaluator's own sheet; anyone else (staff) only once the round is closed."""
    assignment = await get_assignment(session, principal, assignment_id)
    if assignment.evaluator_id == principal.user_id:
        _require_scoring(assignment)
        return assignment, assignment.sheet
    if assignment.round.state is not RoundState.closed:
        raise Forbidden(_("Score sheets can be opened once the round is closed"))
    return assignment, assignment.sheet


def _require_scoring(assignment: Assignment) -> None:
    if assignment.state is AssignmentState.pending:
        raise Conflict(_("Declare whether you have a conflict of interest before scoring"))
    if assignment.state is AssignmentState.conflict:
        raise Conflict(_("You declared a conflict of interest; this assignment was withdrawn"))


def apply_scores(sheet: ScoreSheet, criteria: list[Criterion], data: SheetIn) -> None:
    by_key = {c.key: c for c in criteria}
    errors: list[FieldError] = []
    for item in data.items:
        criterion = by_key.get(item.criterion_key)
        if criterion is None:
            errors.append(FieldError(f"items.{item.criterion_key}", _("Not a criterion of this rubric")))
        elif item.score is not None and item.score > criterion.max_points:
            errors.append(
                FieldError(
                    f"items.{item.criterion_key}.score",
                    _("{name}: at most {max} points").format(
                        name=criterion.name, max=f"{criterion.max_points:g}"
                    ),
                )
            )
    if errors:
        raise ValidationFailed(
            errors[0].message if len(errors) == 1 else _("Some scores are not valid"), details=errors
        )
    items = {i.criterion_key: i for i in sheet.items}
    for item in data.items:
        existing = items.get(item.criterion_key)
        if existing is None:
            sheet.items.append(
                ScoreItem(criterion_key=item.criterion_key, score=item.score, comment=item.comment)
            )
        else:
            existing.score, existing.comment = item.score, item.comment
    sheet.comment = data.comment
    sheet.total = points(sum((i.score for i in sheet.items if i.score is not None), Decimal(0)))


def require_complete(sheet: ScoreSheet, criteria: list[Criterion]) -> None:
    scored = {i.criterion_key for i in sheet.items if i.score is not None}
    errors = [
        FieldError(
            f"items.{c.key}.score", _("{name}: a score is required before submitting").format(name=c.name)
        )
        for c in criteria
        if not c.bonus and c.key not in scored
    ]
    if errors:
        raise ValidationFailed(
            errors[0].message if len(errors) == 1 else _("Some criteria have no score yet"), details=errors
        )


async def save_draft(
    session: AsyncSession, principal: Principal, assignment_id: int, data: SheetIn
) -> ScoreSheet:
    """Autosave: the draft may be partial; bounds are checked on every save."""
    assignment = await own_assignment(session, principal, assignment_id)
    _require_scoring(assignment)
    access.require_open(assignment.round)
    sheet = assignment.sheet
    created = sheet is None
    if sheet is None:
        sheet = ScoreSheet(
            centre_id=assignment.centre_id,
            round_id=assignment.round_id,
            subject_id=assignment.subject_id,
            assignment=assignment,
            evaluator_id=assignment.evaluator_id,
            kind=SheetKind.expert,
            state=SheetState.draft,
            items=[],
        )
    elif sheet.state is SheetState.submitted:
        raise Conflict(_("The score sheet has been submitted and is locked"))
    apply_scores(sheet, criteria_of(assignment.round.rubric_version), data)
    if created:
        session.add(sheet)
    await session.flush()
    if created:
        await audit.record(
            session,
            actor=principal,
            action="score_sheet.start",
            subject_type="score_sheet",
            subject_id=sheet.id,
            centre_id=sheet.centre_id,
            after={"assignment_id": assignment.id},
        )
    return sheet


async def submit_sheet(
    session: AsyncSession, principal: Principal, assignment_id: int, data: SheetIn | None = None
) -> ScoreSheet:
    """Submit locks the sheet: every base criterion must carry a score."""
    if data is not None:
        sheet = await save_draft(session, principal, assignment_id, data)
        assignment = await get_assignment(session, principal, assignment_id)
    else:
        assignment = await own_assignment(session, principal, assignment_id)
        _require_scoring(assignment)
        access.require_open(assignment.round)
        if assignment.sheet is None:
            raise ValidationFailed.field("items", _("Some criteria have no score yet"))
        sheet = assignment.sheet
    if sheet.state is SheetState.submitted:
        raise Conflict(_("The score sheet has been submitted and is locked"))
    require_complete(sheet, criteria_of(assignment.round.rubric_version))
    sheet.state = SheetState.submitted
    sheet.submitted_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="score_sheet.submit",
        subject_type="score_sheet",
        subject_id=sheet.id,
        centre_id=sheet.centre_id,
        before={"state": SheetState.draft},
        after={
            "state": SheetState.submitted,
            "total": sheet.total,
            "scores": {i.criterion_key: i.score for i in sheet.items},
        },
    )
    return sheet
