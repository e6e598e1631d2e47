"""What the pages of the grant aggregates share: flash messages, the labels their templates
show, the reader of repeating table rows, and the money readers' check."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from core.clock import today
from core.errors import Forbidden
from core.i18n import N_, _, current_locale
from core.identity.models import Role
from core.identity.principal import Principal
from grants.applications.models import (
    APPLICATION_STATE_LABELS,
    BUDGET_CATEGORY_LABELS,
    ApplicationState,
    BudgetCategory,
    FundedBy,
    IndicatorKind,
)
from grants.awards.models import (
    AWARD_STATE_LABELS,
    PURPOSE_LABELS,
    REVIEW_STATE_LABELS,
    TRANCHE_STATE_LABELS,
    EvaluationPurpose,
)
from grants.contracts.models import (
    CONDITION_LABELS,
    CONTRACT_STATE_LABELS,
    MILESTONE_STATE_LABELS,
    PROCUREMENT_LABELS,
    MilestoneCondition,
    ProcurementMethod,
)
from grants.disbursements.models import DISBURSEMENT_STATE_LABELS
from grants.programmes.models import (
    PROGRAMME_STATE_LABELS,
    TRIGGER_LABELS,
    ProgrammeKind,
    TrancheTrigger,
)
from incubator.models import FIELD_LABELS, ServiceField

FLASH = {
    "saved": N_("Saved."),
    "submitted": N_("Submitted. The eligibility checks are shown below."),
    "done": N_("Done."),
    "objection": N_("Your objection is recorded; the centre will look into it."),
    "attached": N_("The attachment is added."),
    "detached": N_("The attachment is removed."),
    "requested": N_("The disbursement is requested; finance will review it."),
    "approved": N_("The disbursement is approved."),
    "rejected": N_("The disbursement is rejected."),
    "paid": N_("The payment is recorded."),
    "already": N_("This form was already sent and recorded; nothing was done twice."),
    "signed": N_("The agreement is recorded as signed."),
    "report": N_("The progress report is submitted."),
    "claim": N_("The expense claim is submitted."),
    "reviewed": N_("The review is recorded."),
    "state": N_("The project is updated."),
    "contract": N_("The contract is updated."),
}
EVENT_LABELS = {
    "sign": N_("Agreement signed"),
    "evaluation_passed": N_("Evaluation passed"),
    "rectify": N_("Rectification"),
    "terminate": N_("Terminated"),
    "close": N_("Completed"),
    "paid": N_("Payment"),
    "progress_report": N_("Progress report submitted"),
    "progress_report_resubmitted": N_("Progress report resubmitted"),
    "progress_report_approved": N_("Progress report approved"),
    "progress_report_returned": N_("Progress report returned"),
    "expense_claim": N_("Expense claim submitted"),
    "expense_claim_resubmitted": N_("Expense claim resubmitted"),
    "expense_claim_approved": N_("Expense claim approved"),
    "expense_claim_returned": N_("Expense claim returned"),
}


def flash(request: Request) -> str | None:
    """The message named by ``?msg=`` after a redirect, in the user's language."""
    key = request.query_params.get("msg")
    return _(FLASH[key]) if key in FLASH else None


def back(path: str, msg: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?msg={msg}", status_code=303)


_LABELS: dict[str, dict[str, Any]] = {}


def grant_labels() -> dict[str, Any]:
    """State, category and choice labels for the grant pages' templates (translated once
    per language: the templates only read them), and today's date."""
    locale = current_locale()
    labels = _LABELS.get(locale)
    if labels is None:
        labels = _LABELS[locale] = _translated_labels()
    return {**labels, "today": today()}


def _translated_labels() -> dict[str, Any]:
    return {
        "app_state_label": {k.value: _(v) for k, v in APPLICATION_STATE_LABELS.items()},
        "prog_state_label": {k.value: _(v) for k, v in PROGRAMME_STATE_LABELS.items()},
        "budget_categories": [(c.value, _(BUDGET_CATEGORY_LABELS[c])) for c in BudgetCategory],
        "budget_label": {k.value: _(v) for k, v in BUDGET_CATEGORY_LABELS.items()},
        "trigger_label": {k.value: _(v) for k, v in TRIGGER_LABELS.items()},
        "triggers": [(t.value, _(TRIGGER_LABELS[t])) for t in TrancheTrigger],
        "funded_by": [(FundedBy.grant.value, _("Grant")), (FundedBy.cofunding.value, _("Co-funding"))],
        "indicator_kinds": [
            (IndicatorKind.output.value, _("Output")),
            (IndicatorKind.outcome.value, _("Outcome")),
        ],
        "kinds": [
            (ProgrammeKind.venture.value, _("Venture philanthropy")),
            (ProgrammeKind.micro.value, _("Micro grants")),
        ],
        "app_states": [(s.value, _(APPLICATION_STATE_LABELS[s])) for s in ApplicationState],
        "award_state": {k.value: _(v) for k, v in AWARD_STATE_LABELS.items()},
        "tranche_state": {k.value: _(v) for k, v in TRANCHE_STATE_LABELS.items()},
        "disbursement_state": {k.value: _(v) for k, v in DISBURSEMENT_STATE_LABELS.items()},
        "review_state": {k.value: _(v) for k, v in REVIEW_STATE_LABELS.items()},
        "purpose_label": {k.value: _(v) for k, v in PURPOSE_LABELS.items()},
        "category_label": {k.value: _(v) for k, v in BUDGET_CATEGORY_LABELS.items()},
        "purposes": [(p.value, _(PURPOSE_LABELS[p])) for p in EvaluationPurpose],
        "grade_label": {code: _(label) for code, label in GRADE_CHOICES},
        "event_label": {k: _(v) for k, v in EVENT_LABELS.items()},
        "contract_state": {k.value: _(v) for k, v in CONTRACT_STATE_LABELS.items()},
        "milestone_state": {k.value: _(v) for k, v in MILESTONE_STATE_LABELS.items()},
        "condition_label": {k.value: _(v) for k, v in CONDITION_LABELS.items()},
        "conditions": [(c.value, _(CONDITION_LABELS[c])) for c in MilestoneCondition],
        "procurement_label": {k.value: _(v) for k, v in PROCUREMENT_LABELS.items()},
        "procurement_methods": [(m.value, _(PROCUREMENT_LABELS[m])) for m in ProcurementMethod],
        "service_fields": [(f.value, _(FIELD_LABELS[f])) for f in ServiceField],
        "field_label": {k.value: _(v) for k, v in FIELD_LABELS.items()},
    }


def table_rows(
    form: FormData, prefix: str, fields: tuple[str, ...], limit: int, filled_by: tuple[str, ...] = ()
) -> list[dict[str, str]]:
    """Rows of a repeating table: ``prefix-<n>-<field>``; empty rows are skipped.

    A row counts as filled when one of ``filled_by`` (default: every field) has a value, so
    that a blank row whose selects show their first option is not read as a half-filled one.
    """
    rows: list[dict[str, str]] = []
    for n in range(limit):
        row = {f: str(form.get(f"{prefix}-{n}-{f}") or "").strip() for f in fields}
        if any(row[f] for f in filled_by or fields):
            rows.append(row)
    return rows


GRADE_CHOICES = [
    ("excellent", N_("Excellent")),
    ("good", N_("Good")),
    ("pass", N_("Pass")),
    ("fail", N_("Fail")),
]


def require_money_reader(principal: Principal) -> None:
    if not (principal.sees_all_centres or principal.has(Role.staff, Role.finance, Role.admin)):
        raise Forbidden(_("Your role does not allow this"))
