"""Queries of programmes and community needs, scoped to the caller's centre."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.repository import CentreScopedRepository
from grants.programmes.models import CommunityNeed, Programme


class ProgrammeRepository(CentreScopedRepository[Programme]):
    model = Programme
    not_found_message = N_("Programme not found")

    def full(self) -> Select[Programme]:
        return self.select().options(
            selectinload(Programme.categories),
            selectinload(Programme.tranche_plan),
            selectinload(Programme.topics),
        )


class NeedRepository(CentreScopedRepository[CommunityNeed]):
    model = CommunityNeed
    not_found_message = N_("Record not found")


async def programme_with_plan(session: AsyncSession, programme_id: int) -> Programme | None:
    """Unscoped, for report builders: a programme with its categories and tranche plan."""
    statement = (
        select(Programme)
        .options(selectinload(Programme.categories), selectinload(Programme.tranche_plan))
        .where(Programme.id == programme_id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def programme_centre(session: AsyncSession, programme_id: int) -> int | None:
    programme = await session.get(Programme, programme_id)
    return programme.centre_id if programme is not None else None


async def programmes_of_centre(session: AsyncSession, centre_id: int) -> list[Programme]:
    """For choosing a report's subject: the centre's programmes, newest first."""
    statement = (
        select(Programme)
        .where(Programme.centre_id == centre_id)
        .order_by(Programme.year.desc(), Programme.id.desc())
    )
    return list((await session.execute(statement)).scalars())
