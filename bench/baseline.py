"""The baseline: a minimal Starlette app on raw asyncpg that runs the very SQL Seedbed ran.

``BENCH_CAPTURE`` names a JSON file of captured statements per endpoint (see
``bench.__main__.capture_sql``); ``GET /{endpoint}?id=N`` replays them in one transaction
(or each on its own, as Seedbed ran them, for a route that reads without one), with the
captured record id replaced by ``N``, and answers every result it read as JSON
(one list of rows per statement): like Seedbed's answer, it carries all the rows the
request read, not only the last statement's.
"""

from __future__ import annotations

import json
import os
import uuid
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
    results: list[list[dict[str, Any]]] = []
    async with POOL["db"].acquire() as conn:
        transaction = conn.transaction()
        if captured.get("transaction", True):
            await transaction.start()
        for statement in captured["statements"]:
            params = [
                record_id if p == captured["id"] and captured["id"] else _decode(p)
                for p in statement["params"]
            ]
            results.append([dict(r) for r in await conn.fetch(statement["sql"], *params)])
        if captured.get("transaction", True):
            await transaction.commit()
    body = json.dumps(results, default=str, ensure_ascii=False)
    return Response(body, media_type="application/json")


async def approve(request: Request) -> Response:
    """The approval transaction Seedbed ran (``capture_approval``), replayed on disbursement
    ``id``: its tranche and award are read from the replayed SELECT of the disbursement, the
    Idempotency-Key is fresh, the idempotency record is the one the INSERT returns."""
    captured = CAPTURE["approve"]
    disbursement_id = int(request.query_params["id"])
    mapping: dict[Any, Any] = {
        captured["id"]: disbursement_id,
        captured["key"]: f"bench-baseline-{uuid.uuid4()}",
    }
    try:
        await _replay_approval(captured, mapping)
    except NothingToApprove:
        return Response(b'{"approved": false}', status_code=409, media_type="application/json")
    return Response(b'{"approved": true}', media_type="application/json")


class NothingToApprove(Exception):
    """The compare-and-set changed no row: the transaction is rolled back."""


async def _replay_approval(captured: dict[str, Any], mapping: dict[Any, Any]) -> None:
    record_id = None
    async with POOL["db"].acquire() as conn, conn.transaction():
        for statement in captured["statements"]:
            sql: str = statement["sql"]
            params = [
                mapping.get(p, p) if isinstance(p, (int, str)) else _decode(p) for p in statement["params"]
            ]
            if sql.startswith("UPDATE idempotency_records") and record_id is not None:
                params[-1] = record_id
            if sql.startswith("SELECT") or "RETURNING" in sql:
                rows = await conn.fetch(sql, *params)
                if sql.startswith("UPDATE") and not rows:
                    raise NothingToApprove(sql[:60])
            else:
                status = await conn.execute(sql, *params)
                if status.startswith("UPDATE") and status.endswith(" 0"):
                    raise NothingToApprove(sql[:60])
                rows = []
            if " disbursements" in sql.split(" WHERE ")[0] and rows and "tranche_id" in rows[0]:
                # the tranche and award of this disbursement, from the statement that first
                # returns them; an id equal to one already mapped keeps its mapping: were the
                # two to differ for this disbursement, the compare-and-set would change
                # nothing (an error)
                mapping.setdefault(captured["tranche_id"], rows[0]["tranche_id"])
                mapping.setdefault(captured["award_id"], rows[0]["award_id"])
            if sql.startswith("INSERT INTO idempotency_records") and rows:
                record_id = rows[0][0]


app = Starlette(
    routes=[Route("/approve", approve, methods=["POST"]), Route("/{name}", endpoint)], lifespan=lifespan
)
