"""The to-do list every role's dashboard opens on, and the district's side-by-side view.

Items come from each domain's ``dashboard`` module as ``core.todo.Waiting``; this module
puts the ones for the user's roles in one list, sorted by urgency, each saying what it is
and linking to where it is done.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import today
from core.i18n import N_, gettext
from core.identity import repository as identity_queries
from core.identity.accounts import service as accounts
from core.identity.models import Role
from core.identity.principal import Principal
from core.settings import get_settings
from core.todo import Waiting, by_urgency
from evaluations import dashboard as evaluation_figures
from grants import dashboard as grants_figures
from incubator import dashboard as incubator_figures
from incubator import repository as incubator_queries

KIND_LABELS: dict[str, str] = {
    "verify_organisation": N_("Organisation to verify"),
    "incubation_overdue": N_("Incubation term past its planned end"),
    "confirm_eligibility": N_("Eligibility to confirm"),
    "review_progress_report": N_("Progress report to review"),
    "review_expense_claim": N_("Expense claim to review"),
    "tranche_due": N_("Tranche due without a request"),
    "resolve_objection": N_("Objection to resolve"),
    "approve_disbursement": N_("Disbursement to approve"),
    "pay_disbursement": N_("Disbursement to pay"),
    "score_sheet": N_("Score sheet to fill in"),
    "correct_application": N_("Application returned for correction"),
    "resubmit_progress_report": N_("Progress report returned"),
    "resubmit_expense_claim": N_("Expense claim returned"),
    "progress_report_due": N_("Progress report due"),
    "unlock_account": N_("Locked-out account"),
}


def _detail(item: Waiting) -> str:
    if item.kind == "tranche_due" and "|" in item.detail:
        seq, amount = item.detail.split("|", 1)
        return gettext("Tranche {seq}, {amount} yuan").format(seq=seq, amount=amount)
    if item.kind in ("approve_disbursement", "pay_disbursement"):
        return gettext("{amount} yuan").format(amount=item.detail)
    return item.detail


def _when(item: Waiting, on: dt.date) -> tuple[str, str]:
    """(words, css class): how urgent it is, said plainly."""
    overdue = item.overdue_days(on)
    if overdue:
        return gettext("{n} days overdue (due {date})").format(n=overdue, date=item.due), "fail"
    if item.due is not None:
        left = (item.due - on).days
        if left == 0:
            return gettext("Due today"), "warn"
        return gettext("Due {date} (in {n} days)").format(date=item.due, n=left), "warn" if left <= 3 else ""
    waited = item.waiting_days(on)
    if waited is None:
        return "", ""
    if waited == 0:
        return gettext("Waiting since today"), ""
    return gettext("Waiting {n} days").format(n=waited), ""


async def waiting_for(session: AsyncSession, principal: Principal) -> list[Waiting]:
    if principal.read_only:
        return []
    on = today()
    items: list[Waiting] = []
    if principal.has(Role.staff):
        items += await incubator_figures.waiting_for_staff(session, principal, on)
        items += await grants_figures.waiting_for_staff(session, principal)
    if principal.has(Role.finance):
        finance = await grants_figures.waiting_for_finance(session, principal)
        seen = {(i.kind, i.link) for i in items}
        items += [i for i in finance if (i.kind, i.link) not in seen]
    if principal.has(Role.evaluator):
        items += await evaluation_figures.waiting_for_evaluator(session, principal)
    if principal.has(Role.applicant):
        organisations = await incubator_queries.organisations_of(session, principal.user_id)
        items += await grants_figures.waiting_for_applicant(
            session, [o.id for o in organisations], dt.datetime.now(dt.UTC)
        )
    if principal.has(Role.admin):
        items += [
            Waiting(
                "unlock_account",
                lock.user.full_name or lock.user.email,
                f"/users/{lock.user.id}",
                since=lock.last_failure,
            )
            for lock in await accounts.lockouts(session, get_settings(), principal)
        ]
    return by_urgency(items, on)


async def todo_panel(session: AsyncSession, principal: Principal) -> dict[str, Any] | None:
    if principal.read_only:
        return None
    on = today()
    rows = []
    for item in await waiting_for(session, principal):
        when, urgency = _when(item, on)
        rows.append(
            {
                "item": item,
                "label": gettext(KIND_LABELS.get(item.kind, item.kind)),
                "detail": _detail(item),
                "when": when,
                "urgency": urgency,
            }
        )
    return {"template": "web/panels/todo.html", "rows": rows}


async def district_panel(session: AsyncSession, principal: Principal) -> dict[str, Any] | None:
    """Centres side by side for a district reader: organisations, incubation, grants, money."""
    if not principal.is_district:
        return None
    organisations = await incubator_figures.per_centre(session)
    grants = await grants_figures.per_centre(session)
    centres = [(c.id, c.name) for c in await identity_queries.list_centres(session)]
    return {
        "template": "web/panels/district.html",
        "centres": [
            {"id": c_id, "name": name, "orgs": organisations.get(c_id), "grants": grants.get(c_id)}
            for c_id, name in centres
        ],
    }
