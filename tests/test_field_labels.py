"""A refused field is named as the user knows it, in their language: the title its schema (or its
route's parameter) declares, through nested schemas and list items."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.identity.models import Role
from tests.factories import make_centre, make_user


def _details(response: httpx.Response) -> dict[str, str]:
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


@pytest.mark.parametrize(("language", "label"), [("zh", "满分"), ("en", "Maximum points")])
async def test_a_nested_field_is_named_by_its_schema_title(
    client: httpx.AsyncClient, session: AsyncSession, language: str, label: str
) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    rubric = {
        "name": "评审表",
        "purpose": "application_review",
        "criteria": [{"key": "a", "name": "甲", "max_points": "many"}],
    }
    response = await client.post(
        "/api/v1/rubrics", json=rubric, headers={**staff.headers, "Accept-Language": language}
    )
    assert response.status_code == 422, response.text
    assert _details(response)["criteria.0.max_points"].startswith(f"{label}: ")


@pytest.mark.parametrize(("language", "label"), [("zh", "幂等键"), ("en", "Idempotency key")])
async def test_a_header_is_named_by_its_parameter_title(
    client: httpx.AsyncClient, session: AsyncSession, language: str, label: str
) -> None:
    staff = await make_user(session, await make_centre(session), Role.staff)
    response = await client.post(
        "/api/v1/disbursements",
        json={"tranche_id": 1},
        headers={**staff.headers, "Accept-Language": language, "Idempotency-Key": "k" * 101},
    )
    assert response.status_code == 422, response.text
    assert _details(response)["header.Idempotency-Key"].startswith(f"{label}: ")
