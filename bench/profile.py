"""``python -m bench.profile``: where one request's time goes, endpoint by endpoint.

Seeds a size once into a PostgreSQL database it keeps (``--keep``) so later runs reuse it,
then drives each bench endpoint and page in-process through the ASGI app under cProfile and prints
the mean wall time per request, the SQL time inside it, and the top functions by own time.

    python -m bench.profile --size XS            # seed (first time) and profile every endpoint
    python -m bench.profile --only application_detail --top 40
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pickle
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event

from bench.__main__ import ENDPOINTS, PAGES, admin_url, seed, settings_for, sqlalchemy_url
from bench.seed import SIZES, World

STATE = Path(tempfile.gettempdir()) / "seedbed-profile"


async def ensure_database(size: str) -> tuple[str, World]:
    STATE.mkdir(exist_ok=True)
    name = f"seedbed_profile_{size.lower()}"
    dsn = profile_dsn(size)
    world_file = STATE / f"{name}.pickle"
    conn = await asyncpg.connect(admin_url())
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and world_file.exists():
            return dsn, pickle.loads(world_file.read_bytes())
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    from api.cli import upgrade_database

    await asyncio.to_thread(upgrade_database, sqlalchemy_url(dsn))
    world, timings = await seed(dsn, SIZES[size])
    print("seeded:", json.dumps({k: round(v, 1) for k, v in timings.items()}, ensure_ascii=False))
    world_file.write_bytes(pickle.dumps(world))
    return dsn, world


async def profile(args: argparse.Namespace) -> None:
    from api.app import create_app

    dsn, world = await ensure_database(args.size)
    data_dir = STATE / "data"
    data_dir.mkdir(exist_ok=True)
    app = create_app(settings_for(dsn, data_dir), run_scheduler=False)
    engine = app.state.engine
    sql_time = 0.0
    statements = 0
    starts: dict[int, float] = {}
    per_statement: dict[str, list[float]] = {}

    def before(_c: Any, cursor: Any, *_a: Any) -> None:
        starts[id(cursor)] = time.perf_counter()

    def after(_c: Any, cursor: Any, statement: str, *_a: Any) -> None:
        nonlocal sql_time, statements
        took = time.perf_counter() - starts.pop(id(cursor), time.perf_counter())
        sql_time += took
        statements += 1
        per_statement.setdefault(" ".join(statement.split())[:150], []).append(took)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    bearer = {"Authorization": f"Bearer {world.token}"}
    cookie = {"Cookie": f"seedbed_session={world.session_token}"}
    targets = [(e.name, [p for p, _ in e.paths(world)], bearer) for e in ENDPOINTS]
    targets += [(p.name, p.paths(world), cookie) for p in PAGES]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://profile") as client:
        for name, paths, headers in targets:
            if args.only and name not in args.only.split(","):
                continue
            for path in paths[:3]:  # warm up
                assert (await client.get(path, headers=headers)).status_code == 200, path
            sql_time, statements = 0.0, 0
            per_statement.clear()
            profiler = cProfile.Profile()
            started = time.perf_counter()
            if not args.plain:
                profiler.enable()
            for n in range(args.requests):
                response = await client.get(paths[n % len(paths)], headers=headers)
                assert response.status_code == 200, response.text
            profiler.disable()
            wall = (time.perf_counter() - started) / args.requests * 1000
            print(
                f"\n== {name}: {wall:.2f} ms/request{'' if args.plain else ' under the profiler'}, "
                f"SQL {sql_time / args.requests * 1000:.2f} ms in {statements / args.requests:.1f} statements"
            )
            if args.sql:
                print_statements(per_statement, args.requests)
            if not args.plain:
                pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
        if args.approvals:
            await profile_approvals(client, world, args, per_statement)
    await engine.dispose()
    if args.drop:
        conn = await asyncpg.connect(admin_url())
        await conn.execute(f'DROP DATABASE IF EXISTS "seedbed_profile_{args.size.lower()}" WITH (FORCE)')
        await conn.close()


async def profile_approvals(
    client: httpx.AsyncClient, world: World, args: argparse.Namespace, per_statement: dict[str, list[float]]
) -> None:
    """Approve disbursements one after another (consumes requested ones; reseed to reset)."""
    headers = {"Authorization": f"Bearer {world.finance_token}"}
    conn = await asyncpg.connect(profile_dsn(args.size))
    try:
        ids = [r[0] for r in await conn.fetch(
            "SELECT id FROM disbursements WHERE state = 'requested' ORDER BY id LIMIT $1", args.approvals
        )]  # fmt: skip
    finally:
        await conn.close()
    for n, disbursement_id in enumerate(ids[:10]):  # warm up: the routes build their state lazily
        response = await client.post(
            f"/api/v1/disbursements/{disbursement_id}/approve",
            json={},
            headers={**headers, "Idempotency-Key": f"profile-{time.time_ns()}-{n}"},
        )
        assert response.status_code == 200, response.text
    ids = ids[10:]
    per_statement.clear()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    if not args.plain:
        profiler.enable()
    for n, disbursement_id in enumerate(ids):
        response = await client.post(
            f"/api/v1/disbursements/{disbursement_id}/approve",
            json={},
            headers={**headers, "Idempotency-Key": f"profile-{time.time_ns()}-{n}"},
        )
        assert response.status_code == 200, response.text
    profiler.disable()
    wall = (time.perf_counter() - started) / max(1, len(ids)) * 1000
    print(f"\n== approve: {wall:.2f} ms/request over {len(ids)} approvals")
    if args.sql:
        print_statements(per_statement, len(ids))
    if not args.plain:
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


def print_statements(per_statement: dict[str, list[float]], requests: int) -> None:
    """Mean time and count per request of each distinct statement, slowest total first."""
    for text, took in sorted(per_statement.items(), key=lambda kv: -sum(kv[1])):
        print(f"   {sum(took) / len(took) * 1000:7.2f} ms x{len(took) / max(1, requests):.1f}  {text}")


def profile_dsn(size: str) -> str:
    return admin_url().rsplit("/", 1)[0] + f"/seedbed_profile_{size.lower()}"


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile")
    parser.add_argument("--size", default="XS", choices=sorted(SIZES))
    parser.add_argument("--only", default="", help="comma-separated endpoint and page names")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--plain", action="store_true", help="time only, no profiler")
    parser.add_argument("--sql", action="store_true", help="mean time of each statement")
    parser.add_argument("--approvals", type=int, default=0, help="also approve this many disbursements")
    parser.add_argument("--drop", action="store_true", help="drop the database afterwards")
    asyncio.run(profile(parser.parse_args()))


if __name__ == "__main__":
    cli()
