"""One error shape for the API, HTML error pages for the web, never a bare 500."""

from __future__ import annotations

import functools
import logging
from typing import Any, get_args

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.web import login_url, render
from core.dberrors import meaning_of
from core.errors import DomainError, FieldError
from core.fields import RequestModel
from core.i18n import _, gettext

log = logging.getLogger("seedbed.errors")


def _request_models() -> list[type[RequestModel]]:
    found: list[type[RequestModel]] = []
    pending: list[type[RequestModel]] = [RequestModel]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.append(sub)
                pending.append(sub)
    return found


@functools.cache
def _schema_titles() -> dict[str, str]:
    """Field names → titles, from every request schema's fields (gathered once, when first
    needed, by which time every schema is imported): the label of a field named where no
    schema is at hand — a query parameter, a form field, a dictionary key."""
    titles: dict[str, str] = {}
    for model in _request_models():
        for name, field in model.model_fields.items():
            if field.title:
                titles.setdefault(name, field.title)
    return titles


def _route_titles(app: Starlette) -> dict[str, str]:
    """Titles of the parameters an app's routes declare outside a schema (a header, a file)."""
    titles: dict[str, str] | None = getattr(app.state, "parameter_titles", None)
    if titles is None:
        titles = {}
        routes = [context.original_route for context in iter_route_contexts(app.routes)]
        pending = [route.dependant for route in routes if isinstance(route, APIRoute)]
        while pending:
            dependant = pending.pop()
            pending.extend(dependant.dependencies)
            for param in (
                *dependant.path_params,
                *dependant.query_params,
                *dependant.header_params,
                *dependant.body_params,
            ):
                if param.field_info.title:
                    titles.setdefault(param.alias, param.field_info.title)
        app.state.parameter_titles = titles
    return titles


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The schema a field holds: ``M``, ``M | None``, ``list[M]``, ``Annotated[M, …]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        model = _model_in(argument)
        if model is not None:
            return model
    return None


def _schema_title(model: type[BaseModel], location: list[str]) -> str | None:
    """The title of the field at ``location`` in ``model``, through nested schemas and lists."""
    current: type[BaseModel] | None = model
    title: str | None = None
    for part in location:
        if part.isdigit():
            continue
        field = current.model_fields.get(part) if current is not None else None
        if field is None:
            return None
        title, current = field.title, _model_in(field.annotation)
    return title


def field_label(
    name: str,
    *,
    model: type[BaseModel] | None = None,
    location: list[str] | None = None,
    app: Starlette | None = None,
) -> str:
    """A field as users see it, in the request's language: the title of the schema's field that
    failed, else the title any request schema (or one of the app's parameters) gives that
    name; an untitled field is named as the API names it."""
    title = _schema_title(model, location or [name]) if model is not None else None
    if title is None:
        title = _schema_titles().get(name) or (_route_titles(app).get(name) if app is not None else None)
    return gettext(title) if title else name


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


def validation_details(
    errors: list[dict[str, Any]], *, model: type[BaseModel] | None = None, app: Starlette | None = None
) -> list[FieldError]:
    """Field errors of a validation; ``model`` is the schema the location starts in."""
    details: list[FieldError] = []
    for error in errors[:50]:
        in_body = error.get("loc", ("body",))[:1] not in (("query",), ("path",), ("header",), ("cookie",))
        location = [
            str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path", "form")
        ]
        if error.get("type") == "json_invalid":
            location = []  # the loc is a character offset in the text, not a field
        field = ".".join(location) or "body"
        message = _validation_message(error)
        if field != "body":
            leaf = next((p for p in reversed(location) if not p.isdigit()), field)
            schema = model if in_body else None
            message = f"{field_label(leaf, model=schema, location=location, app=app)}: {message}"
        details.append(FieldError(field, message))
    return details


def _body_model(request: Request) -> type[BaseModel] | None:
    """The schema of the matched route's body, where a body error's location starts."""
    route = request.scope.get("route")
    body = route.body_field if isinstance(route, APIRoute) else None
    annotation = body.field_info.annotation if body is not None else None
    if isinstance(annotation, type) and issubclass(annotation, RequestModel):
        return annotation
    return None


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
        details = validation_details(list(exc.errors()), model=_body_model(request), app=request.app)
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
