"""Queries of rubrics and their versions, scoped to the principal's centre."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.repository import CentreScopedRepository
from evaluations.rubrics.models import RoundPurpose, Rubric, RubricVersion


class RubricRepository(CentreScopedRepository[Rubric]):
    model = Rubric
    not_found_message = N_("Rubric not found")

    def with_versions(self) -> Select[Rubric]:
        return self.select().options(selectinload(Rubric.versions)).order_by(Rubric.id)

    async def get_with_versions(self, rubric_id: int) -> Rubric:
        """With its versions read afresh, so a version added in this session is among them."""
        return await self.get(rubric_id, self.with_versions().execution_options(populate_existing=True))


class RubricVersionRepository(CentreScopedRepository[RubricVersion]):
    model = RubricVersion
    not_found_message = N_("Rubric version not found")

    def with_rubric(self) -> Select[RubricVersion]:
        return self.select().options(selectinload(RubricVersion.rubric))

    def of_rubric(self, rubric_id: int) -> Select[RubricVersion]:
        return self.select().where(RubricVersion.rubric_id == rubric_id)

    async def latest_number(self, rubric_id: int) -> int:
        statement = select(func.max(RubricVersion.number)).where(RubricVersion.rubric_id == rubric_id)
        return int((await self.session.execute(statement)).scalar_one() or 0)


async def rubric_names(session: AsyncSession, centre_id: int) -> set[str]:
    statement = select(Rubric.name).where(Rubric.centre_id == centre_id)
    return set((await session.execute(statement)).scalars().all())


async def latest_version(
    session: AsyncSession, centre_id: int, purposes: Collection[RoundPurpose]
) -> RubricVersion | None:
    """The newest version among a centre's rubrics of these purposes: the project rubric
    (mid-term, final) that awards are evaluated on, the capacity rubric of assessments."""
    statement = (
        select(RubricVersion)
        .join(Rubric, Rubric.id == RubricVersion.rubric_id)
        .where(Rubric.centre_id == centre_id, Rubric.purpose.in_(purposes))
        .order_by(RubricVersion.id.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def with_versions(session: AsyncSession, centre_id: int | None) -> Sequence[Rubric]:
    """The centre's rubrics with their versions (to choose a programme's review rubric)."""
    rows = await session.execute(
        select(Rubric).options(selectinload(Rubric.versions)).where(Rubric.centre_id == centre_id)
    )
    return rows.scalars().all()


async def of_purpose_with_versions(session: AsyncSession, centre_id: int, purpose: RoundPurpose) -> Rubric:
    """The centre's rubric for ``purpose`` with its versions (one per purpose is seeded)."""
    rows = await session.execute(
        select(Rubric)
        .options(selectinload(Rubric.versions))
        .where(Rubric.centre_id == centre_id, Rubric.purpose == purpose)
    )
    return rows.scalar_one()
