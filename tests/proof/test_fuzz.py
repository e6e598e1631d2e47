"""Schemathesis against the app's own OpenAPI document, with every check.

The app runs on a real, migrated SQLite file (not the rolled-back test transaction), so a
request that would break the database surfaces here. Callers are staff of a centre that
holds an organisation, a stay, a rubric and a round, so that generated ids now and then
hit real records. Zero server errors and zero answers outside the documented schema.

Bounded: ``MAX_EXAMPLES`` per operation, derandomised, so a run is repeatable and takes
about two minutes.
"""

from __future__ import annotations

import asyncio
import atexit
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from hypothesis import HealthCheck, settings
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    positive_data_acceptance,
    unsupported_method,
)

from api.app import create_app
from api.cli import upgrade_database
from core.db import create_engine, session_factory
from core.identity.models import Role
from tests.conftest import test_settings
from tests.factories import make_centre, make_user
from tests.incubator.helpers import make_org

MAX_EXAMPLES = 20


async def _populate(url: str) -> str:
    """A centre with a staff member and a few records; answers the staff bearer token."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            centre = await make_centre(session, slug="fuzz-centre")
            staff = await make_user(session, centre, Role.staff, Role.evaluator)
            await make_org(session, staff)
            await session.commit()
            return staff.token
    finally:
        await engine.dispose()


# The schema is read at import (schemathesis builds one test per operation at collection);
# the database behind the app is created and filled by the module fixture below.
FUZZ_DIR = Path(tempfile.mkdtemp(prefix="seedbed-fuzz-"))
atexit.register(shutil.rmtree, FUZZ_DIR, True)
FUZZ_URL = f"sqlite+aiosqlite:///{FUZZ_DIR / 'fuzz.db'}"
APP = create_app(test_settings(FUZZ_URL, FUZZ_DIR), run_scheduler=False)
REJECTED_HEADER = "x-test-rejected-by"
_validation_handler = APP.exception_handlers[RequestValidationError]


async def _marking_validation_handler(request: Request, exc: Exception) -> Response:
    """Marks answers where a type or bound of the schema refused the request.

    Errors of custom validators (``value_error``: "weights add up to 100", an email address
    the mail library refuses) are rules, like a domain rule's 422, and are not marked.
    """
    response: Response = await _validation_handler(request, exc)  # type: ignore[misc]
    assert isinstance(exc, RequestValidationError)
    if any(error.get("type") != "value_error" for error in exc.errors()):
        response.headers[REJECTED_HEADER] = "request-validation"
    return response


APP.exception_handlers[RequestValidationError] = _marking_validation_handler
schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", APP)

# /organisations/{organisation_id} also matches these literal paths, so PATCH (and GET on
# signup) is answered there with a 422 for the id rather than a 405; PUT /calendar/{year}
# answers PUT /calendar/working-days (403 for staff: only an admin enters a year).
PATH_OVERLAPS = frozenset(
    {"/api/v1/organisations/export.xlsx", "/api/v1/organisations/signup", "/api/v1/calendar/working-days"}
)


def _header(response: Any, name: str) -> str:
    value = response.headers.get(name) or response.headers.get(name.title())
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


@schemathesis.check
def schema_valid_request_passes_validation(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schemathesis's positive-data check, minus business rules.

    A schema cannot say "the bar ends after today" or "criteria add up to 100"; a domain
    rule's 422 names the field and is the documented contract. But a request the schema
    calls valid must never fail request validation: that is a schema that lies.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code == 422 and _header(response, REJECTED_HEADER) == "request-validation":
        raise AssertionError(f"Schema-valid request rejected by request validation: {response.text[:300]}")
    return None


@pytest.fixture(scope="module")
def staff_headers() -> Iterator[dict[str, str]]:
    upgrade_database(FUZZ_URL)
    token = asyncio.run(_populate(FUZZ_URL))
    try:
        yield {"Authorization": f"Bearer {token}"}
    finally:
        asyncio.run(APP.state.engine.dispose())


# Revoking the caller's own token would leave every later case unauthenticated.
@schema.exclude(path="/api/v1/auth/revoke").parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_api_conforms_to_its_schema(case: Any, staff_headers: dict[str, str]) -> None:
    excluded: list[Any] = [positive_data_acceptance]
    if case.path in PATH_OVERLAPS:
        excluded += [unsupported_method, allow_header_conformance]
    case.call_and_validate(
        headers=staff_headers,
        excluded_checks=excluded,
        additional_checks=[schema_valid_request_passes_validation],
    )


def test_every_operation_of_the_schema_is_fuzzable() -> None:
    results = list(schema.get_all_operations())
    broken = [result.err() for result in results if isinstance(result, Err)]
    assert not broken
    assert len(results) > 70
