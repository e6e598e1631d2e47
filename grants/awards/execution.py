"""Budget execution (granted, due, paid, spent, returned) per award, programme and category."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.principal import Principal
from grants.awards.models import (
    Award,
)
from grants.awards.repository import (
    execution_by,
)
from grants.awards.schemas import (
    Execution,
    ExecutionRow,
)
from grants.programmes import repository as programme_queries


async def award_execution(session: AsyncSession, award: Award) -> Execution:
    sums = await execution_by(session, Award.id, Award.id == award.id)
    return Execution(**sums.get(award.id, {}))


async def execution_rows(session: AsyncSession, principal: Principal) -> list[ExecutionRow]:
    """Per programme, then per category within it: granted, due, paid, spent, returned."""
    programme_list = await programme_queries.programmes_newest_first(session, principal)
    ids = [p.id for p in programme_list]
    if not ids:
        return []
    by_programme = await execution_by(session, Award.programme_id, Award.programme_id.in_(ids))
    by_category = await execution_by(session, Award.category_id, Award.programme_id.in_(ids))
    categories = await programme_queries.categories_of(session, ids)
    rows: list[ExecutionRow] = []
    for programme in programme_list:
        rows.append(
            ExecutionRow(
                programme_id=programme.id,
                programme=programme.name,
                budget=programme.total_budget,
                execution=Execution(**by_programme.get(programme.id, {})),
            )
        )
        for category in categories:
            if category.programme_id == programme.id:
                rows.append(
                    ExecutionRow(
                        programme_id=programme.id,
                        programme=programme.name,
                        category_id=category.id,
                        category=category.name,
                        budget=category.budget,
                        execution=Execution(**by_category.get(category.id, {})),
                    )
                )
    return rows
