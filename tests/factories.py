"""Small factory functions for test data."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.models import Centre, Role, TokenKind, User
from core.identity.principal import Principal
from core.identity.schemas import CentreCreate, UserCreate

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)


@dataclass
class Actor:
    user: User
    principal: Principal
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_centre(
    session: AsyncSession, slug: str | None = None, name: str = "测试街道孵化中心"
) -> Centre:
    n = next(_counter)
    return await identity.create_centre(
        session, CentreCreate(slug=slug or f"centre-{n}", name=f"{name}{n}"), actor=None
    )


async def make_user(
    session: AsyncSession,
    centre: Centre | None,
    *roles: Role,
    email: str | None = None,
    district: bool = False,
    locale: str | None = None,
    community_id: int | None = None,
) -> Actor:
    n = next(_counter)
    user = await identity.create_user(
        session,
        UserCreate(
            email=email or f"user{n}@example.org",
            password=PASSWORD,
            full_name=f"用户{n}",
            roles=list(roles) or [Role.staff],
            centre_id=centre.id if centre else None,
            is_district=district,
            locale=locale,
            community_id=community_id,
        ),
        actor=None,
    )
    token = await identity.issue_token(session, user, TokenKind.api, 60)
    loaded = await identity_queries.get_user(session, user.id)
    assert loaded is not None
    return Actor(user=loaded, principal=identity.principal_of(loaded), token=token)
