"""Form handling for pages: parse into the API's schemas, show errors beside the fields.

Pages and the API validate with the same pydantic schemas and domain rules, so a form
shows exactly the messages the API would answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from api.errors import validation_details
from core.errors import DomainError

M = TypeVar("M", bound=BaseModel)


def form_values(
    form: FormData, *, lists: Iterable[str] = (), skip: Iterable[str] = ("csrf_token",)
) -> dict[str, Any]:
    """Plain dict from a form: blank optional fields become absent, list fields stay lists."""
    list_fields, skipped = set(lists), set(skip)
    values: dict[str, Any] = {}
    for key in form:
        if key in skipped:
            continue
        if key in list_fields:
            values[key] = [v for v in form.getlist(key) if isinstance(v, str) and v]
            continue
        value = form.get(key)
        if isinstance(value, str) and value.strip() != "":
            values[key] = value.strip()
    for key in list_fields:
        values.setdefault(key, [])
    return values


def parse(model: type[M], values: dict[str, Any]) -> tuple[M | None, dict[str, str]]:
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        details = validation_details([dict(e) for e in exc.errors()])
        return None, {d.field.split(".")[0]: d.message for d in details}


def domain_errors(exc: DomainError) -> dict[str, str]:
    """Field errors of a domain error, or the message under ``__all__``."""
    if exc.details:
        return {d.field: d.message for d in exc.details}
    return {"__all__": exc.message}


async def read_form(request: Request) -> FormData:
    return await request.form(max_files=10, max_fields=500)
