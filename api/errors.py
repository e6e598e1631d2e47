"""One error shape for the API, HTML error pages for the web, never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.web import login_url, render
from core.dberrors import meaning_of
from core.errors import DomainError, FieldError
from core.i18n import _, gettext

log = logging.getLogger("seedbed.errors")

# Field names as users see them. Domains' fields are labelled here too, in the language
# of the request; an unknown field falls back to its API name.
FIELD_LABELS: dict[str, str] = {}


def register_field_labels(labels: dict[str, str]) -> None:
    FIELD_LABELS.update(labels)


def field_label(name: str) -> str:
    label = FIELD_LABELS.get(name)
    return gettext(label) if label else name


def _validation_message(error: dict[str, Any]) -> str:
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("This field is required")
    if kind in {"string_too_short", "too_short"}:
        return _("Too short (at least {n})").format(n=ctx.get("min_length", ""))
    if kind in {"string_too_long", "too_long"}:
        return _("Too long (at most {n})").format(n=ctx.get("max_length", ""))
    if kind == "string_pattern_mismatch":
        return _("The format is not valid")
    if kind == "extra_forbidden":
        return _("Unknown field: this request does not take it")
    if kind == "greater_than":
        return _("Must be above {n}").format(n=ctx.get("gt", ""))
    if kind == "greater_than_equal":
        return _("Must be at least {n}").format(n=ctx.get("ge", ""))
    if kind in {"less_than", "less_than_equal"}:
        return _("Must be at most {n}").format(n=ctx.get("lt", ctx.get("le", "")))
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("Must be a whole number")
    if kind.startswith("decimal") or kind in {"float_parsing", "float_type"}:
        return _("Must be an amount such as 1234.50")
    if kind in {"date_parsing", "date_from_datetime_parsing", "date_type", "datetime_parsing"}:
        return _("Must be a date such as 2026-03-01")
    if kind in {"enum", "literal_error"}:
        return _("Not one of the allowed values")
    if kind in {"bool_parsing", "bool_type"}:
        return _("Must be true or false")
    if kind == "value_error":
        message = str(ctx.get("error", error.get("msg", "")))
        if "email" in message.lower():
            return _("Not a valid email address")
        return gettext(message)
    if kind == "json_invalid":
        return _("The request body is not valid JSON")
    if kind in {"model_attributes_type", "dict_type", "list_type", "model_type"}:
        return _("The request body is not in the expected form")
    return _("The value is not valid")


def validation_details(errors: list[dict[str, Any]]) -> list[FieldError]:
    details: list[FieldError] = []
    for error in errors[:50]:
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "form")
        ]
        if error.get("type") == "json_invalid":
            location = []  # the loc is a character offset in the text, not a field
        field = ".".join(location) or "body"
        message = _validation_message(error)
        if field != "body":
            leaf = next((p for p in reversed(location) if not p.isdigit()), field)
            message = f"{field_label(leaf)}: {message}"
        details.append(FieldError(field, message))
    return details


def wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and request.url.path not in {"/healthz", "/readyz"}


def error_response(
    request: Request, status: int, code: str, message: str, details: list[FieldError] | None = None
) -> Response:
    if wants_html(request):
        if status == 401:
            return RedirectResponse(login_url(request), status_code=303)
        return render(
            request,
            "web/error.html",
            {"status": status, "message": message, "details": details or []},
            status_code=status,
        )
    body = {
        "error": {
            "code": code,
            "message": message,
            "details": [d.as_dict() for d in details or []],
        }
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def domain_error_response(request: Request, exc: DomainError) -> Response:
    response = error_response(request, exc.status_code, exc.code, exc.message, exc.details)
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path (RFC 9110 ``Allow``), not only the first route's."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(request.url.path):
            methods.update(route.methods or ())
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        return domain_error_response(request, exc)

    async def _database(request: Request, exc: Exception) -> Response:
        meaning = meaning_of(exc)
        if meaning is None:
            return await _unexpected(request, exc)
        cause = getattr(exc, "orig", None) or exc
        summary = str(cause).splitlines()[0][:200] if str(cause) else ""
        log.warning(
            "%s %s answered %d: %s %s %s [%s]",
            request.method,
            request.url.path,
            meaning.status_code,
            type(cause).__name__,
            getattr(cause, "sqlstate", "") or "",
            summary,
            " ".join(str(getattr(exc, "statement", "") or "").split())[:120],
        )
        return domain_error_response(request, meaning)

    for database_failure in (StaleDataError, DBAPIError, PoolTimeout, ConnectionError):
        app.add_exception_handler(database_failure, _database)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        details = validation_details(list(exc.errors()))
        message = details[0].message if len(details) == 1 else _("Some fields are not valid")
        return error_response(request, 422, "validation_error", message, details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        messages = {
            404: _("Not found"),
            405: _("This method is not allowed here"),
            413: _("The request is too large"),
        }
        message = messages.get(exc.status_code, str(exc.detail))
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        response = error_response(request, exc.status_code, code, message)
        for name, value in (exc.headers or {}).items():
            response.headers.setdefault(name, value)
        if exc.status_code == 405:
            response.headers["Allow"] = ", ".join(allowed_methods(request))
        return response

    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(request, 500, "internal_error", _("Something went wrong on our side"))

    app.add_exception_handler(Exception, _unexpected)


register_field_labels({"email": "Email", "password": "Password"})
