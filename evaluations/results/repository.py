"""Queries of recommendation adjustments, scoped to the principal's centre."""

from __future__ import annotations

from core.repository import CentreScopedRepository
from evaluations.results.models import RecommendationAdjustment


class AdjustmentRepository(CentreScopedRepository[RecommendationAdjustment]):
    model = RecommendationAdjustment

    async def of_round(self, round_id: int) -> dict[int, RecommendationAdjustment]:
        rows = await self.get_all(self.select().where(RecommendationAdjustment.round_id == round_id))
        return {row.subject_id: row for row in rows}
