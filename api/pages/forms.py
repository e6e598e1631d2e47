"""Form handling for pages: parse into the API's schemas, show errors beside the fields.

Pages and the API validate with the same pydantic schemas and domain rules, so a form
shows exactly the messages the API would answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Container, Iterable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import Response
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


Parsed = tuple[M | None, dict[str, str]]
"""A form read into its schema: the model, or None and the messages by field."""


def parse(model: type[M], values: dict[str, Any]) -> Parsed[M]:
    try:
        return model.model_validate(values), {}
    except ValidationError as exc:
        details = validation_details([dict(e) for e in exc.errors()], model=model)
        return None, {d.field.split(".")[0]: d.message for d in details}


def domain_errors(exc: DomainError) -> dict[str, str]:
    """Field errors of a domain error, or the message under ``__all__``."""
    if exc.details:
        return {d.field: d.message for d in exc.details}
    return {"__all__": exc.message}


async def read_form(request: Request) -> FormData:
    return await request.form(max_files=10, max_fields=500)


class _EveryStatus:
    def __contains__(self, status: object) -> bool:
        return True


EVERY_STATUS: Container[int] = _EveryStatus()
"""``shown=EVERY_STATUS``: every domain error is shown on the form, whatever its status."""


async def submit_form(
    parsed: Parsed[M],
    action: Callable[[M], Awaitable[Response]],
    again: Callable[[dict[str, str], int], Awaitable[Response]],
    *,
    shown: Container[int] = (422,),
    own_status: Container[int] = (),
) -> Response:
    """The one shape of a page's form handler: parse → call the service → redirect, or show the
    form again with its errors beside the fields.

    ``action`` runs only when the form parsed without errors (the caller may add its own to
    ``parsed``) and answers the page to go to, usually a 303 with a flash message. A domain
    error whose status is in ``shown`` becomes the form's errors and ``again`` renders the
    form with them, answered 422 (or the error's own status when it is in ``own_status``, as
    a 429 is); any other domain error reaches the app's handler as on the API.
    """
    data, errors = parsed
    status_code = 422
    if data is not None and not errors:
        try:
            return await action(data)
        except DomainError as exc:
            if exc.status_code not in shown:
                raise
            errors = domain_errors(exc)
            if exc.status_code in own_status:
                status_code = exc.status_code
    return await again(errors, status_code)
