"""One dashboard panel per role, with real counts and links (registered on import).

Each panel answers ``None`` for a user without its role; the figures come from each
domain's ``dashboard`` module in a few grouped queries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.pages.shell import register_dashboard_panel
from core.clock import today
from core.i18n import _
from core.identity.dashboard import admin_figures
from core.identity.models import ROLE_LABELS, Role
from core.identity.principal import Principal
from evaluations import dashboard as evaluation_figures
from evaluations.assignments.models import ASSIGNMENT_STATE_LABELS
from grants import dashboard as grants_figures
from grants.applications.models import APPLICATION_STATE_LABELS
from grants.awards.models import AWARD_STATE_LABELS, TRANCHE_STATE_LABELS
from grants.programmes.models import TRIGGER_LABELS
from incubator import dashboard as incubator_figures
from incubator import repository as incubator_queries
from incubator.models import STAY_LABELS


async def staff_panel(session: AsyncSession, principal: Principal) -> dict[str, Any] | None:
    if not principal.has(Role.staff):
        return None
    grants = await grants_figures.staff_figures(session, principal)
    return {
        "template": "web/panels/staff.html",
        "awaiting_verification": await incubator_figures.awaiting_verification(session, principal),
        "grants": grants,
        "rounds": await evaluation_figures.open_rounds(session, principal),
    }


async def applicant_panel(session: AsyncSession, principal: Principal) -> dict[str, Any] | None:
    if not principal.has(Role.applicant):
        return None
    organisations = await incubator_queries.organisations_of(session, principal.user_id)
    names = {o.id: o.name for o in organisations}
    figures = await grants_figures.applicant_figures(session, list(names), dt.datetime.now(dt.UTC))
    return {
        "template": "web/panels/applicant.html",
        "organisations": organisations,
        "names": names,
        "figures": figures,
        "stay_labels": {k.value: _(v) for k, v in STAY_LABELS.items()},
        "application_states": {k.value: _(v) for k, v in APPLICATION_STATE_LABELS.items()},
        "award_states": {k.value: _(v) for k, v in AWARD_STATE_LABELS.items()},
        "tranche_states": {k.value: _(v) for k, v in TRANCHE_STATE_LABELS.items()},
        "triggers": {k.value: _(v) for k, v in TRIGGER_LABELS.items()},
    }


async def finance_panel(session: AsyncSession, principal: Principal) -> dict[str, Any] | None:
    if not principal.has(Role.finance):
        return None
    return {
        "template": "web/panels/finance.html",
        "figures": await grants_figures.finance_figures(session, principal, today()),
    }


async def evaluator_panel(session: AsyncSession, principal: Principal) -> dict[str, Any] | None:
    if not principal.has(Role.evaluator):
        return None
    return {
        "template": "web/panels/evaluator.html",
        "assignments": await evaluation_figures.my_open_assignments(session, principal),
        "assignment_states": {k.value: _(v) for k, v in ASSIGNMENT_STATE_LABELS.items()},
    }


async def admin_panel(session: AsyncSession, principal: Principal) -> dict[str, Any] | None:
    if not principal.has(Role.admin):
        return None
    return {
        "template": "web/panels/admin.html",
        "figures": await admin_figures(session, principal),
        "role_names": {k.value: _(v) for k, v in ROLE_LABELS.items()},
    }


for _panel in (staff_panel, applicant_panel, finance_panel, evaluator_panel, admin_panel):
    register_dashboard_panel(_panel)
