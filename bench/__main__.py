"""``python -m bench``: Seedbed under load, against a raw baseline, at two sizes; and its PDFs.

For each size (S, then L = 10×) the harness creates a throwaway PostgreSQL database,
migrates it, seeds it with COPY (``bench.seed``) and vacuums and analyses it as autovacuum
would, captures the SQL each read endpoint
runs, checks that PostgreSQL plans them without sequential scans on the big tables, then
starts Seedbed (two uvicorn workers, uvloop, httptools) and the baseline (Starlette + raw
asyncpg replaying the same SQL, served the same way) and drives both with 32 keep-alive
connections, split evenly between the two workers (``uvicorn_server``). Then the
PDF figures. Prints a table and writes ``bench/RESULTS.md``.

    python -m bench                      # S and L, 5 s per measurement
    python -m bench --sizes S --duration 3
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.engine import make_url

from bench.load import LoadResult, merged, run_load, run_once
from bench.seed import SEEDERS, SIZES, Size, World

ROOT = Path(__file__).resolve().parent.parent
BIG_TABLES = {
    "organisations",
    "incubation_stays",
    "support_activities",
    "round_subjects",
    "assignments",
    "score_sheets",
    "score_items",
}
CLOSED_ROUNDS = 20
BENCH_PASSWORD = "bench-password-2026"


# --- databases ------------------------------------------------------------------------------


def admin_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_database(prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return str(make_url(admin_url()).set(database=name).render_as_string(hide_password=False))


async def drop_database(dsn: str) -> None:
    conn = await asyncpg.connect(admin_url())
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{make_url(dsn).database}" WITH (FORCE)')
    finally:
        await conn.close()


def sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


def settings_for(dsn: str, data_dir: Path) -> Any:
    from core.settings import Environment, Settings

    return Settings(
        env=Environment.production,
        secret_key=secrets.token_hex(24),
        database_url=sqlalchemy_url(dsn),
        data_dir=data_dir,
        scheduler_in_process=False,
        access_token_minutes=60 * 24,
    )


# --- seeding --------------------------------------------------------------------------------


async def seed(dsn: str, size: Size) -> tuple[World, dict[str, float]]:
    """The people and the rubric through the services; the bulk through ``SEEDERS`` (COPY)."""
    from core.db import create_engine, session_factory
    from core.identity import repository as identity_queries
    from core.identity import service as identity
    from core.identity.models import Role, TokenKind
    from core.identity.schemas import CentreCreate, UserCreate
    from evaluations.results import service as result_service
    from evaluations.rubrics import service as rubric_service
    from evaluations.rubrics.models import RoundPurpose
    from evaluations.rubrics.schemas import RubricCreate

    timings: dict[str, float] = {}
    world = World()
    engine = create_engine(sqlalchemy_url(dsn), statement_timeout_ms=600_000)
    started = time.perf_counter()
    async with session_factory(engine)() as session:
        centre = await identity.create_centre(
            session, CentreCreate(slug="bench", name="基准测试街道孵化中心"), actor=None
        )
        staff = await identity.create_user(
            session,
            UserCreate(
                email="staff@bench.example.org",
                password=BENCH_PASSWORD,
                roles=[Role.staff],
                centre_id=centre.id,
            ),
            actor=None,
        )
        world.centre_id, world.staff_id = centre.id, staff.id
        world.token = await identity.issue_token(session, staff, TokenKind.api, 60 * 24)
        world.session_token = await identity.issue_token(session, staff, TokenKind.session, 60 * 24)
        finance = await identity.create_user(
            session,
            UserCreate(
                email="finance@bench.example.org",
                password=BENCH_PASSWORD,
                roles=[Role.finance],
                centre_id=centre.id,
            ),
            actor=None,
        )
        world.finance_id = finance.id
        world.finance_token = await identity.issue_token(session, finance, TokenKind.api, 60 * 24)
        for n in range(30):
            evaluator = await identity.create_user(
                session,
                UserCreate(
                    email=f"evaluator{n}@bench.example.org",
                    password=BENCH_PASSWORD,
                    roles=[Role.evaluator],
                    centre_id=centre.id,
                ),
                actor=None,
            )
            world.evaluator_ids.append(evaluator.id)
        principal = identity.principal_of(await identity_queries.get_user(session, staff.id))  # type: ignore[arg-type]
        rubric = await rubric_service.create_rubric(
            session,
            principal,
            RubricCreate.model_validate(
                {
                    "name": "公益创投申报评审表",
                    "purpose": RoundPurpose.application_review,
                    "criteria": [
                        {"key": "need", "name": "需求分析", "max_points": "60"},
                        {"key": "budget", "name": "预算合理性", "max_points": "40"},
                    ],
                }
            ),
        )
        world.rubric_version_id = rubric.versions[0].id
        await session.commit()
    timings["people"] = time.perf_counter() - started
    conn = await asyncpg.connect(dsn)
    try:
        rng = random.Random(2026)
        for name, step in SEEDERS:
            started = time.perf_counter()
            async with conn.transaction():
                await step(conn, world, size, rng)
            timings[name] = time.perf_counter() - started
        # What autovacuum does on a deployed server after a bulk load: the statistics, and
        # the visibility map, without which an index-only scan (a list's count) reads every
        # matching row's page as well. This machine's PostgreSQL runs with autovacuum off.
        started = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        timings["vacuum, analyze"] = time.perf_counter() - started
    finally:
        await conn.close()
    started = time.perf_counter()
    async with session_factory(engine)() as session:
        staff_user = await identity_queries.get_user(session, world.staff_id)
        assert staff_user is not None
        principal = identity.principal_of(staff_user)
        for round_id in world.round_ids[:CLOSED_ROUNDS]:
            await result_service.close_round(session, principal, round_id)
        await session.commit()
    timings[f"close {CLOSED_ROUNDS} rounds (aggregation)"] = time.perf_counter() - started
    started = time.perf_counter()
    await seed_midterm(engine, world)
    timings["mid-term evaluation of one award"] = time.perf_counter() - started
    await engine.dispose()
    return world, timings


MIDTERM_CRITERIA = [
    (
        "progress",
        "项目进度",
        "40",
        "活动是否按计划开展，服务人次是否达到阶段目标；查阅活动台账、签到表和照片。",
    ),
    ("quality", "服务质量", "30", "服务对象满意度、服务记录完整性、专业方法运用；抽查服务对象回访记录。"),
    ("finance", "资金使用", "20", "资金是否按预算科目使用，票据是否合规，配套资金是否到位。"),
    ("management", "项目管理", "10", "团队分工、志愿者管理、风险应对和信息公开情况。"),
]
MIDTERM_COMMENTS = [
    "项目按计划推进，探访台账完整，服务对象反馈积极；建议下一阶段加强志愿者培训，细化高龄独居长者的分级探访标准。",
    "服务人次已达到阶段目标的六成以上，活动形式丰富；个别活动签到记录不全，需补充照片和服务记录。",
    "资金使用总体规范，票据齐全；物资采购建议比价三家以上，并在下一次进度报告中说明配套资金到位情况。",
    "团队分工清晰，能够及时回应社区需求；建议建立与社区居委会的月度沟通机制，提升项目可持续性。",
    "项目社会效益初步显现，居民参与度较高；建议总结可复制的做法，形成案例材料，为结项评估做好准备。",
]


async def seed_midterm(engine: Any, world: World) -> None:
    """One award's mid-term evaluation through the services: five experts with comments, closed."""
    from composition.outcomes import start_award_evaluation
    from core.db import session_factory
    from core.identity import repository as identity_queries
    from core.identity import service as identity
    from evaluations.assignments import service as assignment_service
    from evaluations.assignments.schemas import AssignmentCreate, DeclarationIn
    from evaluations.results import service as result_service
    from evaluations.rounds import service as round_service
    from evaluations.rubrics import service as rubric_service
    from evaluations.rubrics.models import RoundPurpose
    from evaluations.rubrics.schemas import RubricCreate
    from evaluations.sheets import service as sheet_service
    from evaluations.sheets.schemas import ScoreItemIn, SheetIn
    from incubator import service as incubator

    async with session_factory(engine)() as session:
        staff_user = await identity_queries.get_user(session, world.staff_id)
        assert staff_user is not None
        staff = identity.principal_of(staff_user)
        await rubric_service.create_rubric(
            session,
            staff,
            RubricCreate.model_validate(
                {
                    "name": "公益创投项目中期评估表",
                    "purpose": RoundPurpose.midterm,
                    "criteria": [
                        {"key": k, "name": n, "max_points": m, "guidance": g}
                        for k, n, m, g in MIDTERM_CRITERIA
                    ],
                }
            ),
        )
        review_round = await start_award_evaluation(session, staff, world.award_ids[0], RoundPurpose.midterm)
        (subject,) = await round_service.list_subjects(session, staff, review_round.id)
        for n, evaluator_id in enumerate(world.evaluator_ids[:5]):
            evaluator_user = await identity_queries.get_user(session, evaluator_id)
            assert evaluator_user is not None
            evaluator = identity.principal_of(evaluator_user)
            assignment = await assignment_service.assign(
                session,
                staff,
                review_round.id,
                AssignmentCreate(subject_id=subject.id, evaluator_id=evaluator_id),
                incubator.member_user_ids,
            )
            await assignment_service.declare(
                session, evaluator, assignment.id, DeclarationIn(has_conflict=False)
            )
            items = [
                ScoreItemIn(
                    criterion_key=key,
                    score=(Decimal(m) * Decimal(80 + 3 * n) / 100).quantize(Decimal("0.5")),
                    comment=MIDTERM_COMMENTS[(n + k) % len(MIDTERM_COMMENTS)],
                )
                for k, (key, _name, m, _guidance) in enumerate(MIDTERM_CRITERIA)
            ]
            await sheet_service.submit_sheet(
                session, evaluator, assignment.id, SheetIn(items=items, comment=MIDTERM_COMMENTS[n])
            )
        await result_service.close_round(session, staff, review_round.id)
        await session.commit()


