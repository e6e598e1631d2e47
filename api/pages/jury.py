"""The public juror's page (大众评委, 路演): a one-time code opens one ballot, no login."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Query, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import SessionDep, SettingsDep, check_csrf, client_address
from api.pages.forms import read_form
from api.routers.evaluations import JURY_RATE_LIMIT, JURY_RATE_WINDOW_SECONDS, ballot_for_code
from api.routing import Router
from api.web import render
from core.errors import DomainError
from core.i18n import _
from core.identity import service as identity
from evaluations.jury import service as jury_service
from evaluations.rounds import service as round_service
from evaluations.rubrics import service as rubric_service
from evaluations.sheets.schemas import ScoreItemIn, SheetIn

router = Router(include_in_schema=False)


@router.get("/jury")
async def jury_entry(request: Request, code: Annotated[str, Query(max_length=64)] = "") -> Response:
    """The code form; submitted, it leads to that code's ballot."""
    if code.strip():
        return RedirectResponse(f"/jury/{quote(code.strip()[:32], safe='')}", status_code=303)
    return render(request, "web/evaluations/jury.html", {"stage": "code", "errors": {}})


@router.get("/jury/{code}")
async def jury_page(request: Request, code: str, session: SessionDep) -> Response:
    await identity.rate_limit(
        session,
        f"jury:{client_address(request)}",
        limit=JURY_RATE_LIMIT * 4,
        window_seconds=JURY_RATE_WINDOW_SECONDS,
    )
    _code, review_round, subject = await ballot_for_code(session, code[:32])
    return render(
        request,
        "web/evaluations/jury.html",
        {
            "stage": "ballot",
            "code": code[:32],
            "round_name": review_round.name,
            "subject": subject.title,
            "display": round_service.display_for(review_round, subject),
            "criteria": rubric_service.criteria_of(review_round.rubric_version),
            "errors": {},
            "values": {},
        },
    )


@router.post("/jury/{code}")
async def jury_submit(request: Request, code: str, session: SessionDep, settings: SettingsDep) -> Response:
    await check_csrf(request, settings)
    await identity.rate_limit(
        session,
        f"jury-submit:{client_address(request)}",
        limit=JURY_RATE_LIMIT,
        window_seconds=JURY_RATE_WINDOW_SECONDS,
    )
    form = await read_form(request)
    _code, review_round, subject = await ballot_for_code(session, code[:32])
    criteria = rubric_service.criteria_of(review_round.rubric_version)
    errors: dict[str, str] = {}
    items = []
    for criterion in criteria:
        raw = str(form.get(f"score-{criterion.key}") or "").strip()
        if not raw:
            continue
        try:
            items.append(ScoreItemIn(criterion_key=criterion.key, score=raw))
        except ValueError:
            errors[criterion.key] = _("Must be a whole number")
    if not errors:
        try:
            sheet = await jury_service.submit_jury_sheet(session, code[:32], SheetIn(items=items, comment=""))
            return render(
                request, "web/evaluations/jury.html", {"stage": "done", "total": sheet.total, "errors": {}}
            )
        except DomainError as exc:
            if exc.status_code not in (409, 422):
                raise
            errors = {d.field.split(".")[-1]: d.message for d in exc.details} or {"__all__": exc.message}
    return render(
        request,
        "web/evaluations/jury.html",
        {
            "stage": "ballot",
            "code": code[:32],
            "round_name": review_round.name,
            "subject": subject.title,
            "display": round_service.display_for(review_round, subject),
            "criteria": criteria,
            "errors": errors,
            "values": {k: v for k, v in form.items() if isinstance(v, str)},
        },
        status_code=422,
    )
