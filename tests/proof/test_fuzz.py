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
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import positive_data_acceptance

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


REJECTED_HEADER = "x-test-rejected-by"


def _marking(app: FastAPI) -> None:
    """Marks answers where a type or bound of the schema refused the request.

    Errors of custom validators (``value_error``: "weights add up to 100", an email address
    the mail library refuses) are rules, like a domain rule's 422, and are not marked.
    """
    handler = app.exception_handlers[RequestValidationError]

    async def marking_validation_handler(request: Request, exc: Exception) -> Response:
        response: Response = await handler(request, exc)  # type: ignore[misc]
        assert isinstance(exc, RequestValidationError)
        if any(error.get("type") != "value_error" for error in exc.errors()):
            response.headers[REJECTED_HEADER] = "request-validation"
        return response

    app.exception_handlers[RequestValidationError] = marking_validation_handler


@dataclass
class FuzzTarget:
    app: FastAPI
    schema: Any
    url: str


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """The app on a real, migrated SQLite file, and its OpenAPI schema.

    Built when the first fuzz test runs, not at import: building the schema costs tens of
    seconds, which every test worker would otherwise pay at collection.
    """
    root = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite+aiosqlite:///{root / 'fuzz.db'}"
    app = create_app(test_settings(url, root), run_scheduler=False)
    _marking(app)
    try:
        yield FuzzTarget(app, schemathesis.openapi.from_asgi("/api/v1/openapi.json", app), url)
    finally:
        asyncio.run(app.state.engine.dispose())


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
def staff_headers(fuzz_target: FuzzTarget) -> dict[str, str]:
    upgrade_database(fuzz_target.url)
    token = asyncio.run(_populate(fuzz_target.url))
    return {"Authorization": f"Bearer {token}"}


def _conformance_test(cases: Any, excluded: list[Any], headers: dict[str, str]) -> Any:
    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def conforms(case: Any) -> None:
        case.call_and_validate(
            headers=headers,
            excluded_checks=excluded,
            additional_checks=[schema_valid_request_passes_validation],
        )

    return conforms


# Revoking the caller's own token would leave every later case unauthenticated.
EXCLUDED_PATHS = frozenset({"/api/v1/auth/revoke"})


def test_api_conforms_to_its_schema(fuzz_target: FuzzTarget, staff_headers: dict[str, str]) -> None:
    """Every operation, positive and negative cases, ``MAX_EXAMPLES`` each, derandomised.

    One test walks the operations itself (rather than one generated test per operation)
    so that the schema is built only by the worker that runs this file.
    """
    failures: list[str] = []
    operations = 0
    for result in fuzz_target.schema.get_all_operations():
        operation = result.ok()
        if operation.path in EXCLUDED_PATHS:
            continue
        operations += 1
        excluded: list[Any] = [positive_data_acceptance]
        cases = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )
        try:
            _conformance_test(cases, excluded, staff_headers)()
        except Exception as exc:  # every operation is tried; all failures are reported together
            failures.append(f"{operation.label}: {exc}"[:2000])
    assert operations > 70
    assert not failures, "\n\n".join(failures)


def test_every_operation_of_the_schema_is_fuzzable(fuzz_target: FuzzTarget) -> None:
    results = list(fuzz_target.schema.get_all_operations())
    broken = [result.err() for result in results if isinstance(result, Err)]
    assert not broken
    assert len(results) > 70
