"""Queries of programmes and community needs, scoped to the caller's centre."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from core.i18n import N_
from core.repository import CentreScopedRepository
from grants.programmes.models import CommunityNeed, Programme, ProgrammeCategory


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


async def release_committed(
    session: AsyncSession, programme_id: int, category_id: int | None, amount: Decimal
) -> None:
    """Give ``amount`` back to the programme's (and category's) budget: one conditional UPDATE each."""
    await session.execute(
        update(Programme)
        .where(Programme.id == programme_id)
        .values(committed=Programme.committed - amount)
        .execution_options(synchronize_session=False)
    )
    if category_id is not None:
        await session.execute(
            update(ProgrammeCategory)
            .where(ProgrammeCategory.id == category_id)
            .values(committed=ProgrammeCategory.committed - amount)
            .execution_options(synchronize_session=False)
        )
