"""Queries of programmes and community needs, scoped to the caller's centre."""

from __future__ import annotations

from sqlalchemy import Select
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
    """A station officer sees the needs of their own community only."""

    model = CommunityNeed
    not_found_message = N_("Record not found")

    def select(self) -> Select[CommunityNeed]:
        statement = super().select()
        if self.principal.station_only:
            statement = statement.where(CommunityNeed.community_id == self.principal.community_id)
        return statement

    def newest_first(self) -> Select[CommunityNeed]:
        return self.select().order_by(CommunityNeed.id.desc())
