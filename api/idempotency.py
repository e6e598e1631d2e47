"""``Idempotency-Key`` on POST: a retried request answers the first result and creates nothing.

The key is claimed before the work and the answer stored in the request's own transaction,
so it exists exactly when the work it describes was committed. Concurrent requests with
one key get the first one's answer (they wait for it), or 409 ``in_progress`` with
``Retry-After`` if it takes longer than a lock wait; never a contradicting answer. The
same key with a different body is a 422.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core import idempotency
from core.dberrors import meaning_of
from core.errors import DomainError, FieldError, InProgress
from core.i18n import N_, _
from core.identity.principal import Principal

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        title=N_("Idempotency key"),
        max_length=idempotency.MAX_KEY_LENGTH,
        description="Any unique string per intended operation; a retry with the same key and body "
        "answers the first result and changes nothing.",
    ),
]
RequiredIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=idempotency.MAX_KEY_LENGTH,
        description="Required: a unique string per intended approval or payment; a retry with the same "
        "key and body answers the first result and changes nothing.",
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"


class KeyRequired(DomainError):
    status_code = 400
    code = "idempotency_key_required"


def required_key(key: str | None) -> str:
    """Money is approved and paid only under a key: a retry after a lost answer (a timeout, a
    dropped connection) then gets the first answer instead of a second decision or payment."""
    if key is None or not key.strip():
        message = _(
            "Send an Idempotency-Key header, a unique string for this approval or payment: "
            "a retried request then answers the first result instead of acting twice"
        )
        raise KeyRequired(message, details=[FieldError("Idempotency-Key", message)])
    return key


async def idempotent(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    key: str | None,
    body: BaseModel | None,
    action: Callable[[], Awaitable[BaseModel]],
    *,
    status_code: int = 200,
) -> JSONResponse:
    if key is None:
        result = await action()
        return JSONResponse(result.model_dump(mode="json"), status_code=status_code)
    key = idempotency.check_key(key)
    method_path = f"{request.method} {request.url.path}"
    digest = idempotency.body_digest(body.model_dump(mode="json") if body is not None else None)
    user_id = principal.user_id
    retention = dt.timedelta(hours=request.app.state.settings.idempotency_retention_hours)
    try:
        claimed = await idempotency.claim(
            session, user_id=user_id, key=key, method_path=method_path, body_hash=digest, retention=retention
        )
    except DBAPIError as exc:
        # Still waiting for the first request with this key after the lock timeout.
        if meaning_of(exc) is None:
            raise
        raise _in_progress() from exc
    if claimed is None:
        stored = await idempotency.replay(
            session, user_id=user_id, key=key, method_path=method_path, body_hash=digest
        )
        if stored is None:  # taken and released again between the two statements
            raise _in_progress()
        return JSONResponse(
            stored.response, status_code=stored.status_code, headers={REPLAYED_HEADER: "true"}
        )
    result = await action()
    payload = result.model_dump(mode="json")
    await idempotency.answer(session, claimed, status_code=status_code, response=payload)
    return JSONResponse(payload, status_code=status_code)


def _in_progress() -> InProgress:
    return InProgress(
        _("A request with this Idempotency-Key is still being processed; retry shortly to get its answer")
    )


async def run_once(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    key: str,
    body: dict[str, str],
    action: Callable[[], Awaitable[object]],
) -> bool:
    """A page form's hidden key (minted when the page was rendered): the first submission runs
    ``action`` and answers True; the same form sent again (a double click, a reload) runs
    nothing and answers False. The same claim as the JSON API's ``Idempotency-Key``."""
    key = idempotency.check_key(key)
    method_path = f"{request.method} {request.url.path}"
    digest = idempotency.body_digest(body)
    retention = dt.timedelta(hours=request.app.state.settings.idempotency_retention_hours)
    # A savepoint: when the action fails (a form error the page shows), the key is released
    # with it, so the corrected form can be sent again.
    savepoint = await session.begin_nested()
    try:
        try:
            claimed = await idempotency.claim(
                session,
                user_id=principal.user_id,
                key=key,
                method_path=method_path,
                body_hash=digest,
                retention=retention,
            )
        except DBAPIError as exc:
            if meaning_of(exc) is None:
                raise
            raise _in_progress() from exc
        if claimed is None:
            stored = await idempotency.replay(
                session, user_id=principal.user_id, key=key, method_path=method_path, body_hash=digest
            )
            if stored is None:
                raise _in_progress()
            ran = False
        else:
            await action()
            await idempotency.answer(session, claimed, status_code=303, response={})
            ran = True
    except BaseException:
        await savepoint.rollback()
        raise
    await savepoint.commit()
    return ran
