"""Every route of the app, tried by every kind of caller: the permission matrix.

``MATRIX`` holds one row per route, ``(method, path template)`` → expected outcome per role
(see ``world.ROLES``). Outcomes are classes, not exact statuses:

- ``OK`` (allowed): any answer other than 401/403/404 and below 500 — a 2xx, a redirect,
  or a 409/422 from the rules, which means the caller got past the access checks;
- ``401``: not logged in (pages: a 303 redirect to ``/login?next=…``);
- ``403``: logged in, wrong role or not allowed on this record;
- ``404``: the record is not visible to the caller (other centre, other organisation).

Any 5xx fails whatever the row says. A route of the app with no row fails
``test_every_route_has_a_row`` with its name; a row whose route is gone fails too.

API routes are called with bearer tokens, pages with the session cookie of a login through
``/login`` (and the CSRF token on every POST). Each call runs in a savepoint that is rolled
back afterwards, so every caller meets the same world. Unsafe calls carry a minimal valid
body (``BODIES``) so that "allowed" is really tried, not stopped by validation.

To write rows for new routes: ``PROOF_MATRIX_DUMP=1 pytest tests/proof/test_permission_matrix.py
-k sqlite -s`` prints the observed outcome of every route as rows to review and paste.
Runs on both databases (about 20 s each).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.app import create_app
from reports.briefing import KIND_CODE
from tests.conftest import test_settings
from tests.factories import PASSWORD
from tests.grants.factories import application_payload, contract_payload, programme_payload
from tests.proof.world import ROLES, World, add_http_records, build_world

OK = 200
Row = dict[str, int]

SKIPPED_PATHS = frozenset({"/api/v1/openapi.json", "/api/docs", "/docs/oauth2-redirect", "/redoc", "/static"})


def row(default: int = OK, **roles: int) -> Row:
    unknown = set(roles) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"
    return {role: roles.get(role, default) for role in ROLES}


# --- presets ------------------------------------------------------------------------------
PUBLIC = row()
LOGGED_IN = row(anon=401)
# A centre's own record (org A, its stay, its round...): others' staff do not find it.
STAFF_ONLY = row(403, anon=401, staff=OK, other_staff=404)
STAFF_OR_ADMIN = row(403, anon=401, staff=OK, admin=OK, other_staff=404)
STAFF_FINANCE_ADMIN = row(403, anon=401, staff=OK, admin=OK, finance=OK, other_staff=404)
# Collections (no record in the path): staff of any centre may call them.
STAFF_ONLY_LIST = row(403, anon=401, staff=OK, other_staff=OK)
STAFF_OR_ADMIN_LIST = row(403, anon=401, staff=OK, admin=OK, other_staff=OK)
STAFF_FINANCE_ADMIN_LIST = row(403, anon=401, staff=OK, admin=OK, finance=OK, other_staff=OK)
ADMIN_ONLY = row(403, anon=401, admin=OK)
# Org A's records: its owner, the centre's readers and admin; org B's owner does not find them.
ORG_A_READ = row(anon=401, applicant_b=404, evaluator=404, other_staff=404)
ORG_A_STAFF = row(403, anon=401, applicant_b=404, evaluator=404, staff=OK, other_staff=404)
ORG_A_OWNER = row(403, anon=401, applicant_a=OK, applicant_b=404, evaluator=404, other_staff=404)
REPORT_READ = row(404, anon=401, staff=OK, finance=OK, admin=OK)
# The evaluator's own assignment: a role check first (403), then the record (404).
EVALUATOR_ONLY = row(403, anon=401, evaluator=OK)
EVALUATOR_OR_READER = row(403, anon=401, evaluator=OK, staff=OK, admin=OK, other_staff=404)
# Grants: calls are read by everyone but evaluators (who see nothing of grants); a centre's
# money records by its staff, finance and admin only; finance alone decides and pays.
PROGRAMME_READ = row(anon=401, evaluator=403, other_staff=404)
PROGRAMME_LIST = row(anon=401, evaluator=403)
CENTRE_RECORD = row(404, anon=401, staff=OK, finance=OK, admin=OK)
FINANCE_ONLY = row(403, anon=401, finance=OK)
# the centre's staff act on a record of the centre named in the body (others' staff do not find it)
STAFF_ON_RECORD = row(403, anon=401, staff=OK, other_staff=404)
# org A's award or application: its members and the centre's staff may add documents
ORG_A_OWNER_OR_STAFF = {**ORG_A_STAFF, "applicant_a": OK}
# the network and the targets: the centre's staff, finance, station officers, and the district
NETWORK_LIST = row(403, anon=401, staff=OK, finance=OK, admin=OK, other_staff=OK, station=OK)
NETWORK_RECORD = row(403, anon=401, staff=OK, finance=OK, admin=OK, other_staff=404, station=OK)

MATRIX: dict[tuple[str, str], Row] = {
    # community funds
    ("GET", "/api/v1/fund-allocations/{allocation_id}"): row(
        403, anon=401, staff=OK, finance=OK, admin=OK, other_staff=404
    ),
    ("POST", "/api/v1/fund-allocations/{allocation_id}/decide"): row(
        403, anon=401, finance=OK, other_staff=404
    ),
    ("POST", "/api/v1/fund-allocations/{allocation_id}/pay"): row(403, anon=401, finance=OK),
    ("POST", "/api/v1/fund-returns"): row(403, anon=401, staff=OK, finance=OK, other_staff=404),
    ("GET", "/api/v1/funds"): row(anon=401, applicant_a=403, applicant_b=403, evaluator=403),
    ("POST", "/api/v1/funds"): row(403, anon=401, staff=OK, other_staff=OK),
    ("GET", "/api/v1/funds/export/allocations.xlsx"): row(
        anon=401, applicant_a=403, applicant_b=403, evaluator=403
    ),
    ("GET", "/api/v1/funds/export/receipts.xlsx"): row(
        anon=401, applicant_a=403, applicant_b=403, evaluator=403
    ),
    ("GET", "/api/v1/funds/{fund_id}"): row(403, anon=401, staff=OK, finance=OK, admin=OK, other_staff=404),
    ("GET", "/api/v1/funds/{fund_id}/allocations"): row(
        403, anon=401, staff=OK, finance=OK, admin=OK, other_staff=404
    ),
    ("POST", "/api/v1/funds/{fund_id}/allocations"): row(403, anon=401, staff=OK, other_staff=404),
    ("GET", "/api/v1/funds/{fund_id}/receipts"): row(
        403, anon=401, staff=OK, finance=OK, admin=OK, other_staff=404
    ),
    ("POST", "/api/v1/funds/{fund_id}/receipts"): row(403, anon=401, staff=OK, finance=OK, other_staff=404),
    ("GET", "/api/v1/funds/{fund_id}/receipts/{receipt_id}/attachment"): row(
        403, anon=401, staff=OK, finance=OK, admin=OK, other_staff=404
    ),
    ("POST", "/api/v1/funds/{fund_id}/receipts/{receipt_id}/attachment"): row(
        403, anon=401, staff=OK, finance=OK, other_staff=404
    ),
    ("GET", "/api/v1/public/funds/{fund_id}"): row(),
    ("POST", "/funds/{fund_id}/returns"): row(403, anon=401, staff=OK, finance=OK, other_staff=404),
    ("GET", "/api/v1/programmes/{programme_id}/fundings"): row(
        403, anon=401, staff=OK, finance=OK, admin=OK, other_staff=404
    ),
    ("POST", "/fund-allocations/{allocation_id}/decide"): row(403, anon=401, finance=OK, other_staff=404),
    ("POST", "/fund-allocations/{allocation_id}/pay"): row(403, anon=401, finance=OK, other_staff=404),
    ("GET", "/funds"): row(anon=401, applicant_a=403, applicant_b=403, evaluator=403),
    ("POST", "/funds/new"): row(403, anon=401, staff=OK, other_staff=OK),
    ("GET", "/funds/{fund_id}"): row(403, anon=401, staff=OK, finance=OK, admin=OK, other_staff=404),
    ("POST", "/funds/{fund_id}/allocations"): row(403, anon=401, staff=OK, other_staff=404),
    ("POST", "/funds/{fund_id}/receipts"): row(403, anon=401, staff=OK, finance=OK, other_staff=404),
    ("GET", "/public/funds"): row(),
    ("GET", "/public/funds/{fund_id}"): row(),
    # health
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    # auth and admin
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/revoke"): LOGGED_IN,
    ("GET", "/api/v1/me"): LOGGED_IN,
    ("GET", "/api/v1/centres"): LOGGED_IN,
    ("POST", "/api/v1/centres"): ADMIN_ONLY,
    ("GET", "/api/v1/users"): ADMIN_ONLY,
    ("POST", "/api/v1/users"): ADMIN_ONLY,
    ("GET", "/api/v1/users/{user_id}"): ADMIN_ONLY,
    ("PATCH", "/api/v1/users/{user_id}"): ADMIN_ONLY,
    ("GET", "/api/v1/users/locked"): ADMIN_ONLY,
    ("POST", "/api/v1/users/{user_id}/unlock"): ADMIN_ONLY,  # not locked: 409 for the admin
    ("POST", "/api/v1/users/{user_id}/reset-link"): ADMIN_ONLY,
    ("GET", "/api/v1/jobs"): ADMIN_ONLY,
    # Run-now commits in transactions of its own, as a scheduled run does, which this
    # rolled-back world cannot hold: the matrix asks for a job that does not exist (so the
    # admin gets past the access check to a 404); tests/test_jobs.py runs real ones.
    ("POST", "/api/v1/jobs/{job_id}/run"): row(403, anon=401, admin=404),
    ("GET", "/api/v1/audit-events"): STAFF_OR_ADMIN_LIST,
    ("GET", "/api/v1/audit-events/{event_id}"): STAFF_OR_ADMIN,
    # organisations
    ("GET", "/api/v1/organisations"): LOGGED_IN,
    ("GET", "/api/v1/organisations/export.xlsx"): STAFF_ONLY_LIST,
    ("POST", "/api/v1/organisations"): STAFF_ONLY_LIST,
    ("POST", "/api/v1/organisations/signup"): PUBLIC,
    ("GET", "/api/v1/organisations/{organisation_id}"): ORG_A_READ,
    ("PATCH", "/api/v1/organisations/{organisation_id}"): {**ORG_A_STAFF, "applicant_a": OK},
    ("POST", "/api/v1/organisations/{organisation_id}/verify"): STAFF_ONLY,
    ("POST", "/api/v1/organisations/{organisation_id}/bar"): STAFF_ONLY,
    ("POST", "/api/v1/organisations/{organisation_id}/lift-bar"): STAFF_ONLY,
    ("GET", "/api/v1/bars"): STAFF_ONLY_LIST,
    ("GET", "/api/v1/organisations/{organisation_id}/members"): ORG_A_READ,
    # members are managed by the organisation's owner only
    ("POST", "/api/v1/organisations/{organisation_id}/members"): ORG_A_OWNER,
    ("DELETE", "/api/v1/organisations/{organisation_id}/members/{user_id}"): ORG_A_OWNER,
    ("POST", "/api/v1/invitations/{token}/accept"): PUBLIC,
    ("GET", "/api/v1/organisations/{organisation_id}/graduation-check"): ORG_A_READ,
    ("GET", "/api/v1/graduation-policy"): STAFF_ONLY_LIST,
    ("PUT", "/api/v1/graduation-policy"): STAFF_ONLY_LIST,
    # incubation stays and support
    ("GET", "/api/v1/incubation-stays"): LOGGED_IN,
    ("POST", "/api/v1/incubation-stays"): {**ORG_A_STAFF, "applicant_a": OK},
    ("GET", "/api/v1/incubation-stays/{stay_id}"): ORG_A_READ,
    ("POST", "/api/v1/incubation-stays/{stay_id}/assess"): STAFF_ONLY,
    ("POST", "/api/v1/incubation-stays/{stay_id}/admit"): STAFF_ONLY,
    ("POST", "/api/v1/incubation-stays/{stay_id}/start"): STAFF_ONLY,
    ("POST", "/api/v1/incubation-stays/{stay_id}/extend"): STAFF_ONLY,
    ("POST", "/api/v1/incubation-stays/{stay_id}/graduate"): STAFF_ONLY,
    ("POST", "/api/v1/incubation-stays/{stay_id}/exit"): STAFF_ONLY,
    ("GET", "/api/v1/support-activities"): LOGGED_IN,
    ("POST", "/api/v1/support-activities"): STAFF_ONLY,
    ("GET", "/api/v1/support-activities/totals"): row(
        403, anon=401, staff=OK, finance=OK, admin=OK, other_staff=OK
    ),
    # reports
    ("GET", "/api/v1/report-kinds"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/api/v1/reports"): STAFF_FINANCE_ADMIN_LIST,
    ("POST", "/api/v1/reports"): STAFF_OR_ADMIN_LIST,
    # a report the caller may not read is not found, whatever the role
    ("GET", "/api/v1/reports/{report_id}"): REPORT_READ,
    ("GET", "/api/v1/reports/{report_id}/download"): REPORT_READ,
    ("GET", "/api/v1/report-schedules"): STAFF_OR_ADMIN_LIST,
    ("POST", "/api/v1/report-schedules"): STAFF_OR_ADMIN_LIST,
    ("GET", "/api/v1/report-schedules/{schedule_id}"): STAFF_OR_ADMIN,
    ("PATCH", "/api/v1/report-schedules/{schedule_id}"): STAFF_OR_ADMIN,
    ("POST", "/api/v1/report-schedules/{schedule_id}/run"): STAFF_OR_ADMIN,
    ("GET", "/api/v1/report-style"): STAFF_OR_ADMIN_LIST,
    ("PUT", "/api/v1/report-style"): STAFF_OR_ADMIN_LIST,
    # notifications (the world's one belongs to applicant A)
    ("GET", "/api/v1/notifications"): LOGGED_IN,
    ("GET", "/api/v1/notifications/unread-count"): LOGGED_IN,
    ("POST", "/api/v1/notifications/read-all"): LOGGED_IN,
    ("POST", "/api/v1/notifications/{notification_id}/read"): row(404, anon=401, applicant_a=OK),
    # evaluations
    ("GET", "/api/v1/rubrics"): STAFF_OR_ADMIN_LIST,
    ("POST", "/api/v1/rubrics"): STAFF_ONLY_LIST,
    ("GET", "/api/v1/rubrics/{rubric_id}"): STAFF_OR_ADMIN,
    ("GET", "/api/v1/rubrics/{rubric_id}/versions"): STAFF_OR_ADMIN,
    ("POST", "/api/v1/rubrics/{rubric_id}/versions"): STAFF_ONLY,
    ("PUT", "/api/v1/rubrics/{rubric_id}/versions/{version_id}"): STAFF_ONLY,
    ("GET", "/api/v1/review-rounds"): STAFF_OR_ADMIN_LIST,
    ("POST", "/api/v1/review-rounds"): STAFF_ONLY_LIST,
    ("GET", "/api/v1/review-rounds/{round_id}"): STAFF_OR_ADMIN,
    ("GET", "/api/v1/review-rounds/{round_id}/subjects"): STAFF_OR_ADMIN,
    ("POST", "/api/v1/review-rounds/{round_id}/subjects"): STAFF_ONLY,
    ("GET", "/api/v1/review-rounds/{round_id}/assignments"): STAFF_OR_ADMIN,
    ("POST", "/api/v1/review-rounds/{round_id}/assignments"): STAFF_ONLY,
    ("POST", "/api/v1/review-rounds/{round_id}/auto-assign"): STAFF_ONLY,
    ("GET", "/api/v1/review-rounds/{round_id}/progress"): STAFF_OR_ADMIN,
    ("POST", "/api/v1/review-rounds/{round_id}/close"): STAFF_ONLY,
    ("GET", "/api/v1/review-rounds/{round_id}/results"): STAFF_OR_ADMIN,
    ("GET", "/api/v1/review-rounds/{round_id}/recommendation"): STAFF_OR_ADMIN,
    ("POST", "/api/v1/review-rounds/{round_id}/recommendation/adjustments"): STAFF_ONLY,
    ("POST", "/api/v1/review-rounds/{round_id}/jury-codes"): STAFF_ONLY,
    ("GET", "/api/v1/assignments"): row(403, anon=401, evaluator=OK, staff=OK, admin=OK, other_staff=OK),
    ("GET", "/api/v1/assignments/{assignment_id}"): EVALUATOR_OR_READER,
    ("POST", "/api/v1/assignments/{assignment_id}/declaration"): EVALUATOR_ONLY,
    # staff may open a sheet only once the round is closed (the world's round is open)
    ("GET", "/api/v1/assignments/{assignment_id}/sheet"): {**EVALUATOR_ONLY, "other_staff": 404},
    ("PUT", "/api/v1/assignments/{assignment_id}/sheet"): EVALUATOR_ONLY,
    ("POST", "/api/v1/assignments/{assignment_id}/sheet/submit"): EVALUATOR_ONLY,
    ("GET", "/api/v1/evaluator-conflicts"): row(
        403, anon=401, evaluator=OK, staff=OK, admin=OK, other_staff=OK
    ),
    # the organisation is only a reference here: the conflict belongs to the caller's centre
    ("POST", "/api/v1/evaluator-conflicts"): row(
        403, anon=401, evaluator=OK, staff=OK, admin=OK, other_staff=OK
    ),
    ("GET", "/api/v1/public/jury/{code}"): PUBLIC,
    ("POST", "/api/v1/public/jury/{code}/sheet"): PUBLIC,
    # grants: programmes, needs, calendar
    ("GET", "/api/v1/programmes"): PROGRAMME_LIST,
    ("POST", "/api/v1/programmes"): STAFF_ONLY_LIST,
    ("GET", "/api/v1/programmes/{programme_id}"): PROGRAMME_READ,
    ("PUT", "/api/v1/programmes/{programme_id}"): STAFF_ONLY,
    ("POST", "/api/v1/programmes/{programme_id}/open"): STAFF_ONLY,
    ("POST", "/api/v1/programmes/{programme_id}/start-review"): STAFF_ONLY,
    ("POST", "/api/v1/programmes/{programme_id}/collect-results"): STAFF_ONLY,
    ("POST", "/api/v1/programmes/{programme_id}/decide"): STAFF_ONLY,
    ("POST", "/api/v1/programmes/{programme_id}/publicise"): STAFF_ONLY,
    ("POST", "/api/v1/programmes/{programme_id}/close"): STAFF_ONLY,
    ("GET", "/api/v1/programmes/{programme_id}/topics"): PROGRAMME_READ,
    ("POST", "/api/v1/programmes/{programme_id}/topics"): STAFF_ONLY,
    ("GET", "/api/v1/needs"): STAFF_OR_ADMIN_LIST,
    ("POST", "/api/v1/needs"): STAFF_ONLY_LIST,
    ("GET", "/api/v1/calendar/working-days"): LOGGED_IN,
    ("PUT", "/api/v1/calendar/{year}"): ADMIN_ONLY,
    # applications (the world's is org A's draft)
    ("GET", "/api/v1/applications"): LOGGED_IN,
    ("POST", "/api/v1/applications"): ORG_A_OWNER,
    ("GET", "/api/v1/applications/{application_id}"): ORG_A_READ,
    ("PUT", "/api/v1/applications/{application_id}"): ORG_A_OWNER,
    ("POST", "/api/v1/applications/{application_id}/submit"): ORG_A_OWNER,
    ("POST", "/api/v1/applications/{application_id}/withdraw"): ORG_A_OWNER,
    ("POST", "/api/v1/applications/{application_id}/return"): STAFF_ONLY,
    ("GET", "/api/v1/applications/{application_id}/eligibility"): ORG_A_READ,
    ("POST", "/api/v1/applications/{application_id}/confirm-eligibility"): STAFF_ONLY,
    ("GET", "/api/v1/applications/{application_id}/attachments"): ORG_A_READ,
    ("POST", "/api/v1/applications/{application_id}/attachments"): ORG_A_OWNER,
    ("GET", "/api/v1/applications/{application_id}/attachments/{attachment_id}"): ORG_A_READ,
    ("DELETE", "/api/v1/applications/{application_id}/attachments/{attachment_id}"): ORG_A_OWNER,
    # publicity and objections (the world's objection is to org B's project in publicity)
    ("GET", "/api/v1/public/publicity"): PUBLIC,
    ("POST", "/api/v1/objections"): PUBLIC,
    ("GET", "/api/v1/objections"): STAFF_OR_ADMIN_LIST,
    ("POST", "/api/v1/objections/{objection_id}/resolve"): STAFF_ONLY,
    ("GET", "/api/v1/exports/360giving.json"): STAFF_FINANCE_ADMIN_LIST,
    # awards (org A's, signed, its first tranche requested)
    ("GET", "/api/v1/awards"): LOGGED_IN,
    ("GET", "/api/v1/awards/{award_id}"): ORG_A_READ,
    ("GET", "/api/v1/awards/{award_id}/tranches"): ORG_A_READ,
    ("POST", "/api/v1/awards/{award_id}/sign"): STAFF_ONLY,
    ("POST", "/api/v1/awards/{award_id}/evaluations"): STAFF_ONLY,
    ("POST", "/api/v1/awards/{award_id}/evaluation-rounds"): STAFF_ONLY,
    ("POST", "/api/v1/awards/{award_id}/rectify"): STAFF_ONLY,
    ("POST", "/api/v1/awards/{award_id}/terminate"): STAFF_ONLY,
    ("POST", "/api/v1/awards/{award_id}/close"): STAFF_ONLY,
    ("GET", "/api/v1/awards/{award_id}/documents"): ORG_A_READ,
    ("POST", "/api/v1/awards/{award_id}/documents"): ORG_A_OWNER_OR_STAFF,
    ("GET", "/api/v1/awards/{award_id}/documents/{document_id}"): ORG_A_READ,
    ("GET", "/api/v1/awards/{award_id}/progress-reports"): ORG_A_READ,
    ("POST", "/api/v1/awards/{award_id}/progress-reports"): ORG_A_OWNER,
    ("POST", "/api/v1/awards/{award_id}/progress-reports/{report_id}/resubmit"): ORG_A_OWNER,
    ("POST", "/api/v1/awards/{award_id}/progress-reports/{report_id}/review"): STAFF_ONLY,
    ("GET", "/api/v1/awards/{award_id}/expense-claims"): ORG_A_READ,
    ("POST", "/api/v1/awards/{award_id}/expense-claims"): ORG_A_OWNER,
    ("POST", "/api/v1/awards/{award_id}/expense-claims/{claim_id}/resubmit"): ORG_A_OWNER,
    ("POST", "/api/v1/awards/{award_id}/expense-claims/{claim_id}/review"): STAFF_ONLY,
    # disbursements: staff request, finance decide and pay
    ("GET", "/api/v1/disbursements"): LOGGED_IN,
    ("POST", "/api/v1/disbursements"): STAFF_ON_RECORD,
    ("GET", "/api/v1/disbursements/export.xlsx"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/api/v1/disbursements/{disbursement_id}"): CENTRE_RECORD,
    ("POST", "/api/v1/disbursements/{disbursement_id}/approve"): FINANCE_ONLY,
    ("POST", "/api/v1/disbursements/{disbursement_id}/reject"): FINANCE_ONLY,
    ("POST", "/api/v1/disbursements/{disbursement_id}/pay"): FINANCE_ONLY,
    ("GET", "/api/v1/budget-execution"): STAFF_FINANCE_ADMIN_LIST,
    # purchased-service contracts (org A provides)
    ("GET", "/api/v1/contracts"): LOGGED_IN,
    ("POST", "/api/v1/contracts"): STAFF_ON_RECORD,
    ("GET", "/api/v1/contracts/{contract_id}"): CENTRE_RECORD,
    ("PUT", "/api/v1/contracts/{contract_id}"): STAFF_ONLY,
    ("POST", "/api/v1/contracts/{contract_id}/sign"): STAFF_ONLY,
    ("POST", "/api/v1/contracts/{contract_id}/start"): STAFF_ONLY,
    ("POST", "/api/v1/contracts/{contract_id}/evaluate"): STAFF_ONLY,
    ("POST", "/api/v1/contracts/{contract_id}/complete"): STAFF_ONLY,
    ("POST", "/api/v1/contracts/{contract_id}/terminate"): STAFF_ONLY,
    ("GET", "/api/v1/exports/ocds.json"): STAFF_FINANCE_ADMIN_LIST,
    # capacity assessments (of org A)
    ("GET", "/api/v1/capacity-assessments"): ORG_A_READ,
    ("POST", "/api/v1/capacity-assessments"): STAFF_ONLY,
    # --- pages ------------------------------------------------------------------------------
    ("GET", "/"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): LOGGED_IN,
    ("POST", "/lang"): PUBLIC,
    ("GET", "/dashboard"): LOGGED_IN,
    ("GET", "/signup"): PUBLIC,
    ("POST", "/signup"): PUBLIC,
    ("GET", "/invitations/{token}"): PUBLIC,
    ("POST", "/invitations/{token}"): PUBLIC,
    # 忘记密码 and one-time password links (an invitation's token is no password link: 404)
    ("GET", "/password-reset"): PUBLIC,
    ("POST", "/password-reset"): PUBLIC,
    ("GET", "/password-reset/{token}"): row(404),
    ("POST", "/password-reset/{token}"): row(404),
    # users pages: administrators only
    ("GET", "/users"): ADMIN_ONLY,
    ("GET", "/users/new"): ADMIN_ONLY,
    ("POST", "/users/new"): ADMIN_ONLY,
    ("GET", "/users/{user_id}"): ADMIN_ONLY,
    ("POST", "/users/{user_id}/roles"): ADMIN_ONLY,
    ("POST", "/users/{user_id}/{action}"): row(403, anon=401, admin=404),  # "assess" is no account action
    ("POST", "/organisations/{organisation_id}/owner-invitation"): STAFF_ONLY,
    ("GET", "/organisations"): LOGGED_IN,  # applicants and evaluators are sent to /my/organisations
    ("GET", "/my/organisations"): LOGGED_IN,
    ("GET", "/organisations/new"): STAFF_ONLY_LIST,
    ("POST", "/organisations/new"): STAFF_ONLY_LIST,
    ("GET", "/organisations/{organisation_id}"): ORG_A_READ,
    ("GET", "/organisations/{organisation_id}/edit"): ORG_A_READ,
    ("POST", "/organisations/{organisation_id}/edit"): {**ORG_A_STAFF, "applicant_a": OK},
    ("POST", "/organisations/{organisation_id}/verify"): STAFF_ONLY,
    ("POST", "/organisations/{organisation_id}/bar"): STAFF_ONLY,
    ("POST", "/organisations/{organisation_id}/lift-bar"): STAFF_ONLY,
    ("POST", "/organisations/{organisation_id}/members"): ORG_A_OWNER,
    ("POST", "/organisations/{organisation_id}/members/{user_id}/remove"): ORG_A_OWNER,
    ("POST", "/organisations/{organisation_id}/stays"): {**ORG_A_STAFF, "applicant_a": OK},
    ("POST", "/stays/{stay_id}/{action}"): ORG_A_STAFF,
    ("POST", "/organisations/{organisation_id}/activities"): STAFF_ONLY,
    ("GET", "/reports"): STAFF_FINANCE_ADMIN_LIST,
    ("POST", "/reports/generate"): STAFF_OR_ADMIN_LIST,
    ("GET", "/reports/{report_id}/download"): REPORT_READ,
    ("GET", "/report-schedules"): STAFF_OR_ADMIN_LIST,
    ("POST", "/report-schedules"): STAFF_OR_ADMIN_LIST,
    ("POST", "/report-schedules/{schedule_id}/toggle"): STAFF_OR_ADMIN,
    ("POST", "/report-schedules/{schedule_id}/run"): STAFF_OR_ADMIN,
    ("GET", "/report-style"): STAFF_OR_ADMIN_LIST,
    ("POST", "/report-style"): STAFF_OR_ADMIN_LIST,
    ("GET", "/notifications"): LOGGED_IN,
    ("POST", "/notifications/{notification_id}/read"): row(404, anon=401, applicant_a=OK),
    ("POST", "/notifications/read-all"): LOGGED_IN,
    ("GET", "/evaluations"): row(403, anon=401, evaluator=OK, staff=OK, admin=OK, other_staff=OK),
    ("GET", "/evaluations/assignments/{assignment_id}"): EVALUATOR_OR_READER,
    # Staff and admins read a sheet only once the round is closed (open round here).
    ("GET", "/evaluations/assignments/{assignment_id}/sheet.pdf"): {
        **EVALUATOR_OR_READER,
        "staff": 403,
        "admin": 403,
    },
    ("POST", "/evaluations/assignments/{assignment_id}/declaration"): EVALUATOR_ONLY,
    ("POST", "/evaluations/assignments/{assignment_id}/sheet"): EVALUATOR_ONLY,
    ("GET", "/evaluations/rounds/new"): STAFF_ONLY_LIST,
    ("POST", "/evaluations/rounds"): STAFF_ONLY_LIST,
    ("GET", "/evaluations/rounds/{round_id}"): STAFF_OR_ADMIN,
    ("POST", "/evaluations/rounds/{round_id}/subjects"): STAFF_ONLY,
    ("POST", "/evaluations/rounds/{round_id}/assignments"): STAFF_ONLY,
    ("POST", "/evaluations/rounds/{round_id}/auto-assign"): STAFF_ONLY,
    ("POST", "/evaluations/rounds/{round_id}/close"): STAFF_ONLY,
    ("POST", "/evaluations/rounds/{round_id}/adjustments"): STAFF_ONLY,
    ("POST", "/organisations/{organisation_id}/capacity"): STAFF_ONLY,
    # grants pages
    ("GET", "/public/publicity"): PUBLIC,
    ("GET", "/public/objections"): PUBLIC,
    # lists, search, exports and bulk actions (a centre's own lists for its staff, finance, admins)
    ("GET", "/applications/export.xlsx"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/awards/export.xlsx"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/disbursements"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/disbursements/export.xlsx"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/evaluations/rounds/{round_id}/summary.xlsx"): STAFF_OR_ADMIN,
    ("GET", "/organisations/export.xlsx"): STAFF_ONLY_LIST,
    ("GET", "/search"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/tranches/due"): STAFF_FINANCE_ADMIN_LIST,
    ("POST", "/applications/bulk/confirm-eligibility"): STAFF_ONLY_LIST,
    ("POST", "/evaluations/rounds/{round_id}/bulk-assign"): STAFF_ONLY,
    ("POST", "/tranches/due/request"): STAFF_ONLY_LIST,
    ("GET", "/applications/{application_id}/proposal.pdf"): ORG_A_READ,
    ("GET", "/applications/{application_id}/attachments/{attachment_id}"): ORG_A_READ,
    ("POST", "/applications/{application_id}/attachments"): ORG_A_OWNER,
    ("POST", "/applications/{application_id}/attachments/{attachment_id}/remove"): ORG_A_OWNER,
    ("POST", "/public/publicity/objections"): PUBLIC,
    ("GET", "/jury"): PUBLIC,
    ("GET", "/jury/{code}"): PUBLIC,
    ("POST", "/jury/{code}"): PUBLIC,
    ("GET", "/programmes"): PROGRAMME_LIST,
    ("GET", "/programmes/new"): STAFF_ONLY_LIST,
    ("POST", "/programmes/new"): STAFF_ONLY_LIST,
    ("GET", "/programmes/{programme_id}"): PROGRAMME_READ,
    ("GET", "/programmes/{programme_id}/decide"): STAFF_ONLY,
    ("POST", "/programmes/{programme_id}/{action}"): STAFF_ONLY,
    ("GET", "/applications"): LOGGED_IN,
    ("GET", "/applications/new"): {**ORG_A_READ, "evaluator": 403},
    ("POST", "/applications/new"): ORG_A_OWNER,
    ("GET", "/applications/{application_id}"): ORG_A_READ,
    ("GET", "/applications/{application_id}/edit"): ORG_A_OWNER,
    ("POST", "/applications/{application_id}/edit"): ORG_A_OWNER,
    ("POST", "/applications/{application_id}/{action}"): ORG_A_OWNER,
    ("GET", "/objections"): STAFF_OR_ADMIN_LIST,
    ("POST", "/objections/{objection_id}/resolve"): STAFF_ONLY,
    # money pages
    ("GET", "/finance"): STAFF_FINANCE_ADMIN_LIST,
    ("POST", "/finance/disbursements/{disbursement_id}/approve"): FINANCE_ONLY,
    ("POST", "/finance/disbursements/{disbursement_id}/reject"): FINANCE_ONLY,
    ("POST", "/finance/disbursements/{disbursement_id}/pay"): FINANCE_ONLY,
    ("GET", "/budget"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/awards"): LOGGED_IN,
    ("GET", "/awards/{award_id}"): ORG_A_READ,
    ("POST", "/awards/{award_id}/sign"): STAFF_ONLY,
    ("POST", "/awards/{award_id}/disbursements"): STAFF_ONLY,
    ("POST", "/awards/{award_id}/evaluations"): STAFF_ONLY,
    ("POST", "/awards/{award_id}/evaluation-rounds"): STAFF_ONLY,
    ("POST", "/awards/{award_id}/rectify"): STAFF_ONLY,
    ("POST", "/awards/{award_id}/terminate"): STAFF_ONLY,
    ("POST", "/awards/{award_id}/close"): STAFF_ONLY,
    ("POST", "/awards/{award_id}/progress-reports"): ORG_A_OWNER,
    ("POST", "/awards/{award_id}/progress-reports/{report_id}/review"): STAFF_ONLY,
    ("POST", "/awards/{award_id}/expense-claims"): ORG_A_OWNER,
    ("POST", "/awards/{award_id}/expense-claims/{claim_id}/review"): STAFF_ONLY,
    ("GET", "/contracts"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/contracts/new"): STAFF_ONLY_LIST,
    # choosers search on the server: a caller finds only what they already see
    ("GET", "/choosers/organisations"): LOGGED_IN,
    ("GET", "/choosers/programmes"): LOGGED_IN,  # the lists' programme filter; programmes are published
    ("GET", "/choosers/awards"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/choosers/contracts"): STAFF_FINANCE_ADMIN_LIST,
    ("GET", "/choosers/users"): STAFF_FINANCE_ADMIN_LIST,
    ("POST", "/contracts/new"): STAFF_ONLY_LIST,  # another centre's provider: the form says so (422)
    ("GET", "/contracts/{contract_id}"): CENTRE_RECORD,
    ("POST", "/contracts/{contract_id}/milestones/{milestone_id}/request"): STAFF_ONLY,
    ("POST", "/contracts/{contract_id}/{action}"): STAFF_ONLY,
    # communities, the network of sites, cultivation plans (station officers read their community)
    ("GET", "/api/v1/communities"): LOGGED_IN,
    ("POST", "/api/v1/communities"): STAFF_ONLY_LIST,
    ("PUT", "/api/v1/communities/{community_id}"): STAFF_ONLY,
    ("GET", "/api/v1/sites"): NETWORK_LIST,
    ("POST", "/api/v1/sites"): STAFF_ONLY_LIST,
    ("GET", "/api/v1/sites/{site_id}"): {**NETWORK_RECORD, "station": 404},
    ("PUT", "/api/v1/sites/{site_id}"): STAFF_ONLY,
    ("GET", "/api/v1/cultivation-plans"): NETWORK_LIST,
    ("POST", "/api/v1/cultivation-plans"): STAFF_ONLY_LIST,
    ("GET", "/api/v1/cultivation-plans/{plan_id}"): NETWORK_RECORD,
    ("PUT", "/api/v1/cultivation-plans/{plan_id}"): STAFF_ONLY,
    ("POST", "/api/v1/cultivation-plans/{plan_id}/targets"): STAFF_ONLY,
    ("DELETE", "/api/v1/cultivation-plans/{plan_id}/targets/{target_id}"): STAFF_ONLY,
    ("GET", "/api/v1/cultivation-plans/{plan_id}/progress"): NETWORK_RECORD,
    ("GET", "/api/v1/district/cultivation"): row(403, anon=401, admin=OK),
    ("GET", "/network"): NETWORK_LIST,
    ("GET", "/communities"): NETWORK_LIST,
    ("POST", "/communities"): STAFF_ONLY_LIST,
    ("POST", "/communities/{community_id}/edit"): STAFF_ONLY,
    ("GET", "/sites/new"): STAFF_ONLY_LIST,
    ("POST", "/sites/new"): STAFF_ONLY_LIST,
    ("GET", "/sites/{site_id}/edit"): STAFF_ONLY,
    ("POST", "/sites/{site_id}/edit"): STAFF_ONLY,
    ("GET", "/cultivation/plans"): NETWORK_LIST,
    ("POST", "/cultivation/plans"): STAFF_ONLY_LIST,
    ("GET", "/cultivation/plans/{plan_id}"): NETWORK_RECORD,
    ("POST", "/cultivation/plans/{plan_id}/targets"): STAFF_ONLY,
    ("POST", "/cultivation/plans/{plan_id}/targets/{target_id}/delete"): STAFF_ONLY,
    ("GET", "/district/cultivation"): row(403, anon=401, admin=OK),
    ("GET", "/district/cultivation.pdf"): row(403, anon=401, admin=OK),
    ("GET", "/needs"): row(403, anon=401, staff=OK, admin=OK, other_staff=OK, station=OK),
    ("POST", "/needs"): row(403, anon=401, staff=OK, other_staff=OK, station=OK),
}

# The station officer (of 芳草社区) in rows written before the role: org A and its records are
# in 玉林北路社区, so they are not found (as for an applicant of another organisation); calls
# for grants are not a station officer's; organisations and needs are recorded in their own
# community.
STATION_NOT_FOUND = frozenset(
    {
        ("POST", "/api/v1/applications"),
        ("GET", "/api/v1/applications/{application_id}"),
        ("PUT", "/api/v1/applications/{application_id}"),
        ("GET", "/api/v1/applications/{application_id}/attachments"),
        ("POST", "/api/v1/applications/{application_id}/attachments"),
        ("GET", "/api/v1/applications/{application_id}/attachments/{attachment_id}"),
        ("GET", "/api/v1/applications/{application_id}/eligibility"),
        ("DELETE", "/api/v1/applications/{application_id}/attachments/{attachment_id}"),
        ("GET", "/applications/{application_id}/attachments/{attachment_id}"),
        ("POST", "/applications/{application_id}/attachments"),
        ("POST", "/applications/{application_id}/attachments/{attachment_id}/remove"),
        ("GET", "/applications/{application_id}/proposal.pdf"),
        ("POST", "/api/v1/applications/{application_id}/submit"),
        ("POST", "/api/v1/applications/{application_id}/withdraw"),
        ("GET", "/api/v1/awards/{award_id}"),
        ("GET", "/api/v1/awards/{award_id}/documents"),
        ("POST", "/api/v1/awards/{award_id}/documents"),
        ("GET", "/api/v1/awards/{award_id}/documents/{document_id}"),
        ("GET", "/api/v1/awards/{award_id}/expense-claims"),
        ("POST", "/api/v1/awards/{award_id}/expense-claims"),
        ("POST", "/api/v1/awards/{award_id}/expense-claims/{claim_id}/resubmit"),
        ("GET", "/api/v1/awards/{award_id}/progress-reports"),
        ("POST", "/api/v1/awards/{award_id}/progress-reports"),
        ("POST", "/api/v1/awards/{award_id}/progress-reports/{report_id}/resubmit"),
        ("GET", "/api/v1/awards/{award_id}/tranches"),
        ("GET", "/api/v1/capacity-assessments"),
        ("POST", "/api/v1/incubation-stays"),
        ("GET", "/api/v1/incubation-stays/{stay_id}"),
        ("GET", "/api/v1/organisations/{organisation_id}"),
        ("PATCH", "/api/v1/organisations/{organisation_id}"),
        ("GET", "/api/v1/organisations/{organisation_id}/graduation-check"),
        ("GET", "/api/v1/organisations/{organisation_id}/members"),
        ("POST", "/api/v1/organisations/{organisation_id}/members"),
        ("DELETE", "/api/v1/organisations/{organisation_id}/members/{user_id}"),
        ("POST", "/api/v1/support-activities"),
        ("POST", "/applications/new"),
        ("GET", "/applications/{application_id}"),
        ("GET", "/applications/{application_id}/edit"),
        ("POST", "/applications/{application_id}/edit"),
        ("POST", "/applications/{application_id}/{action}"),
        ("GET", "/awards/{award_id}"),
        ("POST", "/awards/{award_id}/expense-claims"),
        ("POST", "/awards/{award_id}/progress-reports"),
        ("GET", "/organisations/{organisation_id}"),
        ("POST", "/organisations/{organisation_id}/activities"),
        ("GET", "/organisations/{organisation_id}/edit"),
        ("POST", "/organisations/{organisation_id}/edit"),
        ("POST", "/organisations/{organisation_id}/members"),
        ("POST", "/organisations/{organisation_id}/members/{user_id}/remove"),
        ("POST", "/organisations/{organisation_id}/stays"),
        ("POST", "/stays/{stay_id}/{action}"),
    }
)
STATION_ALLOWED = frozenset(
    {
        ("GET", "/api/v1/needs"),
        ("POST", "/api/v1/needs"),
        ("POST", "/api/v1/organisations"),
        ("GET", "/organisations/new"),
        ("POST", "/organisations/new"),
    }
)
STATION_REFUSED = frozenset(
    {
        ("GET", "/api/v1/funds"),
        ("GET", "/api/v1/funds/export/allocations.xlsx"),
        ("GET", "/api/v1/funds/export/receipts.xlsx"),
        ("GET", "/funds"),
        ("GET", "/api/v1/programmes"),
        ("GET", "/api/v1/programmes/{programme_id}"),
        ("GET", "/api/v1/programmes/{programme_id}/topics"),
        ("GET", "/applications/new"),
        ("GET", "/programmes"),
        ("GET", "/programmes/{programme_id}"),
    }
)
for _key, _outcome in (
    *((k, 404) for k in STATION_NOT_FOUND),
    *((k, OK) for k in STATION_ALLOWED),
    *((k, 403) for k in STATION_REFUSED),
):
    MATRIX[_key] = {**MATRIX[_key], "station": _outcome}

# --- how to call a route ----------------------------------------------------------------------

PATH_PARAMS: dict[str, Callable[[World], object]] = {
    "organisation_id": lambda w: w.org_a.id,
    "user_id": lambda w: w.member.user.id,
    "stay_id": lambda w: w.stay.id,
    "action": lambda w: "assess",
    "token": lambda w: w.invitation_token,
    "event_id": lambda w: w.audit_event_id,
    "report_id": lambda w: w.report_id,
    "schedule_id": lambda w: w.schedule_id,
    "notification_id": lambda w: w.notification_id,
    "rubric_id": lambda w: w.rubric.id,
    "version_id": lambda w: w.rubric_version_id,
    "round_id": lambda w: w.review_round.id,
    "assignment_id": lambda w: w.assignment.id,
    "code": lambda w: w.jury_code,
    "programme_id": lambda w: w.grants.open_programme.id,
    "year": lambda w: 2027,
    "application_id": lambda w: w.grants.draft_a.id,
    "attachment_id": lambda w: w.attachment_id,
    "objection_id": lambda w: w.grants.objection.id,
    "award_id": lambda w: w.grants.award.id,
    "document_id": lambda w: w.document_id,
    "claim_id": lambda w: w.claim_id,
    "disbursement_id": lambda w: w.grants.disbursement.id,
    "contract_id": lambda w: w.grants.contract.id,
    "milestone_id": lambda w: w.grants.milestone_id,
    "job_id": lambda w: "proof.no-such-job",
    "community_id": lambda w: w.extra["community"],
    "site_id": lambda w: w.extra["site"],
    "plan_id": lambda w: w.extra["plan"],
    "target_id": lambda w: w.extra["target"],
    "fund_id": lambda w: w.extra["fund_id"],
    "receipt_id": lambda w: w.extra["fund_receipt_id"],
    "allocation_id": lambda w: w.extra["allocation_id"],
}
# A parameter whose value depends on the route (one name, several kinds of record).
PATH_OVERRIDES: dict[tuple[str, str], Callable[[World], object]] = {
    ("/api/v1/awards/{award_id}/progress-reports/{report_id}/resubmit", "report_id"): lambda w: (
        w.grants.progress_report.id
    ),
    ("/api/v1/awards/{award_id}/progress-reports/{report_id}/review", "report_id"): lambda w: (
        w.grants.progress_report.id
    ),
    ("/awards/{award_id}/progress-reports/{report_id}/review", "report_id"): lambda w: (
        w.grants.progress_report.id
    ),
    ("/programmes/{programme_id}/{action}", "action"): lambda w: "open",
    ("/applications/{application_id}/{action}", "action"): lambda w: "submit",
    ("/contracts/{contract_id}/{action}", "action"): lambda w: "sign",
}
# Query strings of GET routes that need them.
QUERIES: dict[tuple[str, str], Callable[[World], dict[str, Any]]] = {
    ("GET", "/api/v1/capacity-assessments"): lambda w: {"organisation_id": w.org_a.id},
    ("GET", "/api/v1/calendar/working-days"): lambda w: {"start": TODAY, "count": 5},
    ("GET", "/applications/new"): lambda w: {
        "programme_id": w.grants.open_programme.id,
        "organisation_id": w.org_a.id,
    },
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# Routes that take an upload (multipart): the file field and its name.
FILES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/applications/{application_id}/attachments"): "file",
    ("POST", "/api/v1/awards/{award_id}/documents"): "file",
    ("POST", "/awards/{award_id}/expense-claims"): "receipt",
    ("POST", "/applications/{application_id}/attachments"): "file",
    ("POST", "/api/v1/funds/{fund_id}/receipts/{receipt_id}/attachment"): "file",
}

CRITERIA = [
    {"key": "need", "name": "需求分析", "max_points": "60"},
    {"key": "budget", "name": "预算", "max_points": "40"},
]
ORG_FORM = {"name": "丙社区读书会", "kind": "community_group", "legal_status": "filed"}
TODAY: str = dt.date(2026, 3, 10).isoformat()
REPORT = {"period": "2026年第四季度", "narrative": "开展茶话会两场。"}
PAYMENT = {"voucher_no": "记-2026-1121", "paid_on": TODAY, "amount": "25000.00"}
Body = Callable[[World], dict[str, Any]]


def claim(w: World) -> dict[str, Any]:
    return {
        "category": "activities",
        "item": "长者茶话会",
        "amount": "800.00",
        "spent_on": TODAY,
        "receipt_ids": [w.document_id],
    }


BODIES: dict[tuple[str, str], Body] = {
    ("POST", "/api/v1/communities"): lambda w: {"name": "向阳村"},
    ("PUT", "/api/v1/communities/{community_id}"): lambda w: {"name": "玉林北路社区", "households": 4200},
    ("POST", "/api/v1/sites"): lambda w: {
        "name": "玉林二号友邻站",
        "level": "station",
        "kind": "neighbour_station",
        "parent_id": w.extra["hub"],
        "community_id": w.extra["community"],
    },
    ("PUT", "/api/v1/sites/{site_id}"): lambda w: {
        "name": "玉林北路友邻站",
        "level": "station",
        "kind": "neighbour_station",
        "parent_id": w.extra["hub"],
        "community_id": w.extra["community"],
        "area_sqm": "180.50",
    },
    ("POST", "/api/v1/cultivation-plans"): lambda w: {
        "title": "2027年培育计划",
        "first_year": 2027,
        "last_year": 2027,
    },
    ("PUT", "/api/v1/cultivation-plans/{plan_id}"): lambda w: {
        "title": "2026年社区社会组织培育计划",
        "first_year": 2026,
        "last_year": 2027,
    },
    ("POST", "/api/v1/cultivation-plans/{plan_id}/targets"): lambda w: {
        "year": 2026,
        "metric": "new_service",
        "minimum": 1,
        "maximum": 3,
    },
    ("POST", "/communities"): lambda w: {"name": "向阳村", "kind": "village"},
    ("POST", "/communities/{community_id}/edit"): lambda w: {"name": "玉林北路社区", "kind": "community"},
    ("POST", "/sites/new"): lambda w: {
        "name": "玉林二号友邻站",
        "level": "station",
        "kind": "neighbour_station",
        "parent_id": str(w.extra["hub"]),
        "community_id": str(w.extra["community"]),
    },
    ("POST", "/sites/{site_id}/edit"): lambda w: {
        "name": "玉林北路友邻站",
        "level": "station",
        "kind": "neighbour_station",
        "parent_id": str(w.extra["hub"]),
        "community_id": str(w.extra["community"]),
    },
    ("POST", "/cultivation/plans"): lambda w: {
        "title": "2027年培育计划",
        "first_year": "2027",
        "last_year": "2027",
    },
    ("POST", "/cultivation/plans/{plan_id}/targets"): lambda w: {
        "year": "2026",
        "metric": "new_service",
        "minimum": "1",
    },
    ("POST", "/needs"): lambda w: {
        "description": "楼道照明需要维修",
        "source": "居民议事会",
        "community": "芳草社区",
    },
    ("POST", "/api/v1/auth/token"): lambda w: {
        "username": w.actors["staff"].user.email,
        "password": PASSWORD,
    },
    ("POST", "/api/v1/centres"): lambda w: {"slug": "proof-centre", "name": "证明街道孵化中心"},
    ("POST", "/api/v1/users"): lambda w: {
        "email": "x@example.org",
        "password": "long-enough-1",
        "roles": ["staff"],
    },
    ("PATCH", "/api/v1/users/{user_id}"): lambda w: {"full_name": "改名"},
    ("POST", "/api/v1/organisations"): lambda w: ORG_FORM,
    ("POST", "/api/v1/organisations/signup"): lambda w: {
        "centre": w.centre.slug,
        "full_name": "新申报人",
        "email": "signup@example.org",
        "password": "long-enough-1",
        "organisation": ORG_FORM,
    },
    ("PATCH", "/api/v1/organisations/{organisation_id}"): lambda w: {"community": "玉林东路社区"},
    ("POST", "/api/v1/organisations/{organisation_id}/bar"): lambda w: {
        "until": "2027-01-01",
        "reason": "材料造假",
    },
    ("POST", "/api/v1/organisations/{organisation_id}/lift-bar"): lambda w: {"reason": "整改完成"},
    ("POST", "/api/v1/organisations/{organisation_id}/members"): lambda w: {"email": "friend@example.org"},
    ("POST", "/api/v1/invitations/{token}/accept"): lambda w: {
        "full_name": "新成员",
        "password": "long-enough-1",
    },
    ("PUT", "/api/v1/graduation-policy"): lambda w: {
        "min_legal_status": "filed",
        "min_capacity_score": "60",
        "require_completed_project": False,
    },
    ("POST", "/api/v1/incubation-stays"): lambda w: {"organisation_id": w.org_a.id, "applied_on": TODAY},
    ("POST", "/api/v1/incubation-stays/{stay_id}/assess"): lambda w: {"on": TODAY, "note": "评估通过"},
    ("POST", "/api/v1/incubation-stays/{stay_id}/admit"): lambda w: {
        "start_date": TODAY,
        "planned_months": 12,
        "mentor": "李老师",
        "workspace": "A-101",
    },
    ("POST", "/api/v1/incubation-stays/{stay_id}/start"): lambda w: {"on": TODAY},
    ("POST", "/api/v1/incubation-stays/{stay_id}/extend"): lambda w: {"months": 3, "reason": "项目延期"},
    ("POST", "/api/v1/incubation-stays/{stay_id}/graduate"): lambda w: {"on": TODAY},
    ("POST", "/api/v1/incubation-stays/{stay_id}/exit"): lambda w: {"on": TODAY, "reason": "主动退出"},
    ("POST", "/api/v1/support-activities"): lambda w: {
        "organisation_id": w.org_a.id,
        "kind": "consultation",
        "held_on": TODAY,
        "hours": "1.5",
        "topic": "年检辅导",
        "given_by": "王老师",
    },
    ("POST", "/api/v1/reports"): lambda w: {"kind": KIND_CODE, "period": "2026-02"},
    ("POST", "/api/v1/report-schedules"): lambda w: {"kind": KIND_CODE, "cron": "0 9 1 * *"},
    ("PATCH", "/api/v1/report-schedules/{schedule_id}"): lambda w: {"active": False},
    ("POST", "/api/v1/rubrics"): lambda w: {"name": "新评审表", "purpose": "midterm", "criteria": CRITERIA},
    ("POST", "/api/v1/rubrics/{rubric_id}/versions"): lambda w: {"criteria": CRITERIA},
    ("PUT", "/api/v1/rubrics/{rubric_id}/versions/{version_id}"): lambda w: {"criteria": CRITERIA},
    ("POST", "/api/v1/review-rounds"): lambda w: {
        "name": "中期评估",
        "purpose": "application_review",
        "rubric_version_id": w.rubric_version_id,
    },
    ("POST", "/api/v1/review-rounds/{round_id}/subjects"): lambda w: {
        "subject_type": "application",
        "subject_id": 2,
        "title": "社区助残",
    },
    ("POST", "/api/v1/review-rounds/{round_id}/assignments"): lambda w: {
        "subject_id": w.subject.id,
        "evaluator_id": w.actors["evaluator"].user.id,
    },
    ("POST", "/api/v1/review-rounds/{round_id}/auto-assign"): lambda w: {
        "evaluator_ids": [w.actors["evaluator"].user.id]
    },
    ("POST", "/api/v1/review-rounds/{round_id}/recommendation/adjustments"): lambda w: {
        "subject_id": w.subject.id,
        "recommended": True,
        "reason": "社区急需",
    },
    ("POST", "/api/v1/review-rounds/{round_id}/jury-codes"): lambda w: {
        "subject_id": w.subject.id,
        "count": 2,
    },
    ("POST", "/api/v1/assignments/{assignment_id}/declaration"): lambda w: {"has_conflict": False},
    ("PUT", "/api/v1/assignments/{assignment_id}/sheet"): lambda w: {
        "items": [{"criterion_key": "need", "score": "50"}]
    },
    ("POST", "/api/v1/assignments/{assignment_id}/sheet/submit"): lambda w: {
        "items": [
            {"criterion_key": "need", "score": "50"},
            {"criterion_key": "budget", "score": "30"},
            {"criterion_key": "matched", "score": "0"},
        ]
    },
    ("POST", "/api/v1/evaluator-conflicts"): lambda w: {"organisation_id": w.org_a.id, "reason": "亲属任职"},
    ("POST", "/api/v1/public/jury/{code}/sheet"): lambda w: {
        "items": [
            {"criterion_key": "need", "score": "50"},
            {"criterion_key": "budget", "score": "30"},
            {"criterion_key": "matched", "score": "0"},
        ]
    },
    # grants
    ("POST", "/api/v1/programmes"): lambda w: programme_payload(None, name="2027年微创投"),
    ("PUT", "/api/v1/programmes/{programme_id}"): lambda w: programme_payload(
        w.grants.open_programme.rubric_version_id, name="2027年社区微创投（修订）"
    ),
    ("POST", "/api/v1/programmes/{programme_id}/decide"): lambda w: {
        "decisions": [{"application_id": w.grants.submitted_b.id, "approve": True, "reason": "评审通过"}]
    },
    ("POST", "/api/v1/programmes/{programme_id}/topics"): lambda w: {
        "title": "社区助残",
        "need_id": w.grants.need.id,
    },
    ("POST", "/api/v1/needs"): lambda w: {
        "community": "玉林东路社区",
        "description": "缺少儿童托管",
        "source": "居民议事会",
    },
    ("PUT", "/api/v1/calendar/{year}"): lambda w: {"holidays": ["2027-01-01"], "workdays": []},
    ("POST", "/api/v1/applications"): lambda w: application_payload(
        w.grants.open_programme, w.org_a, title="社区书屋"
    ),
    ("PUT", "/api/v1/applications/{application_id}"): lambda w: {
        k: v
        for k, v in application_payload(w.grants.open_programme, w.org_a).items()
        if k not in ("programme_id", "organisation_id")
    },
    ("POST", "/api/v1/applications/{application_id}/withdraw"): lambda w: {"reason": "项目调整"},
    ("POST", "/api/v1/applications/{application_id}/return"): lambda w: {"reason": "预算需细化"},
    ("POST", "/api/v1/applications/{application_id}/confirm-eligibility"): lambda w: {"decisions": []},
    ("POST", "/api/v1/applications/{application_id}/attachments"): lambda w: {"label": "章程"},
    ("POST", "/api/v1/objections"): lambda w: {
        "application_id": w.grants.in_publicity_b.id,
        "content": "该项目与去年重复",
    },
    ("POST", "/api/v1/objections/{objection_id}/resolve"): lambda w: {
        "upheld": False,
        "resolution": "经核实不属实",
    },
    # awards and money
    ("POST", "/api/v1/awards/{award_id}/sign"): lambda w: {"signed_on": TODAY},
    ("POST", "/api/v1/awards/{award_id}/evaluations"): lambda w: {
        "purpose": "midterm",
        "grade": "good",
        "total": "85",
    },
    ("POST", "/api/v1/awards/{award_id}/evaluation-rounds"): lambda w: {"purpose": "midterm"},
    ("POST", "/api/v1/awards/{award_id}/rectify"): lambda w: {"deadline": "2027-01-31", "reason": "台账不全"},
    ("POST", "/api/v1/awards/{award_id}/terminate"): lambda w: {"reason": "严重违约"},
    ("POST", "/api/v1/awards/{award_id}/close"): lambda w: {"note": "结项"},
    ("POST", "/api/v1/awards/{award_id}/documents"): lambda w: {"kind": "receipt", "label": "发票"},
    ("POST", "/api/v1/awards/{award_id}/progress-reports"): lambda w: REPORT,
    ("POST", "/api/v1/awards/{award_id}/progress-reports/{report_id}/resubmit"): lambda w: REPORT,
    ("POST", "/api/v1/awards/{award_id}/progress-reports/{report_id}/review"): lambda w: {"approve": True},
    ("POST", "/api/v1/awards/{award_id}/expense-claims"): lambda w: claim(w),
    ("POST", "/api/v1/awards/{award_id}/expense-claims/{claim_id}/resubmit"): lambda w: claim(w),
    ("POST", "/api/v1/awards/{award_id}/expense-claims/{claim_id}/review"): lambda w: {"approve": True},
    ("POST", "/api/v1/disbursements"): lambda w: {"tranche_id": w.grants.tranche_id},
    ("POST", "/api/v1/disbursements/{disbursement_id}/approve"): lambda w: {"note": "同意"},
    ("POST", "/api/v1/disbursements/{disbursement_id}/reject"): lambda w: {"reason": "材料不全"},
    ("POST", "/api/v1/disbursements/{disbursement_id}/pay"): lambda w: PAYMENT,
    ("POST", "/api/v1/contracts"): lambda w: contract_payload(w.org_a.id),
    ("PUT", "/api/v1/contracts/{contract_id}"): lambda w: contract_payload(
        w.org_a.id, title="居家养老服务（修订）"
    ),
    ("POST", "/api/v1/contracts/{contract_id}/sign"): lambda w: {"on": TODAY},
    ("POST", "/api/v1/contracts/{contract_id}/start"): lambda w: {"on": TODAY},
    ("POST", "/api/v1/contracts/{contract_id}/evaluate"): lambda w: {},
    ("POST", "/api/v1/contracts/{contract_id}/complete"): lambda w: {"note": "服务完成"},
    ("POST", "/api/v1/contracts/{contract_id}/terminate"): lambda w: {"reason": "服务中断"},
    ("POST", "/api/v1/capacity-assessments"): lambda w: {
        "organisation_id": w.org_a.id,
        "stage": "intake",
        "assessed_on": TODAY,
        "rubric_version_id": w.rubric_version_id,
        "scores": {"need": "50", "budget": "30"},
        "assessor": "王老师",
    },
    # pages (form fields; the CSRF token is added for every POST)
    ("POST", "/login"): lambda w: {"email": w.actors["finance"].user.email, "password": PASSWORD},
    ("POST", "/lang"): lambda w: {"lang": "en", "next": "/dashboard"},
    ("POST", "/signup"): lambda w: {
        "centre": w.centre.slug,
        "full_name": "新申报人",
        "email": "signup2@example.org",
        "password": "long-enough-1",
        **ORG_FORM,
    },
    ("POST", "/invitations/{token}"): lambda w: {"full_name": "新成员", "password": "long-enough-1"},
    ("POST", "/password-reset"): lambda w: {"email": w.actors["finance"].user.email},
    ("POST", "/password-reset/{token}"): lambda w: {"password": "long-enough-1", "confirm": "long-enough-1"},
    ("POST", "/users/new"): lambda w: {
        "email": "opened@example.org",
        "roles": "evaluator",
        "centre_id": w.centre.id,
    },
    ("POST", "/users/{user_id}/roles"): lambda w: {"roles": "applicant"},
    ("POST", "/organisations/{organisation_id}/owner-invitation"): lambda w: {
        "owner_email": "boss@example.org"
    },
    ("POST", "/organisations/new"): lambda w: ORG_FORM,
    ("POST", "/organisations/{organisation_id}/edit"): lambda w: {**ORG_FORM, "name": "甲社区互助会"},
    ("POST", "/organisations/{organisation_id}/bar"): lambda w: {"until": "2027-01-01", "reason": "材料造假"},
    ("POST", "/organisations/{organisation_id}/lift-bar"): lambda w: {"reason": "整改完成"},
    ("POST", "/organisations/{organisation_id}/members"): lambda w: {"email": "friend@example.org"},
    ("POST", "/organisations/{organisation_id}/stays"): lambda w: {"applied_on": TODAY},
    ("POST", "/stays/{stay_id}/{action}"): lambda w: {"on": TODAY, "note": "评估通过"},
    ("POST", "/organisations/{organisation_id}/activities"): lambda w: {
        "kind": "consultation",
        "held_on": TODAY,
        "hours": "1.5",
        "topic": "年检辅导",
        "given_by": "王老师",
    },
    ("POST", "/reports/generate"): lambda w: {"kind": KIND_CODE, "period": "2026-02"},
    ("POST", "/report-schedules"): lambda w: {"kind": KIND_CODE, "cron": "0 9 1 * *"},
    ("POST", "/evaluations/assignments/{assignment_id}/declaration"): lambda w: {"has_conflict": "no"},
    ("POST", "/evaluations/assignments/{assignment_id}/sheet"): lambda w: {"action": "save"},
    ("POST", "/evaluations/rounds"): lambda w: {
        "name": "中期评估",
        "purpose": "application_review",
        "rubric_version_id": str(w.rubric_version_id),
    },
    ("POST", "/evaluations/rounds/{round_id}/subjects"): lambda w: {
        "subject_type": "application",
        "subject_id": "2",
        "title": "社区助残",
    },
    ("POST", "/evaluations/rounds/{round_id}/assignments"): lambda w: {
        "subject_id": str(w.subject.id),
        "evaluator_id": str(w.actors["evaluator"].user.id),
    },
    ("POST", "/evaluations/rounds/{round_id}/auto-assign"): lambda w: {
        "evaluator_ids": str(w.actors["evaluator"].user.id)
    },
    ("POST", "/evaluations/rounds/{round_id}/adjustments"): lambda w: {
        "subject_id": str(w.subject.id),
        "recommended": "yes",
        "reason": "社区急需",
    },
    ("POST", "/organisations/{organisation_id}/capacity"): lambda w: {
        "stage": "intake",
        "assessed_on": TODAY,
        "rubric_version_id": str(w.rubric_version_id),
        "score-need": "50",
        "score-budget": "30",
        "assessor": "王老师",
    },
    ("POST", "/jury/{code}"): lambda w: {},
    ("POST", "/public/publicity/objections"): lambda w: {
        "application_id": str(w.grants.in_publicity_b.id),
        "content": "该项目与去年重复",
    },
    ("POST", "/programmes/new"): lambda w: {
        "name": "2027年微创投",
        "year": "2027",
        "kind": "micro",
        "total_budget": "100000.00",
        "max_award_registered": "20000.00",
        "max_award_community": "10000.00",
        "opens_at": "2027-03-01T09:00",
        "closes_at": "2027-04-01T17:00",
        "tr-1-share_pct": "100",
        "tr-1-trigger": "on_signing",
    },
    ("POST", "/applications/new"): lambda w: {
        "programme_id": str(w.grants.open_programme.id),
        "organisation_id": str(w.org_a.id),
        "title": "社区书屋",
    },
    ("POST", "/applications/{application_id}/edit"): lambda w: {"title": "“银龄互助”社区长者关爱项目"},
    ("POST", "/objections/{objection_id}/resolve"): lambda w: {"upheld": "no", "resolution": "经核实不属实"},
    ("POST", "/finance/disbursements/{disbursement_id}/reject"): lambda w: {"reason": "材料不全"},
    ("POST", "/finance/disbursements/{disbursement_id}/pay"): lambda w: PAYMENT,
    ("POST", "/awards/{award_id}/sign"): lambda w: {"signed_on": TODAY},
    ("POST", "/awards/{award_id}/disbursements"): lambda w: {"tranche_id": str(w.grants.tranche_id)},
    ("POST", "/awards/{award_id}/evaluations"): lambda w: {
        "purpose": "midterm",
        "grade": "good",
        "total": "85",
    },
    ("POST", "/awards/{award_id}/evaluation-rounds"): lambda w: {"purpose": "midterm"},
    ("POST", "/awards/{award_id}/rectify"): lambda w: {"deadline": "2027-01-31", "reason": "台账不全"},
    ("POST", "/awards/{award_id}/terminate"): lambda w: {"reason": "严重违约"},
    ("POST", "/awards/{award_id}/close"): lambda w: {"note": "结项"},
    ("POST", "/awards/{award_id}/progress-reports"): lambda w: {
        "period": "2026年第四季度",
        "narrative": "开展茶话会两场。",
    },
    ("POST", "/awards/{award_id}/progress-reports/{report_id}/review"): lambda w: {"decision": "approve"},
    ("POST", "/awards/{award_id}/expense-claims"): lambda w: {
        "category": "activities",
        "item": "长者茶话会",
        "amount": "800.00",
        "spent_on": TODAY,
    },
    ("POST", "/awards/{award_id}/expense-claims/{claim_id}/review"): lambda w: {"decision": "approve"},
    ("POST", "/contracts/new"): lambda w: {
        "purchaser": "成都市武侯区玉林街道办事处",
        "purchaser_uscc": "11510107MB1M12345X",
        "provider_id": str(w.org_a.id),
        "title": "居家养老上门服务",
        "service_category": "elderly",
        "content": "每周一次上门探访。",
        "procurement_method": "competitive_consultation",
        "amount": "200000.00",
        "starts_on": "2027-01-01",
        "ends_on": "2027-12-31",
        "m_share_1": "100",
        "m_condition_1": "on_signing",
        "i_name_1": "上门服务人次",
        "i_target_1": "1500",
        "i_unit_1": "人次",
    },
    ("POST", "/contracts/{contract_id}/{action}"): lambda w: {"on": TODAY},
    ("POST", "/api/v1/funds"): lambda w: {"name": "另一只基金", "scope": "street", "custodian": "区慈善会"},
    ("POST", "/api/v1/funds/{fund_id}/receipts"): lambda w: {
        "received_on": TODAY,
        "source": "enterprise",
        "donor_name": "某企业",
        "amount": "100.00",
    },
    ("POST", "/api/v1/funds/{fund_id}/allocations"): lambda w: {
        "pool_id": w.extra["fund_pool_id"],
        "target": "programme",
        "programme_id": w.grants.open_programme.id,
        "purpose": "elderly",
        "title": "长者助餐",
        "amount": "100.00",
    },
    ("POST", "/api/v1/fund-allocations/{allocation_id}/decide"): lambda w: {"decision": "approved"},
    ("POST", "/api/v1/fund-allocations/{allocation_id}/pay"): lambda w: {
        "voucher_no": "付-1",
        "paid_on": TODAY,
    },
    ("POST", "/api/v1/fund-returns"): lambda w: {"award_id": w.grants.award.id, "returned_on": TODAY},
    ("POST", "/funds/new"): lambda w: {"name": "另一只基金", "scope": "street", "custodian": "区慈善会"},
    ("POST", "/funds/{fund_id}/receipts"): lambda w: {
        "received_on": TODAY,
        "source": "enterprise",
        "donor_name": "某企业",
        "amount": "100.00",
    },
    ("POST", "/funds/{fund_id}/allocations"): lambda w: {
        "pool_id": str(w.extra["fund_pool_id"]),
        "target": "programme",
        "programme_id": str(w.grants.open_programme.id),
        "purpose": "elderly",
        "title": "长者助餐",
        "amount": "100.00",
    },
    ("POST", "/fund-allocations/{allocation_id}/decide"): lambda w: {"decision": "approved"},
    ("POST", "/funds/{fund_id}/returns"): lambda w: {
        "award_id": str(w.grants.award.id),
        "returned_on": TODAY,
    },
    ("POST", "/fund-allocations/{allocation_id}/pay"): lambda w: {"voucher_no": "付-1", "paid_on": TODAY},
}
FORM_ROUTES = frozenset({("POST", "/api/v1/auth/token")})


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path template) the app answers, API and pages (HEAD aside)."""
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        path = route.path_format  # the template without convertors: {award_id}, not {award_id:int}
        if path is None or path in SKIPPED_PATHS or path.startswith("/static"):
            continue
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, path))
    return found


