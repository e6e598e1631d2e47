"""Bad input gets a 4xx naming the field, never a 500 and never a silently wrong record.

Each test here pins a defect the fuzzer (``test_fuzz``) found, on both databases.
"""

from __future__ import annotations

import io
import re
import typing
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from openpyxl import load_workbook
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.convertors import IntegerConvertor

from api.app import create_app
from core.identity.models import Role
from reports.briefing import KIND_CODE
from tests.factories import PASSWORD, Actor, make_centre, make_user
from tests.grants.factories import contract_payload, programme_payload, review_rubric_version
from tests.incubator.helpers import make_org, org_payload


async def _staff(session: AsyncSession) -> Actor:
    return await make_user(session, await make_centre(session), Role.staff)


def _activity(organisation_id: int) -> dict[str, Any]:
    """A support activity without its hours."""
    return {
        "organisation_id": organisation_id,
        "kind": "training",
        "held_on": "2026-03-01",
        "topic": "财务培训",
        "given_by": "王老师",
    }


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
    activity = _activity(org.id)
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
    budget = schema["components"]["schemas"]["RoundCreate"]["properties"]["programme_budget"]["anyOf"]
    assert budget[0] == {"type": "integer", "minimum": 0, "maximum": 999_999_999_999}
    assert budget[1]["pattern"] == r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"


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
    for model in ("ProgressActualIn", "ContractActualIn"):
        actual = schema[model]["properties"]["actual"]["anyOf"]
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
    amount = schema["PayIn"]["properties"]["amount"]["anyOf"]
    assert amount[0] == {"type": "integer", "minimum": 1, "maximum": 999_999_999_999}
    assert amount[1]["pattern"] == r"^([1-9][0-9]{0,11}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
    assert schema["ExpenseClaimIn"]["properties"]["amount"]["anyOf"] == amount
    assert schema["ContractIn"]["properties"]["amount"]["anyOf"] == amount
    price = schema["BudgetLineIn"]["properties"]["unit_price"]["anyOf"]
    assert price[1]["pattern"] == r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,2})?$"


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


# --- exact input: money and other decimals as documented, or a 422 on the field --------------

BAD_AMOUNTS: tuple[object, ...] = (
    "100.125",
    "0.005",
    "0.001",
    "1e3",
    "1E3",
    "1_000.00",
    "١٢٣.٠٠",  # Arabic-Indic digits
    "１２３",  # full-width digits
    " .5",
    ".5",
    "5.",
    " 5",
    "5 ",
    "+5",
    "0x10",
    "NaN",
    "Infinity",
    "1000000000000",
    100.5,
    100.125,
    True,
)


async def _contracts(client: httpx.AsyncClient, staff: Actor) -> int:
    total: int = (await client.get("/api/v1/contracts", headers=staff.headers)).json()["total"]
    return total


