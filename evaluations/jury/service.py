"""The public jury: codes shown once and stored hashed; each opens one ballot and is spent
by its one complete sheet."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _
from core.identity.principal import Principal
from core.security import token_digest
from evaluations import access
from evaluations.jury import repository
from evaluations.jury.models import JuryCode
from evaluations.rounds.models import ReviewRound, RoundSubject
from evaluations.rounds.repository import SubjectRepository
from evaluations.rounds.service import get_round
from evaluations.rubrics.service import criteria_of
from evaluations.sheets.models import ScoreSheet, SheetKind, SheetState
from evaluations.sheets.schemas import SheetIn
from evaluations.sheets.service import apply_scores, require_complete

JURY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


async def issue_jury_codes(
    session: AsyncSession, principal: Principal, round_id: int, subject_id: int, count: int
) -> list[str]:
    """One-time codes for public jurors of one subject; shown once, stored hashed."""
    centre_id = access.centre_of(principal)
    review_round = await get_round(session, principal, round_id)
    access.require_open(review_round)
    if review_round.public_weight == 0:
        raise Conflict(_("This round has no public jury"))
    subject = await SubjectRepository(session, principal).in_round(review_round.id, subject_id)
    if subject is None:
        raise ValidationFailed.field("subject_id", _("No such subject in this round"))
    codes = ["".join(secrets.choice(JURY_ALPHABET) for _i in range(10)) for _n in range(count)]
    session.add_all(
        JuryCode(
            centre_id=centre_id, round_id=review_round.id, subject_id=subject.id, code_hash=token_digest(c)
        )
        for c in codes
    )
    await session.flush()
    await audit.record(
        session,
        actor=principal,
        action="jury_codes.issue",
        subject_type="round_subject",
        subject_id=subject.id,
        centre_id=centre_id,
        after={"round_id": review_round.id, "count": count},
    )
    return codes


async def jury_ballot(session: AsyncSession, code: str) -> tuple[JuryCode, ReviewRound, RoundSubject]:
    """What a public juror's code opens; unknown codes are not found, used ones refused."""
    normalised = code.strip().upper()
    jury_code = await repository.code_by_digest(session, token_digest(normalised))
    if jury_code is None:
        raise NotFound(_("This code is not valid"))
    review_round = await repository.ballot_round(session, jury_code.round_id)
    subject = await repository.ballot_subject(session, jury_code.subject_id)
    if jury_code.used_at is not None:
        raise Conflict(_("This code has already been used"))
    access.require_open(review_round)
    return jury_code, review_round, subject


async def submit_jury_sheet(session: AsyncSession, code: str, data: SheetIn) -> ScoreSheet:
    jury_code, review_round, subject = await jury_ballot(session, code)
    sheet = ScoreSheet(
        centre_id=jury_code.centre_id,
        round_id=review_round.id,
        subject_id=subject.id,
        jury_code_id=jury_code.id,
        kind=SheetKind.public,
        state=SheetState.draft,
        items=[],
    )
    criteria = criteria_of(review_round.rubric_version)
    apply_scores(sheet, criteria, data)
    require_complete(sheet, criteria)
    sheet.state = SheetState.submitted
    sheet.submitted_at = utcnow()
    jury_code.used_at = sheet.submitted_at
    session.add(sheet)
    await session.flush()
    await audit.record(
        session,
        actor=None,
        action="score_sheet.public_submit",
        subject_type="score_sheet",
        subject_id=sheet.id,
        centre_id=sheet.centre_id,
        after={"jury_code_id": jury_code.id, "subject_id": subject.id, "total": sheet.total},
    )
    return sheet
