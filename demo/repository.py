"""Queries of the demo street loaders: finding again what an earlier loader created."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grants.awards.models import Award
from incubator.models import MemberRole, Organisation, OrganisationMember


async def first_owner_id(session: AsyncSession, organisation_id: int) -> int:
    return (
        await session.execute(
            select(OrganisationMember.user_id)
            .where(
                OrganisationMember.organisation_id == organisation_id,
                OrganisationMember.role == MemberRole.owner,
            )
            .order_by(OrganisationMember.id)
        )
    ).scalar_one()


async def owner_id(session: AsyncSession, organisation_id: int) -> int | None:
    return (
        await session.execute(
            select(OrganisationMember.user_id).where(
                OrganisationMember.organisation_id == organisation_id,
                OrganisationMember.role == MemberRole.owner,
            )
        )
    ).scalar_one_or_none()


async def awards_of_centre(session: AsyncSession, centre_id: int) -> list[Award]:
    return list(
        (
            await session.execute(select(Award).where(Award.centre_id == centre_id).order_by(Award.id))
        ).scalars()
    )


async def organisation_named(session: AsyncSession, centre_id: int, name: str) -> Organisation:
    return (
        await session.execute(
            select(Organisation).where(Organisation.centre_id == centre_id, Organisation.name == name)
        )
    ).scalar_one()


async def organisations_of_centre(session: AsyncSession, centre_id: int) -> Sequence[Organisation]:
    return (
        (await session.execute(select(Organisation).where(Organisation.centre_id == centre_id)))
        .scalars()
        .all()
    )
