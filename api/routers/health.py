from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from api.routing import Router
from core.repository import connection as connection_sql
from core.settings import mask_secrets

log = logging.getLogger("seedbed.health")

router = Router(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    engine: AsyncEngine = request.app.state.engine
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(read_only=True)
            await connection_sql.ping(connection)
    except Exception as exc:  # the answer is the point: not ready, and why
        log.warning("database not ready: %s", mask_secrets(f"{type(exc).__name__}: {exc}"))
        return JSONResponse({"status": "unavailable", "database": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "database": engine.dialect.name})
