from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Centre, Role
from incubator import service
from incubator.models import MemberRole, Organisation, OrganisationMember
from incubator.schemas import OrganisationCreate
from tests.factories import Actor, make_user

VALID_USCC = "52440106MJL0K3T50W"
VALID_USCC_2 = "91512081MA62K0260E"


def org_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "玉林社区邻里互助会",
        "kind": "community_group",
        "legal_status": "filed",
        "service_fields": ["elderly", "volunteering"],
        "community": "玉林北路社区",
        "street": "玉林街道",
        "contact_name": "刘芳",
        "contact_phone": "13800001111",
        "founded_on": "2021-05-01",
        "staff_count": 3,
        "volunteer_count": 40,
    }
    payload.update(overrides)
    return payload


async def make_org(
    session: AsyncSession, staff: Actor, *, owner: Actor | None = None, **overrides: Any
) -> Organisation:
    org = await service.create_organisation(
        session, staff.principal, OrganisationCreate(**org_payload(**overrides))
    )
    if owner is not None:
        session.add(OrganisationMember(organisation_id=org.id, user_id=owner.user.id, role=MemberRole.owner))
        await session.flush()
    return org


async def make_owner(
    session: AsyncSession, centre: Centre, staff: Actor, **overrides: Any
) -> tuple[Actor, Organisation]:
    owner = await make_user(session, centre, Role.applicant)
    org = await make_org(session, staff, owner=owner, **overrides)
    return owner, org


async def post_ok(client: httpx.AsyncClient, url: str, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(url, json=body, headers=actor.headers)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result
