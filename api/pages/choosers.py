"""Choosers search on the server: a form offers the first matches of what is typed, never a
whole table. Each answers ``{"items": [{"id": …, "label": …}]}`` for the small script that
refreshes a chooser's options as one types (``seedbed.js``); without the script, the form's
"Find" button reloads the page with the same search."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import JSONResponse

from api.deps import CurrentPrincipal, SessionDep, require_roles
from api.routing import Router
from core.identity import repository as identity_queries
from core.identity.models import Role
from core.identity.principal import Principal
from grants.applications.repository import programme_choices
from grants.awards.repository import awards_of_centre
from grants.contracts.repository import contracts_of_centre
from incubator.repository import OrganisationRepository, organisation_choices

router = Router(include_in_schema=False)

Search = Annotated[str, Query(max_length=100)]
CentreReader = Annotated[Principal, Depends(require_roles(Role.staff, Role.admin, Role.finance))]


def _answer(rows: list[tuple[int, str]]) -> JSONResponse:
    return JSONResponse({"items": [{"id": i, "label": label} for i, label in rows]})


@router.get("/choosers/organisations")
async def choose_organisation(
    session: SessionDep, principal: CurrentPrincipal, q: Search = ""
) -> JSONResponse:
    """The organisations the caller sees (staff: the centre's; applicants: their own)."""
    return _answer(await organisation_choices(OrganisationRepository(session, principal), q))


@router.get("/choosers/programmes")
async def choose_programme(session: SessionDep, principal: CurrentPrincipal, q: Search = "") -> JSONResponse:
    """The programmes of the caller's centre (every centre's for a district reader), newest
    first: the programme filter of the lists."""
    return _answer(await programme_choices(session, principal, q))


@router.get("/choosers/awards")
async def choose_award(session: SessionDep, principal: CentreReader, q: Search = "") -> JSONResponse:
    if principal.centre_id is None:
        return _answer([])
    return _answer(await awards_of_centre(session, principal.centre_id, q))


@router.get("/choosers/contracts")
async def choose_contract(session: SessionDep, principal: CentreReader, q: Search = "") -> JSONResponse:
    if principal.centre_id is None:
        return _answer([])
    return _answer(await contracts_of_centre(session, principal.centre_id, q))


@router.get("/choosers/users")
async def choose_user(session: SessionDep, principal: CentreReader, q: Search = "") -> JSONResponse:
    """The active users of the caller's centre (a report schedule's recipients)."""
    return _answer(await identity_queries.user_choices(session, principal, q))