def is_page(path: str) -> bool:
    return not path.startswith("/api/") and path not in {"/healthz", "/readyz"}


def outcome(path: str, response: httpx.Response) -> int:
    status = response.status_code
    location = response.headers.get("location", "")
    if is_page(path) and status in (302, 303) and location.startswith("/login?next="):
        return 401
    if status in (401, 403, 404):
        return status
    return OK


def test_every_route_has_a_row(tmp_path: Path) -> None:
    app = create_app(test_settings(f"sqlite+aiosqlite:///{tmp_path / 'routes.db'}", tmp_path))
    routes = app_routes(app)
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, "routes without a row in MATRIX: " + ", ".join(f"{m} {p}" for m, p in missing)
    assert not stale, "rows in MATRIX for routes that no longer exist: " + ", ".join(
        f"{m} {p}" for m, p in stale
    )
    assert len(routes) > 100
    unknown_params = {
        name for _m, path in routes for name in re.findall(r"{(\w+)}", path) if name not in PATH_PARAMS
    }
    assert not unknown_params, f"path parameters without a value in PATH_PARAMS: {unknown_params}"


@pytest_asyncio.fixture
async def callers(
    app: FastAPI, session: AsyncSession
) -> AsyncIterator[tuple[World, dict[str, httpx.AsyncClient]]]:
    world = await build_world(session)
    clients: dict[str, httpx.AsyncClient] = {}
    transport = httpx.ASGITransport(app=app)
    try:
        for role in ROLES:
            http = httpx.AsyncClient(transport=transport, base_url="https://testserver")
            clients[role] = http
            page = await http.get("/login")
            assert page.status_code == 200
            if role != "anon":
                csrf = http.cookies["seedbed_csrf"]
                email = world.actors[role].user.email
                response = await http.post(
                    "/login", data={"email": email, "password": PASSWORD, "csrf_token": csrf}
                )
                assert response.status_code == 303, (role, response.text[:300])
        await add_http_records(world, clients["staff"])
        yield world, clients
    finally:
        for http in clients.values():
            await http.aclose()


