"""One search box for staff: organisations, applications and projects by name or number,
found in SQL within the caller's centre, a page at a time."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response

from api.deps import CurrentPrincipal, SessionDep
from api.pages.grant_pages import grant_labels
from api.routing import Router
from api.web import render
from core.errors import Forbidden
from core.i18n import N_, _
from core.identity.models import Role
from core.repository import PageParams
from core.repository.listing import SortOrder
from grants.applications import repository as application_queries
from grants.applications import service as application_service
from grants.applications.repository import ApplicationListFilters
from grants.awards import repository as award_queries
from grants.awards import service as award_service
from grants.awards.repository import AwardListFilters
from incubator import service as incubator
from incubator.repository import OrganisationFilters

router = Router(include_in_schema=False)

KINDS = {
    "organisations": N_("Organisations"),
    "applications": N_("Applications"),
    "awards": N_("Projects"),
}
OVERVIEW_SIZE = 10
KIND_SIZE = 50


@router.get("/search")
async def search(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        raise Forbidden(_("Your role does not allow this"))
    params = request.query_params
    q = (params.get("q") or "").strip()[:100]
    kind = params.get("kind") if params.get("kind") in KINDS else None
    number = params.get("page", "1")
    page = int(number) if number.isdigit() and 0 < int(number) <= 10_000 else 1
    sections: list[dict[str, Any]] = []
    if q:
        for key in KINDS if kind is None else [kind]:
            paging = (
                PageParams(page=page, page_size=KIND_SIZE)
                if kind
                else PageParams(page=1, page_size=OVERVIEW_SIZE)
            )
            if key == "organisations":
                found: Any = await incubator.list_organisations(
                    session, principal, OrganisationFilters(q=q), paging, SortOrder("name")
                )
            elif key == "applications":
                repository = await application_service.application_repository(session, principal)
                found = await application_queries.list_application_rows(
                    repository, ApplicationListFilters(q=q), SortOrder("number", descending=True), paging
                )
            else:
                award_repository = await award_service.award_repository(session, principal)
                found = await award_queries.list_award_rows(
                    award_repository, AwardListFilters(q=q), SortOrder("number", descending=True), paging
                )
            sections.append(
                {
                    "kind": key,
                    "label": _(KINDS[key]),
                    "page": found,
                    "all_url": "/search?" + urlencode({"q": q, "kind": key}),
                    "page_url": lambda n, key=key: "/search?" + urlencode({"q": q, "kind": key, "page": n}),
                }
            )
    return render(
        request,
        "web/search.html",
        {"q": q, "kind": kind, "sections": sections, "kinds": KINDS, **grant_labels()},
    )
