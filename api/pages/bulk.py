"""Bulk actions where work comes in batches: confirm the eligibility of several applications,
assign evaluators by checkbox in a round, request several due tranches at once.

Each ticked item goes through the same service call as the single action, in a savepoint of
its own (its own compare-and-set): one refused item never undoes another. The first post
shows a confirmation naming how many items and what will happen; the confirmed post shows
what was done and what was refused, and why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from api.deps import CurrentPrincipal, IdPath, SessionDep, StaffUser
from api.pages.forms import read_form
from api.pages.grant_pages import grant_labels
from api.pages.listing import selected_ids
from api.routers import evaluations as evaluations_api
from api.routing import Router
from api.web import render
from core.errors import DomainError, Forbidden, ValidationFailed
from core.i18n import _, ngettext
from core.identity import repository as identity_queries
from core.identity.models import Role
from core.identity.principal import Principal
from core.money import format_money
from evaluations.assignments import service as assignment_service
from evaluations.assignments.schemas import AssignmentCreate
from evaluations.results import service as result_service
from grants.applications import repository as application_queries
from grants.applications import service as application_service
from grants.awards import repository as award_queries
from grants.disbursements import service as disbursement_service
from grants.disbursements.schemas import DisbursementCreate

router = Router(include_in_schema=False)

Outcome = tuple[list[tuple[str, str]], list[tuple[str, str]]]


async def run_each(session: AsyncSession, items: list[tuple[str, Callable[[], Awaitable[Any]]]]) -> Outcome:
    """Run each action in its own savepoint; collect what succeeded and what was refused."""
    done: list[tuple[str, str]] = []
    refused: list[tuple[str, str]] = []
    for label, action in items:
        try:
            async with session.begin_nested():
                note = await action()
        except DomainError as exc:
            details = "；".join(d.message for d in exc.details if d.message != exc.message)
            refused.append((label, f"{exc.message}{'；' + details if details else ''}"))
        except StaleDataError:
            refused.append((label, _("Someone else changed it at the same moment; nothing was done")))
        else:
            done.append((label, note if isinstance(note, str) else ""))
    return done, refused


def _require_staff_writer(principal: Principal) -> None:
    if not principal.has(Role.staff) or principal.read_only:
        raise Forbidden(_("Only centre staff may do this"))


def _nothing_chosen(field: str) -> ValidationFailed:
    return ValidationFailed.field(field, _("Tick at least one item first"))


def _confirm(
    request: Request,
    *,
    title: str,
    message: str,
    items: list[str],
    action: str,
    hidden: list[tuple[str, int]],
    back: str,
    button: str,
) -> Response:
    return render(
        request,
        "web/bulk_confirm.html",
        {
            "title": title,
            "message": message,
            "items": items,
            "action": action,
            "hidden": hidden,
            "back": back,
            "button": button,
        },
    )


def _result(request: Request, title: str, outcome: Outcome, back: str, back_label: str) -> Response:
    done, refused = outcome
    return render(
        request,
        "web/bulk_result.html",
        {"title": title, "done": done, "refused": refused, "back": back, "back_label": back_label},
    )


# --- applications: confirm eligibility --------------------------------------------------


@router.post("/applications/bulk/confirm-eligibility")
async def bulk_confirm_eligibility(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    _require_staff_writer(principal)
    form = await read_form(request)
    ids = selected_ids(form.getlist("ids"))
    if not ids:
        raise _nothing_chosen("ids")
    repository = await application_service.application_repository(session, principal)
    chosen = {a.id: a for a in await application_queries.submitted_of(repository, ids)}
    labels = {i: (f"#{i} {chosen[i].title}" if i in chosen else f"#{i}") for i in ids}
    title = _("Confirm eligibility")
    if form.get("confirmed") != "yes":
        n = len(ids)
        return _confirm(
            request,
            title=title,
            message=ngettext(
                "Confirm the eligibility of %(n)s application? It becomes eligible and goes on to "
                "review, with its automatic checks accepted as they stand. An application with a "
                "failing check is refused and left for you to decide on its own page, with a reason.",
                "Confirm the eligibility of %(n)s applications? Each becomes eligible and goes on to "
                "review, with its automatic checks accepted as they stand. An application with a "
                "failing check is refused and left for you to decide on its own page, with a reason.",
                n,
            )
            % {"n": n},
            items=[labels[i] for i in ids],
            action="/applications/bulk/confirm-eligibility",
            hidden=[("ids", i) for i in ids],
            back="/applications?state=submitted",
            button=ngettext("Confirm %(n)s application", "Confirm %(n)s applications", n) % {"n": n},
        )

    def confirm(application_id: int) -> Callable[[], Awaitable[Any]]:
        async def action() -> str:
            await application_service.confirm_as_checked(session, principal, application_id)
            return _("now eligible")

        return action

    outcome = await run_each(session, [(labels[i], confirm(i)) for i in ids])
    return _result(request, title, outcome, "/applications?state=eligible", _("Eligible applications"))


# --- review rounds: assign evaluators by checkbox ---------------------------------------


@router.post("/evaluations/rounds/{round_id:int}/bulk-assign")
async def bulk_assign(round_id: IdPath, request: Request, session: SessionDep, staff: StaffUser) -> Response:
    _require_staff_writer(staff)
    progress = await result_service.progress(session, staff, round_id)  # another centre's: 404
    form = await read_form(request)
    subject_ids = selected_ids(form.getlist("subject_ids"))
    evaluator_ids = selected_ids(form.getlist("evaluator_ids"), limit=50)
    if not subject_ids:
        raise _nothing_chosen("subject_ids")
    if not evaluator_ids:
        raise _nothing_chosen("evaluator_ids")
    subjects = {s.subject_id: s.title for s in progress.subjects}
    evaluators = await identity_queries.user_names(
        session, evaluator_ids, None if staff.sees_all_centres else staff.centre_id
    )
    back = f"/evaluations/rounds/{round_id}"
    title = _("Assign evaluators")
    pairs = [(s, e) for s in subject_ids for e in evaluator_ids]
    if form.get("confirmed") != "yes":
        return _confirm(
            request,
            title=title,
            message=_(
                "Assign {evaluators} evaluator(s) to each of {subjects} subject(s): {pairs} assignments. "
                "Each evaluator is asked to declare conflicts and score; a pair with a conflict of "
                "interest or an existing assignment is refused."
            ).format(evaluators=len(evaluator_ids), subjects=len(subject_ids), pairs=len(pairs)),
            items=[f"{subjects.get(s, '#' + str(s))} ← {evaluators.get(e, '#' + str(e))}" for s, e in pairs],
            action=f"/evaluations/rounds/{round_id}/bulk-assign",
            hidden=[("subject_ids", s) for s in subject_ids] + [("evaluator_ids", e) for e in evaluator_ids],
            back=back,
            button=_("Make {n} assignments").format(n=len(pairs)),
        )

    def assign(subject_id: int, evaluator_id: int) -> Callable[[], Awaitable[Any]]:
        async def action() -> None:
            data = AssignmentCreate(subject_id=subject_id, evaluator_id=evaluator_id)
            await assignment_service.assign(session, staff, round_id, data, evaluations_api.membership_lookup)

        return action

    outcome = await run_each(
        session,
        [
            (f"{subjects.get(s, '#' + str(s))} ← {evaluators.get(e, '#' + str(e))}", assign(s, e))
            for s, e in pairs
        ],
    )
    return _result(request, title, outcome, back, _("Back to the round"))


# --- tranches: request several due tranches at once -------------------------------------


@router.get("/tranches/due")
async def due_tranches(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Response:
    if not (principal.has(Role.staff, Role.finance, Role.admin) or principal.sees_all_centres):
        raise Forbidden(_("Your role does not allow this"))
    rows = await award_queries.due_tranche_rows(session, principal)
    return render(
        request,
        "web/awards/due_tranches.html",
        {
            "rows": rows,
            "can_request": principal.has(Role.staff) and not principal.read_only,
            **grant_labels(),
        },
    )


@router.post("/tranches/due/request")
async def bulk_request_tranches(
    request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    _require_staff_writer(principal)
    form = await read_form(request)
    ids = selected_ids(form.getlist("tranche_ids"))
    if not ids:
        raise _nothing_chosen("tranche_ids")
    found = {
        t.id: (t, award_title)
        for t, award_title in await award_queries.tranches_with_awards(session, principal, ids)
    }
    labels = {
        i: (
            _("{project} · tranche {seq} · {amount} yuan").format(
                project=found[i][1], seq=found[i][0].seq, amount=format_money(found[i][0].amount)
            )
            if i in found
            else f"#{i}"
        )
        for i in ids
    }
    title = _("Request disbursements")
    if form.get("confirmed") != "yes":
        total = sum((found[i][0].amount for i in ids if i in found), start=0)
        n = len(ids)
        return _confirm(
            request,
            title=title,
            message=ngettext(
                "Ask finance to pay %(n)s tranche, %(total)s yuan? Each becomes a disbursement request "
                "for a finance officer other than you to approve.",
                "Ask finance to pay %(n)s tranches, %(total)s yuan in all? Each becomes a disbursement "
                "request for a finance officer other than you to approve.",
                n,
            )
            % {"n": n, "total": format_money(total)},
            items=[labels[i] for i in ids],
            action="/tranches/due/request",
            hidden=[("tranche_ids", i) for i in ids],
            back="/tranches/due",
            button=ngettext("Request %(n)s disbursement", "Request %(n)s disbursements", n) % {"n": n},
        )

    def request_one(tranche_id: int) -> Callable[[], Awaitable[Any]]:
        async def action() -> str:
            d = await disbursement_service.request_disbursement(
                session, principal, DisbursementCreate(tranche_id=tranche_id)
            )
            return _("disbursement No. {id} awaits finance").format(id=d.id)

        return action

    outcome = await run_each(session, [(labels[i], request_one(i)) for i in ids])
    return _result(
        request, title, outcome, "/disbursements?state=requested", _("Disbursements awaiting approval")
    )
