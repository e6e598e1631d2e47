"""Queries behind a public juror's code: no principal, the code is the only key."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from evaluations.jury.models import JuryCode
from evaluations.rounds.models import ReviewRound, RoundSubject
from evaluations.rubrics.models import RubricVersion


async def code_by_digest(session: AsyncSession, code_hash: str) -> JuryCode | None:
    statement = select(JuryCode).where(JuryCode.code_hash == code_hash)
    return (await session.execute(statement)).scalar_one_or_none()


async def ballot_round(session: AsyncSession, round_id: int) -> ReviewRound:
    """A code's round with the rubric its ballot shows."""
    statement = (
        select(ReviewRound)
        .options(selectinload(ReviewRound.rubric_version).selectinload(RubricVersion.rubric))
        .where(ReviewRound.id == round_id)
    )
    return (await session.execute(statement)).scalar_one()


async def ballot_subject(session: AsyncSession, subject_id: int) -> RoundSubject:
    statement = select(RoundSubject).where(RoundSubject.id == subject_id)
    return (await session.execute(statement)).scalar_one()
