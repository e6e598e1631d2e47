"""``Idempotency-Key`` on POST: a retried request answers the first result and creates nothing.

The stored answer is written in the request's own transaction, so it exists exactly when
the work it describes was committed. The same key with a different body is a 422.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import idempotency
from core.errors import Conflict
from core.i18n import _
from core.identity.principal import Principal

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=idempotency.MAX_KEY_LENGTH,
        description="Any unique string per intended operation; a retry with the same key and body "
        "answers the first result and changes nothing.",
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"


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
    retention = dt.timedelta(hours=request.app.state.settings.idempotency_retention_hours)
    stored = await idempotency.replay(
        session,
        user_id=principal.user_id,
        key=key,
        method_path=method_path,
        body_hash=digest,
        retention=retention,
    )
    if stored is not None:
        return JSONResponse(
            stored.response, status_code=stored.status_code, headers={REPLAYED_HEADER: "true"}
        )
    result = await action()
    payload = result.model_dump(mode="json")
    try:
        await idempotency.remember(
            session,
            user_id=principal.user_id,
            key=key,
            method_path=method_path,
            body_hash=digest,
            status_code=status_code,
            response=payload,
        )
    except IntegrityError as exc:  # the same key committed meanwhile by a concurrent first attempt
        raise Conflict(
            _("A request with this Idempotency-Key was just processed; retry to get its answer")
        ) from exc
    return JSONResponse(payload, status_code=status_code)
