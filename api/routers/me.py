from __future__ import annotations

from pydantic import BaseModel

from api.deps import CurrentPrincipal, SessionDep
from api.routing import Router
from core.identity import service as identity
from core.identity.models import Role


class CentreBrief(BaseModel):
    id: int
    slug: str
    name: str


class MeResponse(BaseModel):
    id: int
    email: str
    full_name: str
    roles: list[Role]
    is_district: bool
    locale: str | None
    centre: CentreBrief | None


router = Router(prefix="/api/v1", tags=["auth"])


@router.get("/me", response_model=MeResponse)
async def me(session: SessionDep, principal: CurrentPrincipal) -> MeResponse:
    centre = None
    if principal.centre_id is not None:
        c = await identity.get_centre(session, principal.centre_id)
        centre = CentreBrief(id=c.id, slug=c.slug, name=c.name)
    return MeResponse(
        id=principal.user_id,
        email=principal.email,
        full_name=principal.full_name,
        roles=sorted(principal.roles),
        is_district=principal.is_district,
        locale=principal.locale,
        centre=centre,
    )
