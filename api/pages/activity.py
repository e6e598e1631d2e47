"""The audit feed in words: what happened to what, with a link to it.

``audit_words(event)`` is a template global; an action it does not know is shown as
recorded, never hidden.
"""

from __future__ import annotations

from typing import Protocol

from core.audit import AuditEvent
from core.i18n import N_, gettext, pgettext
from core.identity.principal import Principal

SUBJECTS: dict[str, str] = {
    "application": N_("application"),
    "award": N_("project"),
    "organisation": N_("organisation"),
    "contract": N_("contract"),
    "disbursement": N_("disbursement"),
    "programme": N_("programme"),
    "user": N_("account"),
    "centre": N_("centre"),
    "review_round": N_("review round"),
    "stay": N_("incubation stay"),
    "objection": N_("objection"),
    "report": N_("report"),
    "report_schedule": N_("report schedule"),
    "assignment": N_("assignment"),
    "score_sheet": N_("score sheet"),
    "rubric": N_("rubric"),
}

LINKS: dict[str, str] = {
    "application": "/applications/{id}",
    "award": "/awards/{id}",
    "organisation": "/organisations/{id}",
    "contract": "/contracts/{id}",
    "programme": "/programmes/{id}",
    "user": "/users/{id}",
    "review_round": "/evaluations/rounds/{id}",
}

VERBS: dict[str, str] = {
    "create": N_("created"),
    "update": N_("updated"),
    "submit": N_("submitted"),
    "withdraw": N_("withdrew"),
    "return": N_("returned for correction"),
    "confirm_eligibility": N_("confirmed the eligibility of"),
    "start_review": N_("started the review of"),
    "decide": N_("recorded the decision on"),
    "publicise": N_("put into publicity"),
    "award": N_("awarded"),
    "sign": N_("recorded the signed agreement of"),
    "start": N_("started"),
    "evaluate": N_("evaluated"),
    "complete": N_("completed"),
    "terminate": N_("terminated"),
    "close": N_("closed"),
    "open": N_("opened"),
    "request": N_("requested"),
    "approve": N_("approved"),
    "reject": N_("rejected"),
    "pay": N_("recorded the payment of"),
    "paid": N_("recorded the payment of"),
    "verify": N_("verified"),
    "bar": N_("barred"),
    "lift_bar": N_("lifted the bar on"),
    "signup": N_("signed up"),
    "join": N_("joined"),
    "invite_member": N_("invited a member to"),
    "invite_owner": N_("invited the owner of"),
    "remove_member": N_("removed a member from"),
    "assess": N_("assessed"),
    "admit": N_("admitted"),
    "extend": N_("extended"),
    "graduate": N_("graduated"),
    "exit": N_("recorded the exit of"),
    "unlock": N_("unlocked"),
    "reset_link": N_("made a password reset link for"),
    "reset_requested": N_("was asked for a password reset link for"),
    "password_reset": N_("set a new password for"),
    "grant_finance": N_("gave the finance role to"),
    "progress_report": N_("filed a progress report on"),
    "expense_claim": N_("filed an expense claim on"),
    "review_progress_report": N_("reviewed a progress report of"),
    "review_expense_claim": N_("reviewed an expense claim of"),
    "rectify": N_("opened rectification of"),
    "upheld": N_("upheld an objection to"),
    "dismissed": N_("dismissed an objection to"),
    "lodge": N_("lodged"),
    "generate": N_("generated"),
    "document": N_("added a document to"),
    "evaluation_passed": N_("recorded a passed evaluation of"),
    "evaluation_failed": N_("recorded a failed evaluation of"),
    "progress_report_approved": N_("approved a progress report of"),
    "progress_report_returned": N_("returned a progress report of"),
    "progress_report_resubmitted": N_("resubmitted a progress report on"),
    "expense_claim_approved": N_("approved an expense claim of"),
    "expense_claim_returned": N_("returned an expense claim of"),
    "expense_claim_resubmitted": N_("resubmitted an expense claim on"),
    "objection_upheld": N_("upheld an objection to"),
    "review": N_("recorded the review result of"),
    "run": N_("ran"),
    "add_topic": N_("added a topic to"),
    "bank_account": N_("changed the bank account of"),
}


class Names(Protocol):
    def subject(self, event: AuditEvent) -> str | None: ...


def audit_words(event: AuditEvent, names: Names | None = None) -> str:
    """'recorded the decision on application “银龄互助”' in the reader's language; the id
    (application #12) only where the record has no name to show."""
    _kind, _dot, verb = event.action.partition(".")
    subject = gettext(SUBJECTS[event.subject_type]) if event.subject_type in SUBJECTS else event.subject_type
    said = gettext(VERBS[verb]) if verb in VERBS else f"{event.action}:"
    name = names.subject(event) if names is not None else None
    if name:
        return gettext("{verb} {subject} “{name}”").format(verb=said, subject=subject, name=name)
    return gettext("{verb} {subject} #{id}").format(verb=said, subject=subject, id=event.subject_id)


def audit_link(event: AuditEvent, reader: Principal | None = None) -> str | None:
    """Where the subject is shown, when the reader may open it (accounts: administrators only)."""
    if event.subject_type == "user" and (reader is None or not reader.is_admin):
        return None
    pattern = LINKS.get(event.subject_type)
    if pattern is None or not event.subject_id.isdigit():
        return None
    return pattern.format(id=event.subject_id)


LINK_LABELS: tuple[tuple[str, str], ...] = (
    ("/applications/", N_("Open the application")),
    ("/awards/", N_("Open the project")),
    ("/organisations/", N_("Open the organisation")),
    ("/programmes/", N_("Open the programme")),
    ("/contracts/", N_("Open the contract")),
    ("/evaluations", N_("Open your evaluations")),
    ("/finance", N_("Open the finance desk")),
    ("/reports", N_("Open the reports")),
    ("/users/", N_("Open the account")),
    ("/awards", N_("Open the projects")),
    ("/applications", N_("Open the applications")),
)


def link_label(link: str | None) -> str:
    """What a notification's link opens, said on the link itself."""
    for prefix, label in LINK_LABELS:
        if link and link.startswith(prefix):
            return gettext(label)
    return pgettext("link", "Open")
