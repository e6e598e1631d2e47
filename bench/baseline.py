"""The baseline: a minimal Starlette app on raw asyncpg that runs the very SQL Seedbed ran.

``BENCH_CAPTURE`` names a JSON file of captured statements per endpoint (see
``bench.__main__.capture_sql``); ``GET /{endpoint}?id=N`` replays them in one transaction,
with the captured record id replaced by ``N``, and answers the last result as JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CAPTURE: dict[str, dict[str, Any]] = {}
POOL: dict[str, asyncpg.Pool] = {}


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "__dt__" in value:
        import datetime as dt

        return dt.datetime.fromisoformat(value["__dt__"])
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


@asynccontextmanager
async def lifespan(_app: Starlette) -> AsyncIterator[None]:
    with open(os.environ["BENCH_CAPTURE"], encoding="utf-8") as handle:
        CAPTURE.update(json.load(handle))
    POOL["db"] = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=2, max_size=10)
    yield
    await POOL["db"].close()


async def endpoint(request: Request) -> Response:
    captured = CAPTURE[request.path_params["name"]]
    record_id = int(request.query_params.get("id", captured["id"]))
    rows: list[Any] = []
    async with POOL["db"].acquire() as conn, conn.transaction():
        for statement in captured["statements"]:
            params = [
                record_id if p == captured["id"] and captured["id"] else _decode(p)
                for p in statement["params"]
            ]
            rows = await conn.fetch(statement["sql"], *params)
    body = json.dumps([dict(r) for r in rows], default=str, ensure_ascii=False)
    return Response(body, media_type="application/json")


app = Starlette(routes=[Route("/{name}", endpoint)], lifespan=lifespan)