# --- endpoints and their SQL ------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    label: str
    paths: Callable[[World], list[tuple[str, int]]]
    """(app path, record id for the baseline) pairs the load generator cycles through."""


def _sample(ids: list[int], n: int) -> list[int]:
    return random.Random(7).sample(ids, min(n, len(ids)))


ENDPOINTS = [
    Endpoint(
        "organisations_filtered",
        "organisation list, 50 rows, filtered by legal status and stage",
        lambda w: [
            ("/api/v1/organisations?legal_status=registered&incubation_state=incubating&page_size=50", 0)
        ],
    ),
    Endpoint(
        "organisation_profile",
        "organisation profile",
        lambda w: [
            (f"/api/v1/organisations/{i}", i) for i in _sample(_replayable(w, w.organisation_ids), 500)
        ],
    ),
    Endpoint(
        "round_progress",
        "review round progress (open round, 500 sheets)",
        lambda w: [
            (f"/api/v1/review-rounds/{i}/progress", i)
            for i in _sample(_replayable(w, w.round_ids[CLOSED_ROUNDS:]), 50)
        ],
    ),
    Endpoint(
        "round_results",
        "review round results (closed round)",
        lambda w: [
            (f"/api/v1/review-rounds/{i}/results", i) for i in _replayable(w, w.round_ids[:CLOSED_ROUNDS])
        ],
    ),
    Endpoint(
        "applications_filtered",
        "application list, 50 rows, filtered by programme and state",
        lambda w: [
            (f"/api/v1/applications?programme_id={i}&state=awarded&page_size=50", i)
            for i in _replayable(w, w.programme_ids)
        ],
    ),
    Endpoint(
        "application_detail",
        "application detail (budget lines, indicators, checks, timeline)",
        lambda w: [(f"/api/v1/applications/{i}", i) for i in _sample(_replayable(w, w.application_ids), 500)],
    ),
]


