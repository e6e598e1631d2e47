"""Text that reaches a handler can be stored: checked once for every route, before any handler.

JSON bodies are checked by ``core.fields.RequestModel``; this covers what arrives outside a
body model — query strings, path segments and form fields (the login forms, the pages'
forms, upload labels and file names). PostgreSQL refuses a NUL byte in text and no
database can encode a lone surrogate, so either would otherwise surface as a 500.
"""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import UploadFile

from api.errors import field_label
from api.pages.forms import read_form
from core.errors import ValidationFailed
from core.fields import UNSTORABLE_MESSAGE, unstorable
from core.i18n import gettext

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def _texts(request: Request) -> list[tuple[str, str]]:
    texts = [*request.query_params.multi_items()]
    texts += [(name, value) for name, value in request.path_params.items() if isinstance(value, str)]
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        for name, value in (await read_form(request)).multi_items():
            if isinstance(value, UploadFile):
                texts.append((name, value.filename or ""))
            else:
                texts.append((name, value))
    return texts


async def refuse_unstorable_text(request: Request) -> None:
    """422 naming the first query parameter, path segment or form field that cannot be stored."""
    for name, value in await _texts(request):
        if unstorable(name) or unstorable(value):
            message = f"{field_label(name, app=request.app)}: {gettext(UNSTORABLE_MESSAGE)}"
            raise ValidationFailed.field(name, message)