# Money is approved and paid only under an Idempotency-Key (a 400 without one).
KEYED_ROUTES = {
    ("POST", "/api/v1/disbursements/{disbursement_id}/approve"),
    ("POST", "/api/v1/disbursements/{disbursement_id}/pay"),
}


async def call(http: httpx.AsyncClient, world: World, role: str, method: str, path: str) -> httpx.Response:
    url = path.format(**{name: param(world, path, name) for name in re.findall(r"{(\w+)}", path)})
    make_body = BODIES.get((method, path))
    body = make_body(world) if make_body else {}
    make_query = QUERIES.get((method, path))
    query = make_query(world) if make_query else None
    file_field = FILES.get((method, path))
    files = {file_field: ("proof.pdf", PDF, "application/pdf")} if file_field else None
    headers: dict[str, str] = {}
    if not is_page(path):
        if role != "anon":
            headers.update(world.actors[role].headers)
        if (method, path) in KEYED_ROUTES:
            headers["Idempotency-Key"] = f"matrix-{uuid.uuid4()}"
        if method in ("GET", "DELETE"):
            return await http.request(method, url, params=query, headers=headers)
        if (method, path) in FORM_ROUTES or files:
            return await http.request(method, url, data=body, files=files, headers=headers)
        return await http.request(method, url, json=body, headers=headers)
    if method == "GET":
        return await http.get(url, params=query)
    form = {**body, "csrf_token": http.cookies.get("seedbed_csrf", "")}
    return await http.request(method, url, data=form, files=files)


