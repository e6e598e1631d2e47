from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from pydantic import BaseModel

from api.deps import CurrentPrincipal, SessionDep, SettingsDep, client_address
from api.routing import Router
from core.identity import repository as identity_queries
from core.identity import service as identity
from core.identity.models import TokenKind
from core.identity.schemas import TokenResponse

router = Router(prefix="/api/v1", tags=["auth"])


@router.post("/auth/token", response_model=TokenResponse)
async def login_for_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(min_length=1, max_length=254)],
    password: Annotated[str, Form(min_length=1, max_length=128)],
) -> TokenResponse:
    """OAuth2 password flow: the email as ``username``, answers an expiring bearer token."""
    user = await identity.authenticate(session, settings, username, password, client_address(request))
    token = await identity.issue_token(session, user, TokenKind.api, settings.access_token_minutes)
    return TokenResponse(access_token=token, expires_in=settings.access_token_minutes * 60)


class Revoked(BaseModel):
    revoked: bool


@router.post("/auth/revoke", response_model=Revoked)
async def revoke(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Revoked:
    """Log out: revoke the bearer token this request carries."""
    authorization = request.headers.get("authorization", "")
    raw = authorization[7:].strip() if authorization.lower().startswith("bearer ") else ""
    raw = raw or request.cookies.get("seedbed_session", "")
    return Revoked(revoked=await identity_queries.revoke_token(session, raw))
