"""The incubator's figures for the role dashboards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.principal import Principal
from core.todo import Waiting
from incubator.models import IncubationStay, Organisation, StayState


async def awaiting_verification(session: AsyncSession, principal: Principal) -> int:
    """Organisations registered (by themselves or by staff) that staff have not verified yet."""
    statement = select(func.count(Organisation.id)).where(Organisation.verified_at.is_(None))
    if not principal.sees_all_centres:
        statement = statement.where(Organisation.centre_id == principal.centre_id)
    return int((await session.execute(statement)).scalar_one())


async def waiting_for_staff(
    session: AsyncSession, principal: Principal, today: dt.date, *, limit: int = 50
) -> list[Waiting]:
    """Organisations to verify, and incubation terms past their planned end."""
    unverified = select(Organisation.id, Organisation.name, Organisation.created_at).where(
        Organisation.verified_at.is_(None)
    )
    overdue = (
        select(IncubationStay.id, Organisation.id, Organisation.name, IncubationStay.planned_end)
        .join(Organisation, Organisation.id == IncubationStay.organisation_id)
        .where(
            IncubationStay.is_active.is_(True),
            IncubationStay.planned_end.is_not(None),
            IncubationStay.planned_end < today,
        )
    )
    if not principal.sees_all_centres:
        unverified = unverified.where(Organisation.centre_id == principal.centre_id)
        overdue = overdue.where(IncubationStay.centre_id == principal.centre_id)
    items = [
        Waiting("verify_organisation", name, f"/organisations/{org_id}", since=created)
        for org_id, name, created in (
            await session.execute(unverified.order_by(Organisation.created_at).limit(limit))
        )
    ]
    items += [
        Waiting("incubation_overdue", name, f"/organisations/{org_id}#stay-{stay_id}", due=planned_end)
        for stay_id, org_id, name, planned_end in (
            await session.execute(overdue.order_by(IncubationStay.planned_end).limit(limit))
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
    rows = await session.execute(
        select(
            Organisation.centre_id,
            func.count(Organisation.id),
            func.count(Organisation.id).filter(Organisation.verified_at.is_(None)),
        ).group_by(Organisation.centre_id)
    )
    counts = {centre_id: (int(total), int(unverified)) for centre_id, total, unverified in rows}
    stays = dict(
        (
            await session.execute(
                select(IncubationStay.centre_id, func.count(IncubationStay.id))
                .where(IncubationStay.state == StayState.incubating)
                .group_by(IncubationStay.centre_id)
            )
        ).all()
    )
    return {
        centre_id: CentreOrganisations(
            counts.get(centre_id, (0, 0))[0], counts.get(centre_id, (0, 0))[1], int(stays.get(centre_id, 0))
        )
        for centre_id in set(counts) | set(stays)
    }