def param(world: World, path: str, name: str) -> object:
    override = PATH_OVERRIDES.get((path, name))
    return override(world) if override else PATH_PARAMS[name](world)


async def test_permission_matrix(
    callers: tuple[World, dict[str, httpx.AsyncClient]], connection: AsyncConnection
) -> None:
    world, clients = callers
    dump = os.environ.get("PROOF_MATRIX_DUMP") == "1"
    failures: list[str] = []
    observed: dict[tuple[str, str], dict[str, int]] = {}
    for key in sorted(MATRIX, key=lambda k: (k[1], k[0])):
        method, path = key
        observed[key] = {}
        for role in ROLES:
            http = clients[role]
            cookies = httpx.Cookies(http.cookies)  # /logout, /login and /lang change them
            savepoint = await connection.begin_nested()
            try:
                response = await call(http, world, role, method, path)
            finally:
                await savepoint.rollback()
                http.cookies = cookies
            got = outcome(path, response)
            observed[key][role] = got
            if response.status_code >= 500:
                failures.append(f"{method} {path} as {role}: {response.status_code} {response.text[:200]}")
            elif got != MATRIX[key][role]:
                failures.append(
                    f"{method} {path} as {role}: expected {MATRIX[key][role]}, got "
                    f"{response.status_code} {response.text[:160]!r}"
                )
    if dump:
        for (method, path), roles in observed.items():
            print(f'    ("{method}", "{path}"): {roles},')
    assert not failures, f"{len(failures)} mismatches:\n" + "\n".join(failures)
