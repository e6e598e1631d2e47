"""The incubator's figures for the role dashboards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.principal import Principal
from core.todo import Waiting
from incubator import repository as queries


async def awaiting_verification(session: AsyncSession, principal: Principal) -> int:
    """Organisations registered (by themselves or by staff) that staff have not verified yet."""
    return await queries.unverified_count(session, principal)


async def waiting_for_staff(
    session: AsyncSession, principal: Principal, today: dt.date, *, limit: int = 50
) -> list[Waiting]:
    """Organisations to verify, and incubation terms past their planned end."""
    items = [
        Waiting("verify_organisation", name, f"/organisations/{org_id}", since=created)
        for org_id, name, created in await queries.unverified_organisations(session, principal, limit)
    ]
    items += [
        Waiting("incubation_overdue", name, f"/organisations/{org_id}#stay", due=planned_end)
        for stay_id, org_id, name, planned_end in await queries.overdue_stays(
            session, principal, today, limit
        )
    ]
    return items


@dataclass(frozen=True)
class CentreOrganisations:
    organisations: int
    unverified: int
    incubating: int


async def per_centre(session: AsyncSession) -> dict[int, CentreOrganisations]:
    """For the district's side-by-side view: every centre's organisations, in two grouped queries."""
    counts = await queries.organisations_per_centre(session)
    stays = await queries.incubating_per_centre(session)
    return {
        centre_id: CentreOrganisations(
            counts.get(centre_id, (0, 0))[0], counts.get(centre_id, (0, 0))[1], stays.get(centre_id, 0)
        )
        for centre_id in set(counts) | set(stays)
    }
