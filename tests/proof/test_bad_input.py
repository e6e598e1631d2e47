"""Bad input gets a 4xx naming the field, never a 500 and never a silently wrong record.

Each test here pins a defect the fuzzer (``test_fuzz``) found, on both databases.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.convertors import IntegerConvertor

from api.app import create_app
from core.identity.models import Role
from reports.briefing import KIND_CODE
from tests.factories import Actor, make_centre, make_user
from tests.grants.helpers import programme_payload, review_rubric_version
from tests.incubator.helpers import make_org, org_payload
from tests.money.factories import contract_payload


async def _staff(session: AsyncSession) -> Actor:
    return await make_user(session, await make_centre(session), Role.staff)


def _field(response: httpx.Response) -> str:
    field: str = response.json()["error"]["details"][0]["field"]
    return field


async def test_405_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/centres")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_a_number_is_not_a_date(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff = await _staff(session)
    org = await make_org(session, staff)
    for value in (0, "0", 20260301):
        response = await client.post(
            "/api/v1/incubation-stays",
            json={"organisation_id": org.id, "applied_on": value},
            headers=staff.headers,
        )
        assert response.status_code == 422, value
        assert _field(response) == "applied_on"
        assert "2026-03-01" in response.json()["error"]["message"]


async def test_true_is_not_a_count_and_one_is_not_true(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await _staff(session)
    response = await client.post(
        "/api/v1/organisations", json=org_payload(staff_count=True), headers=staff.headers
    )
    assert response.status_code == 422
    assert _field(response) == "staff_count"
    policy = {"min_legal_status": "filed", "min_capacity_score": "60", "require_completed_project": 0}
    response = await client.put("/api/v1/graduation-policy", json=policy, headers=staff.headers)
    assert response.status_code == 422
    assert _field(response) == "require_completed_project"


async def test_decimals_are_strings_or_integers_never_floats(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await _staff(session)
    org = await make_org(session, staff)
    activity = {
        "organisation_id": org.id,
        "kind": "training",
        "held_on": "2026-03-01",
        "topic": "财务培训",
        "given_by": "王老师",
    }
    for bad in (1.5, ""):
        response = await client.post(
            "/api/v1/support-activities", json={**activity, "hours": bad}, headers=staff.headers
        )
        assert response.status_code == 422, bad
        assert _field(response) == "hours"
    for good, stored in (("1.5", "1.5"), (2, "2.0"), (2.0, "2.0")):
        response = await client.post(
            "/api/v1/support-activities", json={**activity, "hours": good}, headers=staff.headers
        )
        assert response.status_code == 201, response.text
        assert Decimal(response.json()["hours"]) == Decimal(stored)


async def test_hours_above_the_bound_are_refused_not_a_500(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """On SQLite the CHECK (hours <= 1000) compared the scaled integer: 150 h was a 500."""
    staff = await _staff(session)
    org = await make_org(session, staff)
    activity = {
        "organisation_id": org.id,
        "kind": "event",
        "held_on": "2026-03-01",
        "topic": "社区节",
        "given_by": "李",
    }
    response = await client.post(
        "/api/v1/support-activities", json={**activity, "hours": "150"}, headers=staff.headers
    )
    assert response.status_code == 422
    assert _field(response) == "hours"
    response = await client.post(
        "/api/v1/support-activities", json={**activity, "hours": "100"}, headers=staff.headers
    )
    assert response.status_code == 201
    assert Decimal(response.json()["hours"]) == 100


async def test_null_for_a_required_organisation_field_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await _staff(session)
    org = await make_org(session, staff, staff_count=7)
    response = await client.patch(
        f"/api/v1/organisations/{org.id}",
        json={"staff_count": None, "volunteer_count": None, "community": None, "founded_on": None},
        headers=staff.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["staff_count"] == 7
    assert body["community"] == "玉林北路社区"
    assert body["founded_on"] is None


async def test_extending_past_sixty_months_names_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await _staff(session)
    org = await make_org(session, staff)
    stay: dict[str, Any] = (
        await client.post(
            "/api/v1/incubation-stays",
            json={"organisation_id": org.id, "applied_on": "2026-01-05"},
            headers=staff.headers,
        )
    ).json()
    base = f"/api/v1/incubation-stays/{stay['id']}"
    steps = [
        ("assess", {"on": "2026-01-10", "note": "评估通过"}),
        ("admit", {"start_date": "2026-02-01", "planned_months": 58, "mentor": "李老师", "workspace": "A-1"}),
        ("start", {"on": "2026-02-01"}),
    ]
    for action, body in steps:
        assert (await client.post(f"{base}/{action}", json=body, headers=staff.headers)).status_code == 200
    response = await client.post(
        f"{base}/extend", json={"months": 3, "reason": "项目延期"}, headers=staff.headers
    )
    assert response.status_code == 422
    assert _field(response) == "months"
    assert "60" in response.json()["error"]["message"]
    response = await client.post(
        f"{base}/extend", json={"months": 2, "reason": "项目延期"}, headers=staff.headers
    )
    assert response.status_code == 200
    assert response.json()["planned_months"] == 60


async def test_export_survives_control_characters_and_keeps_formulas_as_text(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await _staff(session)
    await make_org(session, staff, name="坏\x07名字")
    await make_org(session, staff, name='=HYPERLINK("http://x.example","点我")')
    response = await client.get("/api/v1/organisations/export.xlsx", headers=staff.headers)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    names = {row[0].value for row in sheet.iter_rows(min_row=2)}
    assert "坏名字" in names
    formula = next(row[0] for row in sheet.iter_rows(min_row=2) if str(row[0].value).startswith("="))
    assert formula.data_type == "s"


async def test_budgets_are_never_negative_and_say_so(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await _staff(session)
    rubric = await client.post(
        "/api/v1/rubrics",
        json={
            "name": "评审表",
            "purpose": "application_review",
            "criteria": [{"key": "a", "name": "甲", "max_points": "100"}],
        },
        headers=staff.headers,
    )
    version_id = rubric.json()["versions"][0]["id"]
    response = await client.post(
        "/api/v1/review-rounds",
        json={
            "name": "评审",
            "purpose": "application_review",
            "rubric_version_id": version_id,
            "programme_budget": "-1.00",
        },
        headers=staff.headers,
    )
    assert response.status_code == 422
    assert _field(response) == "programme_budget"
    schema = (await client.get("/api/v1/openapi.json")).json()
    budget = schema["components"]["schemas"]["RoundCreate"]["properties"]["programme_budget"]["anyOf"][0]
    assert budget["pattern"] == r"^\d{1,12}\.\d{2}$"


async def test_grant_shares_and_targets_are_documented_as_accepted(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """An empty share or target was advertised as valid and refused as "not an amount"."""
    staff = await _staff(session)
    assert staff.user.centre_id is not None
    version = await review_rubric_version(session, staff.user.centre_id)
    for bad in ("", 12.5):
        plan = [{"share_pct": bad, "trigger": "on_signing"}]
        response = await client.post(
            "/api/v1/programmes", json=programme_payload(version, tranche_plan=plan), headers=staff.headers
        )
        assert response.status_code == 422, bad
        assert _field(response) == "tranche_plan.0.share_pct"
    created = await client.post("/api/v1/programmes", json=programme_payload(version), headers=staff.headers)
    assert created.status_code == 201, created.text
    schema = (await client.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    share = schema["TrancheRowIn"]["properties"]["share_pct"]["anyOf"]
    assert share[0] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert share[1]["pattern"].startswith("^(")
    target = schema["IndicatorIn"]["properties"]["target"]["anyOf"]
    assert target[0] == {"type": "integer", "minimum": 0, "maximum": 10_000_000}
    actual = schema["grants__payments__schemas__ActualIn"]["properties"]["actual"]["anyOf"]
    assert actual[0]["maximum"] == 1_000_000_000
    scores = schema["CapacityAssessmentCreate"]["properties"]["scores"]["additionalProperties"]["anyOf"]
    assert scores[0] == {"type": "integer", "minimum": 0, "maximum": 1000}


async def test_money_above_zero_is_documented_without_a_minus_or_zero(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Payments, claims and contract amounts said "-1.00" was fine, then refused it (must be > 0)."""
    staff = await _staff(session)
    org = await make_org(session, staff)
    for bad in ("-1.00", "0.00"):
        response = await client.post(
            "/api/v1/contracts", json=contract_payload(org.id, amount=bad), headers=staff.headers
        )
        assert response.status_code == 422, bad
        assert _field(response) == "amount"
    schema = (await client.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    pattern = schema["PayIn"]["properties"]["amount"]["pattern"]
    assert pattern == r"^(0\.(0[1-9]|[1-9]\d)|[1-9]\d{0,11}\.\d{2})$"
    assert schema["ExpenseClaimIn"]["properties"]["amount"]["pattern"] == pattern
    assert schema["ContractIn"]["properties"]["amount"]["pattern"] == pattern
    assert schema["BudgetLineIn"]["properties"]["unit_price"]["pattern"] == r"^\d{1,12}\.\d{2}$"


async def test_schedule_recipients_are_user_ids(client: httpx.AsyncClient, session: AsyncSession) -> None:
    staff = await _staff(session)
    response = await client.post(
        "/api/v1/report-schedules",
        json={"kind": KIND_CODE, "cron": "0 8 1 * *", "recipients": [0]},
        headers=staff.headers,
    )
    assert response.status_code == 422
    assert _field(response) == "recipients.0"


def _unbounded(schema: dict[str, Any], components: dict[str, Any], where: str, seen: set[str]) -> list[str]:
    """Places in a request schema where a number, string, list or map has no upper bound."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _unbounded(components[name], components, f"{where}<{name}>", seen | {name})
    problems: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for index, part in enumerate(schema.get(key, [])):
            problems += _unbounded(part, components, f"{where}[{index}]", seen)
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        return problems
    if kind in ("integer", "number") and "maximum" not in schema and "exclusiveMaximum" not in schema:
        problems.append(f"{where}: {kind} without maximum")
    if kind == "string" and "maxLength" not in schema and schema.get("format") not in ("date", "date-time"):
        pattern = schema.get("pattern", "")
        if not (
            pattern.startswith("^") and pattern.endswith("$") and "*" not in pattern and "+" not in pattern
        ):
            problems.append(f"{where}: string without maxLength")
    if kind == "array":
        if "maxItems" not in schema:
            problems.append(f"{where}: array without maxItems")
        problems += _unbounded(schema.get("items", {}), components, f"{where}[]", seen)
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                problems.append(f"{where}: map without maxProperties")
            problems += _unbounded(extra, components, f"{where}{{}}", seen)
        for name, prop in schema.get("properties", {}).items():
            problems += _unbounded(prop, components, f"{where}.{name}", seen)
    return problems


async def test_every_input_has_an_upper_bound(client: httpx.AsyncClient) -> None:
    """Every number, string, list and map a client can send is bounded (parameters and bodies)."""
    document = (await client.get("/api/v1/openapi.json")).json()
    components = document["components"]["schemas"]
    problems: list[str] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                problems += _unbounded(parameter["schema"], components, f"{where} {parameter['name']}", set())
            for content in operation.get("requestBody", {}).get("content", {}).values():
                problems += _unbounded(content["schema"], components, f"{where} body", set())
    assert not problems, "\n".join(sorted(set(problems)))


class TestAnswersAtTheEdge:
    """Oversized bodies, broken JSON and wrong methods: the right status, in the user's language."""

    LIMIT = 25 * 1024 * 1024

    async def test_an_announced_oversized_body_is_a_413_in_the_error_shape(
        self, client: httpx.AsyncClient
    ) -> None:
        body = b"x" * (self.LIMIT + 1)
        chinese = await client.post(
            "/api/v1/organisations", content=body, headers={"content-type": "application/json"}
        )
        assert chinese.status_code == 413
        assert chinese.json() == {
            "error": {"code": "payload_too_large", "message": "请求内容过大", "details": []}
        }
        english = await client.post(
            "/api/v1/organisations",
            content=body,
            headers={"content-type": "application/json", "accept-language": "en"},
        )
        assert english.json()["error"]["message"] == "The request is too large"
        page = await client.post(
            "/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        self.assert_error_page(page)

    async def test_a_streamed_oversized_body_is_a_413_in_the_error_shape(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff = await _staff(session)

        async def chunks(head: bytes = b"") -> AsyncIterator[bytes]:
            yield head
            for _ in range(27):
                yield b" " * (1024 * 1024)

        response = await client.post(
            "/api/v1/organisations",
            content=chunks(),
            headers={**staff.headers, "content-type": "application/json"},
        )
        assert "content-length" not in response.request.headers
        assert response.status_code == 413
        assert response.json() == {
            "error": {"code": "payload_too_large", "message": "请求内容过大", "details": []}
        }
        upload = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n'
        page = await client.post(
            "/login", content=chunks(upload), headers={"content-type": "multipart/form-data; boundary=b"}
        )
        self.assert_error_page(page)

    @staticmethod
    def assert_error_page(page: httpx.Response) -> None:
        assert page.status_code == 413
        assert page.headers["content-type"].startswith("text/html")
        assert "请求内容过大" in page.text

    async def test_malformed_json_names_the_body(
        self, client: httpx.AsyncClient, session: AsyncSession
    ) -> None:
        staff = await _staff(session)
        for language, message in (
            ("zh", "请求内容不是有效的 JSON"),
            ("en", "The request body is not valid JSON"),
        ):
            response = await client.post(
                "/api/v1/organisations",
                content=b'{"name": x}',
                headers={**staff.headers, "content-type": "application/json", "accept-language": language},
            )
            assert response.status_code == 422
            assert response.json()["error"]["message"] == message
            assert response.json()["error"]["details"] == [{"field": "body", "message": message}]

    @pytest.mark.parametrize(
        ("method", "path", "allow"),
        [
            ("PATCH", "/api/v1/organisations/export.xlsx", "GET"),
            ("PATCH", "/api/v1/organisations/signup", "POST"),
            ("GET", "/api/v1/organisations/signup", "POST"),
            ("PUT", "/api/v1/calendar/working-days", "GET"),
        ],
    )
    async def test_a_literal_path_never_matches_an_id_route(
        self, client: httpx.AsyncClient, session: AsyncSession, method: str, path: str, allow: str
    ) -> None:
        staff = await _staff(session)
        response = await client.request(method, path, headers=staff.headers)
        assert response.status_code == 405
        assert response.headers["allow"] == allow
        assert response.json()["error"]["code"] == "method_not_allowed"

    def test_every_integer_path_parameter_is_an_integer_in_the_path(self) -> None:
        """``{organisation_id:int}``: so ``/organisations/export.xlsx`` can never reach an id route."""
        untyped = [
            f"{route.path} {parameter.name}"
            for route in iter_route_contexts(create_app(run_scheduler=False).routes)
            for parameter in (route.dependant.path_params if getattr(route, "dependant", None) else [])
            if parameter.field_info.annotation is int
            and not isinstance(route.param_convertors.get(parameter.name), IntegerConvertor)
        ]
        assert not untyped