async def test_money_is_taken_as_documented_or_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """ "100.125" was stored as 100.13, "1e3" and Arabic-Indic digits were read, "0.001" was
    refused as "below 0". The schema's pattern and the server now agree on every case."""
    staff = await _staff(session)
    org = await make_org(session, staff)
    for bad in BAD_AMOUNTS:
        response = await client.post(
            "/api/v1/contracts", json=contract_payload(org.id, amount=bad), headers=staff.headers
        )
        assert response.status_code == 422, (bad, response.text)
        assert _field(response) == "amount", bad
    assert await _contracts(client, staff) == 0
    places = await client.post(
        "/api/v1/contracts", json=contract_payload(org.id, amount="0.001"), headers=staff.headers
    )
    assert "金额最多两位小数" in places.json()["error"]["message"]
    for good, stored in (("1234.5", "1234.50"), ("300", "300.00"), (5000, "5000.00"), (5000.0, "5000.00")):
        response = await client.post(
            "/api/v1/contracts", json=contract_payload(org.id, amount=good), headers=staff.headers
        )
        assert response.status_code == 201, (good, response.text)
        assert response.json()["amount"] == stored
    schema = (await client.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    documented = schema["ContractIn"]["properties"]["amount"]["anyOf"]
    assert documented[0] == {"type": "integer", "minimum": 1, "maximum": 999_999_999_999}
    pattern = re.compile(documented[1]["pattern"])
    assert not [bad for bad in BAD_AMOUNTS if isinstance(bad, str) and pattern.match(bad)]
    assert all(pattern.match(good) for good in ("1234.5", "300", "0.01", "999999999999.99"))


async def test_other_decimals_keep_their_documented_places(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Hours (one place), shares and targets (two) read "1.25", "1e1" and full-width digits."""
    staff = await _staff(session)
    org = await make_org(session, staff)
    activity = _activity(org.id)
    for bad in ("1.25", "1e1", "１２", "1_0", " 2", "2.", "-1"):
        response = await client.post(
            "/api/v1/support-activities", json={**activity, "hours": bad}, headers=staff.headers
        )
        assert response.status_code == 422, bad
        assert _field(response) == "hours"
    places = await client.post(
        "/api/v1/support-activities", json={**activity, "hours": "1.25"}, headers=staff.headers
    )
    assert "最多一位小数" in places.json()["error"]["message"]
    listed = await client.get(f"/api/v1/support-activities?organisation_id={org.id}", headers=staff.headers)
    assert listed.json()["total"] == 0
    for bad, field in (("33.333", "milestones.0.share_pct"), ("1e3", "indicators.0.target")):
        payload = contract_payload(org.id)
        if field.startswith("milestones"):
            payload["milestones"] = [{"share_pct": bad, "condition": "on_signing"}]
        else:
            payload["indicators"] = [{"name": "服务人次", "target": bad, "unit": "人次"}]
        response = await client.post("/api/v1/contracts", json=payload, headers=staff.headers)
        assert response.status_code == 422, bad
        assert _field(response) == field


# --- text the database cannot store ----------------------------------------------------------


async def test_nul_bytes_in_json_bodies_name_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """A NUL byte anywhere in a JSON body was a 500 on PostgreSQL; a lone surrogate on both."""
    staff = await _staff(session)
    before = (await client.get("/api/v1/organisations", headers=staff.headers)).json()["total"]
    for body, field in (
        (org_payload(name="坏\u0000名字"), "name"),
        (org_payload(service_fields=["elderly"], description="说明\u0000"), "description"),
    ):
        response = await client.post("/api/v1/organisations", json=body, headers=staff.headers)
        assert response.status_code == 422, response.text
        assert _field(response) == field
        assert "无法保存的字符" in response.json()["error"]["message"]
    surrogate = '{"name": "\\ud800坏名字", "kind": "community_group", "legal_status": "filed"}'
    response = await client.post(
        "/api/v1/organisations",
        content=surrogate,
        headers={**staff.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert _field(response) == "name"
    after = (await client.get("/api/v1/organisations", headers=staff.headers)).json()["total"]
    assert after == before
    rubric = {
        "name": "评审表",
        "purpose": "application_review",
        "criteria": [{"key": "a", "name": "甲\u0000", "max_points": "100"}],
    }
    response = await client.post("/api/v1/rubrics", json=rubric, headers=staff.headers)
    assert response.status_code == 422
    assert _field(response) == "criteria.0.name"
    rubric["criteria"] = [{"key": "a", "name": "甲", "max_points": "100", "sub_criteria": ["好\u0000"]}]
    response = await client.post("/api/v1/rubrics", json=rubric, headers=staff.headers)
    assert response.status_code == 422
    assert _field(response) == "criteria.0.sub_criteria"


async def test_nul_bytes_in_query_strings_and_forms_name_the_field(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Query strings and form fields (the login forms too, before anyone is logged in)."""
    staff = await _staff(session)
    response = await client.get("/api/v1/organisations?q=%00", headers=staff.headers)
    assert response.status_code == 422, response.text
    assert _field(response) == "q"
    response = await client.post(
        "/api/v1/auth/token", data={"username": f"{staff.user.email}\u0000", "password": "whatever-1"}
    )
    assert response.status_code == 422, response.text
    assert _field(response) == "username"
    login = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert token is not None
    response = await client.post(
        "/login",
        data={"email": "a\u0000@example.org", "password": "whatever-1", "csrf_token": token.group(1)},
    )
    assert response.status_code == 422
    assert "无法保存的字符" in response.text
    response = await client.post(
        "/api/v1/auth/token", data={"username": staff.user.email, "password": PASSWORD}
    )
    assert response.status_code == 200


# --- unknown fields and lax coercions ---------------------------------------------------------


async def test_unknown_fields_are_refused_not_dropped(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    staff = await _staff(session)
    before = (await client.get("/api/v1/organisations", headers=staff.headers)).json()["total"]
    response = await client.post(
        "/api/v1/organisations", json={**org_payload(), "staf_count": 3}, headers=staff.headers
    )
    assert response.status_code == 422
    assert _field(response) == "staf_count"
    assert "未知字段" in response.json()["error"]["message"]
    after = (await client.get("/api/v1/organisations", headers=staff.headers)).json()["total"]
    assert after == before
    schema = (await client.get("/api/v1/openapi.json")).json()["components"]["schemas"]
    assert schema["OrganisationCreate"]["additionalProperties"] is False


def _request_models(app: FastAPI) -> set[type[BaseModel]]:
    """Every model a request body is read into, nested ones included."""
    models: set[type[BaseModel]] = set()

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in models:
                models.add(annotation)
                for field in annotation.model_fields.values():
                    walk(field.annotation)
            return
        for argument in typing.get_args(annotation):
            walk(argument)

    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for parameter in route.dependant.body_params:
                walk(parameter.field_info.annotation)
    return models


PROBES = {"number": (False, True), "date": (0, 20260301), "bool": (1, 0)}


def _kinds(schema: dict[str, Any]) -> set[str]:
    kinds: set[str] = set()
    for part in schema.get("anyOf", []):
        kinds |= _kinds(part)
    if schema.get("type") in ("integer", "number"):
        kinds.add("number")
    if schema.get("type") == "boolean":
        kinds.add("bool")
    if schema.get("type") == "string" and schema.get("format") in ("date", "date-time"):
        kinds.add("date")
    return kinds


def _probes(prop: dict[str, Any]) -> list[Any]:
    """Values of the wrong JSON type for a property: ``false`` for a number, ``0`` for a date…"""
    values: list[Any] = [value for kind in _kinds(prop) for value in PROBES[kind]]
    for part in [prop, *prop.get("anyOf", [])]:
        if isinstance(part.get("items"), dict):
            values += [[value] for kind in _kinds(part["items"]) for value in PROBES[kind]]
        if isinstance(part.get("additionalProperties"), dict):
            values += [
                {"k": value} for kind in _kinds(part["additionalProperties"]) for value in PROBES[kind]
            ]
    return values


async def test_every_request_model_refuses_unknown_fields_and_lax_coercions(app: FastAPI) -> None:
    """``false`` is not a number, ``0`` not a date, ``1`` not a flag, in every request body."""
    models = _request_models(app)
    assert len(models) > 70
    lax: list[str] = []
    for model in sorted(models, key=lambda m: m.__qualname__):
        with pytest.raises(ValidationError) as refused:
            model.model_validate({"surely_not_a_field": 1})
        assert ("surely_not_a_field",) in [e["loc"] for e in refused.value.errors()], model
        schema = model.model_json_schema(mode="validation")
        for name, prop in schema.get("properties", {}).items():
            for value in _probes(prop):
                try:
                    model.model_validate({name: value})
                except ValidationError as exc:
                    if any(error["loc"][:1] == (name,) for error in exc.errors()):
                        continue
                lax.append(f"{model.__qualname__}.{name} accepts {value!r}")
    assert not lax, "\n".join(lax)