@dataclass(frozen=True)
class Page:
    """An HTML page measured against its JSON counterpart (an ``Endpoint``) for the same rows."""

    name: str
    label: str
    json: str
    paths: Callable[[World], list[str]]


PAGES = [
    Page(
        "application_list_page",
        "application list page, 50 rows, filtered by programme and state",
        "applications_filtered",
        lambda w: [
            f"/applications?programme_id={i}&state=awarded&page_size=50"
            for i in _replayable(w, w.programme_ids)
        ],
    ),
    Page(
        "application_detail_page",
        "application page (the same application as the JSON detail)",
        "application_detail",
        lambda w: [f"/applications/{i}" for i in _sample(_replayable(w, w.application_ids), 500)],
    ),
]


async def browser_cookies(port: int, world: World) -> dict[str, str]:
    """The ``Cookie`` header of a signed-in browser: the session, and the CSRF cookie the
    first page it opened set (a browser sends it back with every later page, which then
    checks it instead of minting and setting a new one)."""
    session = f"seedbed_session={world.session_token}"
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        response = await client.get("/dashboard", headers={"Cookie": session})
    assert response.status_code == 200, response.text
    csrf = response.cookies.get("seedbed_csrf")
    assert csrf, "the first page sets the CSRF cookie"
    return {"Cookie": f"{session}; seedbed_csrf={csrf}"}


def _taken(world: World) -> set[int]:
    """Values the captured SQL may carry besides the record id: the centre, the bench users,
    a page size or limit."""
    return {world.centre_id, world.staff_id, world.finance_id, 50, 51}


def _replayable(world: World, ids: list[int]) -> list[int]:
    """Ids the baseline can substitute safely: none equal to another parameter of the captured
    SQL, which the replay would replace too (a round id equal to the centre's would have the
    baseline read another centre's rows, i.e. none)."""
    return [i for i in ids if i not in _taken(world)] or ids


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"__dt__": value.isoformat()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if hasattr(value, "value"):
        return value.value
    return value


async def capture_sql(dsn: str, world: World, data_dir: Path) -> dict[str, dict[str, Any]]:
    """Run each endpoint once in-process and record the statements it sends to PostgreSQL."""
    from api.app import create_app

    app = create_app(settings_for(dsn, data_dir), run_scheduler=False)
    engine = app.state.engine
    captured: list[dict[str, Any]] = []

    def listen(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        captured.append(
            {"sql": statement, "params": _encode(list(parameters or ())), "autocommit": autocommit}
        )

    result: dict[str, dict[str, Any]] = {}
    headers = {"Authorization": f"Bearer {world.token}"}
    cookie = {"Cookie": f"seedbed_session={world.session_token}"}
    # The pages too, so that their plans are checked for sequential scans like the API's.
    targets = [(e.name, e.paths(world)[0], headers) for e in ENDPOINTS] + [
        (p.name, (p.paths(world)[0], 0), cookie) for p in PAGES
    ]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for name, (path, record_id), auth in targets:
            assert (await client.get(path, headers=auth)).status_code == 200, path
            event.listen(engine.sync_engine, "before_cursor_execute", listen)
            captured.clear()
            response = await client.get(path, headers=auth)
            event.remove(engine.sync_engine, "before_cursor_execute", listen)
            assert response.status_code == 200, response.text
            # A reading route sends no BEGIN and no COMMIT (``reads_only``): its replay neither.
            transaction = not all(statement["autocommit"] for statement in captured)
            # The baseline replaces every parameter equal to the record id by another record's id.
            assert record_id not in _taken(world), f"{name}: record id {record_id} is not replayable"
            result[name] = {
                "id": record_id,
                "statements": list(captured),
                "transaction": transaction,
            }
    await engine.dispose()
    return result


async def capture_approval(dsn: str, world: World, data_dir: Path) -> dict[str, Any]:
    """Approve one requested disbursement in-process and record the statements of that one
    transaction, for the raw asyncpg baseline to replay on other disbursements. The one used
    here is taken out of the world's list."""
    from api.app import create_app

    app = create_app(settings_for(dsn, data_dir), run_scheduler=False)
    engine = app.state.engine
    captured: list[dict[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append({"sql": statement, "params": _encode(list(parameters or ()))})

    headers = {"Authorization": f"Bearer {world.finance_token}"}
    conn = await asyncpg.connect(dsn)
    try:
        # The baseline maps the captured disbursement, tranche and award ids to another
        # disbursement's by value: pick one whose ids are unlike any other parameter of the
        # transaction (user ids, the centre, status codes).
        chosen = None
        for disbursement_id in world.disbursement_ids[1:2000]:
            row = await conn.fetchrow(
                "SELECT tranche_id, award_id FROM disbursements WHERE id = $1", disbursement_id
            )
            tranche_id, award_id = (row["tranche_id"], row["award_id"]) if row else (0, 0)
            if min(disbursement_id, tranche_id, award_id) > 50 and not {
                disbursement_id,
                tranche_id,
                award_id,
            } & {200, 201}:
                chosen = (disbursement_id, tranche_id, award_id)
                break
    finally:
        await conn.close()
    if chosen is None:
        raise RuntimeError("no disbursement to capture an approval on")
    warm_up = world.disbursement_ids[0]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for disbursement_id in (warm_up, chosen[0]):
            world.disbursement_ids.remove(disbursement_id)
            record = disbursement_id == chosen[0]
            if record:
                event.listen(engine.sync_engine, "before_cursor_execute", listen)
            response = await client.post(
                f"/api/v1/disbursements/{disbursement_id}/approve",
                json={},
                headers={**headers, "Idempotency-Key": f"bench-capture-{uuid.uuid4()}"},
            )
            if record:
                event.remove(engine.sync_engine, "before_cursor_execute", listen)
            assert response.status_code == 200, response.text
    await engine.dispose()
    key = next(
        p for st in captured if "idempotency_records" in st["sql"] for p in st["params"]
        if isinstance(p, str) and p.startswith("bench-capture-")
    )  # fmt: skip
    return {
        "id": chosen[0],
        "tranche_id": chosen[1],
        "award_id": chosen[2],
        "key": key,
        "statements": captured,
    }


async def explain(dsn: str, captured: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """Sequential scans on the big tables in the plans of the captured statements."""
    from bench.baseline import _decode

    conn = await asyncpg.connect(dsn)
    findings: dict[str, list[str]] = {}
    try:
        for name, entry in captured.items():
            scans: list[str] = []
            for statement in entry["statements"]:
                sql = statement["sql"]
                if not sql.lstrip().upper().startswith("SELECT"):
                    continue
                plan = await conn.fetchval(
                    f"EXPLAIN (FORMAT JSON) {sql}", *[_decode(p) for p in statement["params"]]
                )
                for node in _nodes(json.loads(plan)[0]["Plan"]):
                    if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in BIG_TABLES:
                        scans.append(node["Relation Name"])
            findings[name] = sorted(set(scans))
    finally:
        await conn.close()
    return findings


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


# --- servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


WORKERS = 2


@contextmanager
def uvicorn_server(target: list[str], env: dict[str, str], log: Path) -> Iterator[list[int]]:
    """``WORKERS`` uvicorn processes of one worker each, each on a port of its own; the load
    generator splits its connections evenly between them (``bench.load``).

    Not ``uvicorn --workers 2``: there the workers share one listening socket, and whichever
    accepts first keeps the keep-alive connection for the whole run. The 32 connections
    opened at once were often all taken by one worker while the other idled, so a
    measurement was of one worker or of two by chance (seen here: the same endpoint at 446
    and at 899 req/s in two runs, the CPU time per request the same), for Seedbed and the
    baseline alike. Split evenly, both are measured on two busy workers every time.
    """
    ports = [free_port() for _ in range(WORKERS)]
    processes: list[subprocess.Popen[bytes]] = []
    outputs = []
    try:
        for n, port in enumerate(ports):
            command = [
                sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1", "--port", str(port),
                "--workers", "1", "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
            ]  # fmt: skip
            output = log.with_suffix(f".{n}.log").open("wb")
            outputs.append(output)
            processes.append(
                subprocess.Popen(
                    command, env={**os.environ, **env}, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
                )
            )
        deadline = time.monotonic() + 60
        for port, process in zip(ports, processes, strict=True):
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        logs = "".join(log.with_suffix(f".{n}.log").read_text() for n in range(WORKERS))
                        raise RuntimeError(f"server did not start: {logs}") from None
                    time.sleep(0.2)
        time.sleep(1.0)  # start-up finished
        yield ports
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for output in outputs:
            output.close()


@dataclass
class EndpointFigures:
    app: LoadResult
    baseline: LoadResult
    seq_scans: list[str] = field(default_factory=list)


async def measure_size(size: Size, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    print(
        f"\n== size {size.name}: {size.organisations:,} organisations, {size.subjects:,} subjects, {size.sheets:,} sheets"
    )
    dsn = await create_database(f"seedbed_bench_{size.name.lower()}")
    try:
        started = time.perf_counter()
        from api.cli import upgrade_database

        await asyncio.to_thread(upgrade_database, sqlalchemy_url(dsn))
        world, timings = await seed(dsn, size)
        seeding = time.perf_counter() - started
        print(f"   seeded in {seeding:.1f} s: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
        data_dir = work / f"data-{size.name}"
        data_dir.mkdir(exist_ok=True)
        captured = await capture_sql(dsn, world, data_dir)
        capture_file = work / f"capture-{size.name}.json"
        capture_file.write_text(json.dumps(captured, ensure_ascii=False))
        scans = await explain(dsn, captured)
        app_env = {
            "SEEDBED_ENV": "production",
            "SEEDBED_SECRET_KEY": secrets.token_hex(24),
            "SEEDBED_DATABASE_URL": sqlalchemy_url(dsn),
            "SEEDBED_DATA_DIR": str(data_dir),
            "SEEDBED_SCHEDULER_IN_PROCESS": "false",
        }
        base_env = {"BENCH_DSN": dsn, "BENCH_CAPTURE": str(capture_file)}
        approval = await capture_approval(dsn, world, data_dir)
        captured["approve"] = approval
        capture_file.write_text(json.dumps(captured, ensure_ascii=False))
        headers = {"Authorization": f"Bearer {world.token}"}
        figures: dict[str, EndpointFigures] = {}
        pages: dict[str, LoadResult] = {}
        page_json: dict[str, LoadResult] = {}
        app_log, base_log = work / f"app-{size.name}.log", work / f"baseline-{size.name}.log"
        with (
            uvicorn_server(["api.app:create_app", "--factory"], app_env, app_log) as app_port,
            uvicorn_server(["bench.baseline:app"], base_env, base_log) as base_port,
        ):
            cookie = await browser_cookies(app_port[0], world)
            for endpoint in ENDPOINTS:
                pairs = endpoint.paths(world)
                app_result = await run_load(
                        "127.0.0.1", app_port, [p for p, _ in pairs], headers=headers,
                        connections=args.connections, duration=args.duration,
                    )  # fmt: skip
                base_result = await run_load(
                        "127.0.0.1", base_port, [f"/{endpoint.name}?id={i}" for _, i in pairs],
                        connections=args.connections, duration=args.duration,
                    )  # fmt: skip
                figures[endpoint.name] = EndpointFigures(
                    app_result, base_result, scans.get(endpoint.name, [])
                )
                print(
                    f"   {endpoint.name:<24} app {app_result.rps:7.0f} req/s p99 {app_result.percentile(99):6.1f} ms"
                    f" ({app_result.errors} errors) | baseline {base_result.rps:7.0f} req/s"
                    f" p99 {base_result.percentile(99):6.1f} ms | seq scans: {', '.join(figures[endpoint.name].seq_scans) or 'none'}"
                )
            for page in PAGES:
                # The JSON counterpart again, just before and just after the page: the two are
                # compared as measured under the same conditions of this shared machine, not a
                # minute apart (the endpoints above).
                json_paths = [p for p, _ in next(e for e in ENDPOINTS if e.name == page.json).paths(world)]
                json_before = await run_load(
                    "127.0.0.1", app_port, json_paths, headers=headers,
                    connections=args.connections, duration=args.duration,
                )  # fmt: skip
                pages[page.name] = await run_load(
                    "127.0.0.1", app_port, page.paths(world), headers=cookie,
                    connections=args.connections, duration=args.duration,
                )  # fmt: skip
                json_after = await run_load(
                    "127.0.0.1", app_port, json_paths, headers=headers,
                    connections=args.connections, duration=args.duration,
                )  # fmt: skip
                page_json[page.name] = merged([json_before, json_after])
                json_rps = page_json[page.name].rps
                print(
                    f"   {page.name:<24} app {pages[page.name].rps:7.0f} req/s p99 {pages[page.name].percentile(99):6.1f} ms"
                    f" ({pages[page.name].errors} errors) | JSON {json_rps:7.0f} req/s"
                    f" | seq scans: {', '.join(scans.get(page.name, [])) or 'none'}"
                )
            print("   disbursement approvals ...")
            # Half the requested disbursements for Seedbed, half for the raw replay of the same transaction.
            ids = list(world.disbursement_ids)
            random.Random(11).shuffle(ids)
            approvals = await run_approvals(app_port, ids[0::2], world, args)
            approvals["baseline"] = (
                await run_approvals(base_port, ids[1::2], world, args, path="/approve?id={id}")
            )["result"]
            print(
                f"   approvals: {approvals['result'].rps:.0f} req/s p99 {approvals['result'].percentile(99):.1f} ms,"
                f" {approvals['result'].requests} approved, {approvals['result'].errors} errors"
                f" | baseline {approvals['baseline'].rps:.0f} req/s, {approvals['baseline'].errors} errors"
            )
        approvals["invariants"] = await money_invariants(dsn)
        print(f"   money invariants: {approvals['invariants']}")
        return {
            "size": size,
            "seeding": seeding,
            "timings": timings,
            "figures": figures,
            "pages": pages,
            "page_json": page_json,
            "page_scans": {page.name: scans.get(page.name, []) for page in PAGES},
            "approvals": approvals,
            "world": world,
            "dsn": dsn,
        }
    except BaseException:
        await drop_database(dsn)
        raise


# --- disbursement approval under load --------------------------------------------------------


async def run_approvals(
    port: int | list[int],
    ids: list[int],
    world: World,
    args: argparse.Namespace,
    path: str = "/api/v1/disbursements/{id}/approve",
) -> dict[str, Any]:
    """A finance officer (not the requester) approves distinct requested disbursements, each once,
    over ``args.connections`` connections with an Idempotency-Key per request."""
    body = b"{}"
    requests = [
        (
            f"POST {path.format(id=i)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {world.finance_token}\r\nIdempotency-Key: bench-{uuid.uuid4()}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
        ).encode()
        + body
        for i in ids
    ]
    result = await run_once("127.0.0.1", port, requests, connections=args.connections, duration=args.duration)
    return {"result": result, "available": len(ids)}


async def money_invariants(dsn: str) -> dict[str, int]:
    """Overshoot counts, all of which must be zero: approved + paid disbursements above an award,
    paid above an award, awards above a programme's budget or a category's budget, a tranche with
    more than one live disbursement, an approval by the requester."""
    conn = await asyncpg.connect(dsn)
    try:
        checks = {
            "awards over-disbursed": """
                SELECT count(*) FROM (
                  SELECT a.id FROM awards a JOIN disbursements d ON d.award_id = a.id
                  WHERE d.state IN ('approved', 'paid') GROUP BY a.id, a.amount HAVING sum(d.amount) > a.amount
                ) x""",
            "awards paid over amount": "SELECT count(*) FROM awards WHERE paid > amount",
            "programmes over budget": """
                SELECT count(*) FROM (
                  SELECT p.id FROM programmes p JOIN awards a ON a.programme_id = p.id
                  GROUP BY p.id, p.total_budget HAVING sum(a.amount) > p.total_budget
                ) x""",
            "categories over budget": """
                SELECT count(*) FROM (
                  SELECT c.id FROM programme_categories c JOIN awards a ON a.category_id = c.id
                  GROUP BY c.id, c.budget HAVING sum(a.amount) > c.budget
                ) x""",
            "tranches with two live disbursements": """
                SELECT count(*) FROM (
                  SELECT tranche_id FROM disbursements WHERE state <> 'rejected' AND tranche_id IS NOT NULL
                  GROUP BY tranche_id HAVING count(*) > 1
                ) x""",
            "approved by the requester": "SELECT count(*) FROM disbursements WHERE approved_by = requested_by",
            "approved disbursements whose tranche is not approved": """
                SELECT count(*) FROM disbursements d JOIN tranches t ON t.id = d.tranche_id
                WHERE d.state = 'approved' AND t.state <> 'approved'""",
        }
        return {name: int(await conn.fetchval(sql)) for name, sql in checks.items()}
    finally:
        await conn.close()


# --- PDF ------------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


async def _bare_and_pipeline(
    factory: Any, html: str, output: Any, kind_code: str, scope_id: int, period: str, runs: int
) -> tuple[list[float], list[float]]:
    """``runs`` bare renders and ``runs`` pipelines, alternated so that both see the same
    background load on a shared machine. The first pipeline (it spawns the worker) is not
    counted; the caller has rendered once already (this process's WeasyPrint and fonts)."""
    from reports.models import Generator
    from reports.pdf import html_to_pdf
    from reports.service import generate

    bare: list[float] = []
    pipeline: list[float] = []
    for n in range(runs + 1):
        async with factory() as session:
            started = time.perf_counter()
            await generate(
                session,
                output,
                kind_code=kind_code,
                scope_id=scope_id,
                period=period,
                generator=Generator.cli,
            )
            await session.commit()
            if n:
                pipeline.append(time.perf_counter() - started)
        if n:
            started = time.perf_counter()
            html_to_pdf(html)
            bare.append(time.perf_counter() - started)
    return bare, pipeline


async def _batch(html: str, workers: int, tasks_per_child: int, batch: int) -> dict[str, float]:
    """``batch`` renders through a pool; the largest worker's RSS early and late in the batch."""
    from reports.pdf import PdfRenderer

    pool = PdfRenderer(workers, tasks_per_child=tasks_per_child)
    samples: list[tuple[int, int]] = []
    done = {"n": 0}

    # Two renders in flight per worker: the pool's time limit counts from submission, so a
    # whole batch submitted at once would time out in the queue on a loaded machine.
    in_flight = asyncio.Semaphore(workers * 2)

    async def render_one() -> None:
        async with in_flight:
            await pool.render(html)
        done["n"] += 1

    async def sample() -> None:
        while done["n"] < batch:
            rss = max((_rss_kb(pid) for pid in pool.worker_pids()), default=0)  # the largest worker
            if rss:
                samples.append((done["n"], rss))
            await asyncio.sleep(0.05)

    await asyncio.gather(*(pool.render(html) for _ in range(workers * 2)))  # spawn and warm every worker
    started = time.perf_counter()
    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(render_one() for _ in range(batch)))
    elapsed = time.perf_counter() - started
    await sampler
    pool.shutdown()
    if not samples:
        raise RuntimeError("no render worker was seen during the batch")
    early = [rss for n, rss in samples if n <= batch * 0.2] or [samples[0][1]]
    late = [rss for n, rss in samples if n >= batch * 0.8] or [samples[-1][1]]
    return {
        "seconds": elapsed,
        "rss_early_mb": statistics.median(early) / 1024,
        "rss_late_mb": statistics.median(late) / 1024,
    }


async def measure_pdf(dsn: str, world: World, work: Path, batch: int) -> dict[str, Any]:
    import io

    from pypdf import PdfReader

    from core.db import create_engine, session_factory
    from reports.archive import FilesystemReportStore
    from reports.briefing import KIND_CODE
    from reports.kinds import get_kind
    from reports.pdf import PdfRenderer, html_to_pdf, render_html
    from reports.registry import register_report_kinds
    from reports.service import ReportOutput

    register_report_kinds()
    kind = get_kind(KIND_CODE)
    period = "2026-02"
    engine = create_engine(sqlalchemy_url(dsn), statement_timeout_ms=600_000)
    factory = session_factory(engine)
    async with factory() as session:
        context = await kind.builder(session, world.centre_id, period)
        html = render_html(kind.template, context)
    pages = len(PdfReader(io.BytesIO(html_to_pdf(html))).pages)
    renderer = PdfRenderer(1, tasks_per_child=1000)
    output = ReportOutput(store=FilesystemReportStore(work / "reports"), renderer=renderer)
    bare, pipeline = await _bare_and_pipeline(
        factory, html, output, KIND_CODE, world.centre_id, period, runs=5
    )
    renderer.shutdown()
    await engine.dispose()

    workers = os.cpu_count() or 1
    # No recycling: memory must stay flat by itself.
    flat = await _batch(html, workers, batch, batch)
    # As in production (``PdfRenderer``'s default recycling), for comparison.
    production = PdfRenderer().tasks_per_child
    recycled = await _batch(html, workers, production, batch)
    return {
        "pages": pages,
        "bare": statistics.median(bare),
        "pipeline": statistics.median(pipeline),
        "batch": batch,
        "workers": workers,
        "batch_seconds": flat["seconds"],
        "rss_early_mb": flat["rss_early_mb"],
        "rss_late_mb": flat["rss_late_mb"],
        "tasks_per_child": production,
        "recycled_seconds": recycled["seconds"],
        "recycled_early_mb": recycled["rss_early_mb"],
        "recycled_late_mb": recycled["rss_late_mb"],
    }


async def measure_report(
    dsn: str, kind_code: str, scope_id: int, period: str, work: Path, runs: int = 5
) -> dict[str, Any]:
    """One report kind: pages, bare WeasyPrint render, and the full pipeline (query + template +
    render in the spawn-based process pool + archive); medians, the worker spawn excluded."""
    import io

    from pypdf import PdfReader

    from core.db import create_engine, session_factory
    from reports.archive import FilesystemReportStore
    from reports.kinds import get_kind
    from reports.pdf import PdfRenderer, html_to_pdf, render_html
    from reports.registry import register_report_kinds
    from reports.service import ReportOutput

    register_report_kinds()
    kind = get_kind(kind_code)
    engine = create_engine(sqlalchemy_url(dsn), statement_timeout_ms=600_000)
    factory = session_factory(engine)
    async with factory() as session:
        started = time.perf_counter()
        context = await kind.builder(session, scope_id, period)
        html = render_html(kind.template, context)
        build = time.perf_counter() - started
    pdf = html_to_pdf(html)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    renderer = PdfRenderer(1, tasks_per_child=1000)
    output = ReportOutput(store=FilesystemReportStore(work / "reports"), renderer=renderer)
    bare, pipeline = await _bare_and_pipeline(factory, html, output, kind_code, scope_id, period, runs)
    renderer.shutdown()
    await engine.dispose()
    return {
        "pages": pages,
        "size_kb": len(pdf) / 1024,
        "build": build,
        "bare": statistics.median(bare),
        "pipeline": statistics.median(pipeline),
    }


# --- report ---------------------------------------------------------------------------------


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "0",
    )
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip() or "PostgreSQL"
    return f"{os.cpu_count()} CPU ({cpu}), {int(memory) // 1024 // 1024} GiB RAM, Python {platform.python_version()}, {pg}"


def verdict(ok: bool) -> str:
    return "✅" if ok else "❌"


def write_results(
    results: list[dict[str, Any]],
    pdf: dict[str, Any] | None,
    reports: dict[str, dict[str, Any]],
    args: argparse.Namespace,
    total: float,
) -> str:
    lines = [
        "# Seedbed benchmark results",
        "",
        f"- date: {dt.datetime.now(dt.UTC).astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {machine()}",
        f"- command: `{' '.join(['python -m bench', *sys.argv[1:]])}` ({args.connections} connections, "
        f"{args.duration:.0f} s per measurement after 1 s warm-up; load generator on the same machine)",
        f"- total run time: {total / 60:.1f} min",
        "- load average (1, 5, 15 min) before the run: "
        + ", ".join(f"{x:.2f}" for x in args.load_before)
        + "; after: "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "- servers: two uvicorn workers (uvloop, httptools), each a process on a port of its own, the load's connections split evenly between them; the same for the baseline = Starlette + raw asyncpg replaying the SQL Seedbed ran, in one transaction where Seedbed opened one and statement by statement where it read without (`reads_only`)",
        "",
    ]
    for result in results:
        size: Size = result["size"]
        lines += [
            f"## Size {size.name}: {size.organisations:,} organisations, {size.subjects:,} round subjects, {size.sheets:,} score sheets",
            "",
            f"Seeded in {result['seeding']:.0f} s ("
            + ", ".join(f"{k} {v:.1f} s" for k, v in result["timings"].items())
            + ").",
            "",
            "| endpoint | req/s | p50 ms | p95 ms | p99 ms | errors | baseline req/s | baseline p99 ms | ratio (≥ 0.5) | p99 ≤ 60 ms | seq scans on big tables |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for endpoint in ENDPOINTS:
            f: EndpointFigures = result["figures"][endpoint.name]
            ratio = f.app.rps / f.baseline.rps if f.baseline.rps else float("nan")
            lines.append(
                f"| {endpoint.label} | {f.app.rps:.0f} | {f.app.p50:.1f} | {f.app.percentile(95):.1f} | "
                f"{f.app.percentile(99):.1f} | {f.app.errors} | {f.baseline.rps:.0f} | {f.baseline.percentile(99):.1f} | "
                f"{ratio:.2f} {verdict(ratio >= 0.5)} | {verdict(f.app.percentile(99) <= 60)} | {', '.join(f.seq_scans) or 'none'} |"
            )
        lines += [
            "",
            "HTML pages against their JSON counterparts for the same rows, same run (target: the page"
            " costs at most 1.5× the JSON, i.e. JSON req/s ÷ page req/s ≤ 1.5); the JSON measured again"
            " just before and just after its page, the two measurements together:",
            "",
            "| page | req/s | p50 ms | p99 ms | errors | JSON req/s | JSON p50 ms | cost ÷ JSON (≤ 1.5) | seq scans on big tables |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for page in PAGES:
            html: LoadResult | None = result["pages"].get(page.name)
            if html is None:
                continue
            counterpart = result["page_json"][page.name]
            cost = counterpart.rps / html.rps if html.rps else float("nan")
            lines.append(
                f"| {page.label} | {html.rps:.0f} | {html.p50:.1f} | {html.percentile(99):.1f} | {html.errors} |"
                f" {counterpart.rps:.0f} | {counterpart.p50:.1f} | {cost:.2f} {verdict(cost <= 1.5)} |"
                f" {', '.join(result['page_scans'].get(page.name, [])) or 'none'} |"
            )
        lines.append("")
    if len(results) == 2:
        small, large = results
        lines += [
            "## Growth: p95 at L ÷ p95 at S (target ≤ 1.3)",
            "",
            "The baseline's own growth, measured beside each, is given for reading the verdict: the"
            " two sizes are measured minutes apart on a shared machine, and where the baseline's"
            " SQL replay grew as much, the machine slowed between them, not the endpoint.",
            "",
            "| endpoint | p95 S ms | p95 L ms | ratio | baseline p95 S ms | baseline p95 L ms | baseline ratio |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for endpoint in ENDPOINTS:
            s = small["figures"][endpoint.name].app.percentile(95)
            big = large["figures"][endpoint.name].app.percentile(95)
            base_s = small["figures"][endpoint.name].baseline.percentile(95)
            base_big = large["figures"][endpoint.name].baseline.percentile(95)
            lines.append(
                f"| {endpoint.label} | {s:.1f} | {big:.1f} | {big / s:.2f} {verdict(big / s <= 1.3)}"
                f" | {base_s:.1f} | {base_big:.1f} | {base_big / base_s:.2f} |"
            )
        lines.append("")
    lines += [
        "## Disbursement approval under load",
        "",
        f"Distinct requested disbursements (first tranches), each approved once by a finance officer who did"
        f" not request them (`POST /api/v1/disbursements/{{id}}/approve`, an `Idempotency-Key` each),"
        f" {args.connections} connections, at most {args.duration:.0f} s. The baseline replays the same"
        " transaction Seedbed ran for one approval (captured in-process: principal, idempotency record,"
        " disbursement and tranche compare-and-set, audit event sealed at COMMIT) with raw asyncpg on"
        " the other half of the requested disbursements; a compare-and-set that changes no row is an"
        " error there too. Then the money invariants are counted in SQL over both; every count must be 0.",
        "",
        "| size | requests available | approved | errors | req/s | p50 ms | p99 ms | baseline req/s | baseline errors | ratio (≥ 0.5) | overshoot (all invariants) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        a = result["approvals"]
        r: LoadResult = a["result"]
        bad = {k: v for k, v in a["invariants"].items() if v}
        base: LoadResult = a["baseline"]
        ratio = r.rps / base.rps if base.rps else float("nan")
        lines.append(
            f"| {result['size'].name} | {a['available']:,} | {r.requests:,} | {r.errors} | {r.rps:.0f} | {r.p50:.1f} |"
            f" {r.percentile(99):.1f} | {base.rps:.0f} | {base.errors} | {ratio:.2f} {verdict(ratio >= 0.5)} |"
            f" {'0 ✅' if not bad else '❌ ' + ', '.join(f'{k}: {v}' for k, v in bad.items())} |"
        )
    if results:
        lines += ["", "Invariants checked: " + "; ".join(results[0]["approvals"]["invariants"]) + ".", ""]
    for title, key, target in (
        (
            "project assessment report (mid-term evaluation of one award, five experts)",
            "assessment",
            "3–5 pages",
        ),
        ("programme report (a programme of 1,000 applications, 250 awards)", "programme", "≥ 20 pages"),
    ):
        figures = reports.get(key)
        if not figures:
            continue
        lines += [
            f"## PDF: {title}",
            "",
            "| figure | value | target |",
            "|---|---:|---|",
            f"| pages | {figures['pages']} | {target} |",
            f"| size | {figures['size_kb']:.0f} KB | |",
            f"| query + template (first run) | {figures['build'] * 1000:.0f} ms | |",
            f"| bare WeasyPrint render of the HTML | {figures['bare'] * 1000:.0f} ms | |",
            f"| full pipeline (query + template + render in the process pool + archive) | {figures['pipeline'] * 1000:.0f} ms | |",
            f"| pipeline ÷ bare | {figures['pipeline'] / figures['bare']:.2f} {verdict(figures['pipeline'] / figures['bare'] <= 1.15)} | ≤ 1.15 |",
            "",
        ]
    if pdf:
        ratio = pdf["pipeline"] / pdf["bare"]
        growth = pdf["rss_late_mb"] / pdf["rss_early_mb"] - 1
        recycled = pdf["recycled_late_mb"] / pdf["recycled_early_mb"] - 1
        lines += [
            "## PDF: centre monthly briefing, and the process pool under a batch",
            "",
            "| figure | value | target |",
            "|---|---:|---|",
            f"| pages | {pdf['pages']} | |",
            f"| bare WeasyPrint render of the HTML | {pdf['bare'] * 1000:.0f} ms | |",
            f"| full pipeline (query + template + render in the pool + archive) | {pdf['pipeline'] * 1000:.0f} ms | |",
            f"| pipeline ÷ bare | {ratio:.2f} {verdict(ratio <= 1.15)} | ≤ 1.15 |",
            f"| batch of {pdf['batch']} through the pool ({pdf['workers']} workers) | {pdf['batch'] / pdf['batch_seconds']:.1f} reports/s ({pdf['batch_seconds']:.0f} s) | |",
            f"| largest worker's memory, first 20 % → last 20 % of the batch (no recycling) | {pdf['rss_early_mb']:.0f} → {pdf['rss_late_mb']:.0f} MB ({growth * 100:+.1f} %) {verdict(growth <= 0.10)} | ≤ 10 % growth |",
            f"| the same batch in the production pool (recycled every {pdf['tasks_per_child']} renders) | {pdf['batch'] / pdf['recycled_seconds']:.1f} reports/s; {pdf['recycled_early_mb']:.0f} → {pdf['recycled_late_mb']:.0f} MB ({recycled * 100:+.1f} %) | |",
            "",
        ]
    text = "\n".join(lines)
    Path(args.out).write_text(text + "\n", encoding="utf-8")
    return text


async def main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    args.load_before = os.getloadavg()
    sizes = [SIZES[name] for name in args.sizes.split(",")]
    results: list[dict[str, Any]] = []
    pdf = None
    reports: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="seedbed-bench-") as tmp:
        work = Path(tmp)
        try:
            for size in sizes:
                result = await measure_size(size, args, work)
                results.append(result)
                if pdf is None and not args.skip_pdf:
                    print("   PDF ...")
                    world = result["world"]
                    period = dt.date.today().strftime("%Y-%m")
                    reports["assessment"] = await measure_report(
                        result["dsn"], "project_assessment", world.award_ids[0], period, work
                    )
                    print(f"   assessment report: {reports['assessment']}")
                    reports["programme"] = await measure_report(
                        result["dsn"], "programme_annual", world.programme_ids[0], period, work, runs=2
                    )
                    print(f"   programme report: {reports['programme']}")
                    pdf = await measure_pdf(result["dsn"], world, work, args.pdf_batch)
                    print(f"   PDF: {pdf}")
        finally:
            for result in results:
                await drop_database(result["dsn"])
    print("\n" + write_results(results, pdf, reports, args, time.perf_counter() - started))


def cli() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--sizes", default="S,L", help="comma-separated sizes (S, L)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pdf-batch", type=int, default=200)
    parser.add_argument("--skip-pdf", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(args))


Runner = Callable[[], Awaitable[None]]

if __name__ == "__main__":
    cli()
