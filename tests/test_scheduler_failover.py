"""Failover with real processes on PostgreSQL: no slot lost, none run twice.

Three ``seedbed scheduler`` processes share one fresh database; ``scheduler.heartbeat``
runs every 5 s. The leader is frozen in the middle of a slot (its claim waits on a table
lock the test holds) and killed with SIGKILL; a standby must take over within 15 s and run
the slots the dead leader never ran. That leader is then stopped with SIGTERM, which
must release the lease at once. Every heartbeat slot from the first to the last must have
exactly one succeeded run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from composition.jobs import HEARTBEAT_JOB
from core import jobs
from core.scheduler import LEASE_KEY
from core.settings import PROJECT_ROOT
from tests.conftest import TestDatabase, _pg_connect, migrated_database

TAKEOVER = "took the scheduler lease"
EVERY_FIVE_SECONDS = "*/5 * * * * *"


class SchedulerProcess:
    def __init__(self, name: str, url: str, tmp: Path) -> None:
        self.name = name
        self.log = tmp / f"{name}.log"
        env = {
            **os.environ,
            "SEEDBED_DATABASE_URL": url,
            "SEEDBED_ENV": "test",
            "SEEDBED_SECRET_KEY": "failover-test-secret-0123456789",
            "SEEDBED_DATA_DIR": str(tmp / "data"),
            "SEEDBED_SCHEDULER_HEARTBEAT_CRON": EVERY_FIVE_SECONDS,
            # the test holds a table lock for about ten seconds; nothing may give up meanwhile
            "SEEDBED_STATEMENT_TIMEOUT_MS": "30000",
        }
        with self.log.open("w") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "scheduler"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def text(self) -> str:
        return self.log.read_text()

    def leads(self) -> bool:
        """Alive, and its last word on the lease is that it took it."""
        text = self.text()
        took = text.rfind(TAKEOVER)
        gave_up = max(
            text.rfind(word) for word in ("lost the scheduler lease", "released the", "check failed")
        )
        return self.process.poll() is None and took > gave_up

    def standing_by(self) -> bool:
        return "standing by" in self.text()

    def stop(self, sig: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)


async def _until(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> float:
    started = time.monotonic()
    while not await condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"{what}: not within {seconds} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def _heartbeats(connection: Any) -> list[tuple[dt.datetime, str, int]]:
    rows = await connection.fetch(
        "SELECT scheduled_for, status, attempts FROM job_runs WHERE job_id = $1 ORDER BY scheduled_for",
        HEARTBEAT_JOB,
    )
    return [(row["scheduled_for"].astimezone(dt.UTC), row["status"], row["attempts"]) for row in rows]


@pytest.fixture
def processes() -> Iterator[list[SchedulerProcess]]:
    started: list[SchedulerProcess] = []
    yield started
    for each in started:
        if each.process.poll() is None:
            each.process.kill()
        each.process.wait(10)


@pytest_asyncio.fixture
async def shared_database(tmp_path: Path) -> AsyncIterator[TestDatabase]:
    async with migrated_database("postgresql", tmp_path, "seedbed_failover") as created:
        yield created


@pytest.mark.postgres_only
async def test_failover_runs_every_slot_exactly_once(
    shared_database: TestDatabase, processes: list[SchedulerProcess], tmp_path: Path
) -> None:
    url = shared_database.url
    observer = await _pg_connect(url)
    try:
        processes.extend(SchedulerProcess(name, url, tmp_path) for name in ("a", "b", "c"))

        async def one_leads_two_stand_by() -> bool:
            return sum(p.leads() for p in processes) == 1 and sum(p.standing_by() for p in processes) == 2

        await _until(
            one_leads_two_stand_by, 90, "one leader, two standbys"
        )  # imports are slow on a busy machine
        leader = next(p for p in processes if p.leads())

        async def beating() -> bool:
            return any(status == "succeeded" for _, status, _ in await _heartbeats(observer))

        await _until(beating, 15, "a heartbeat")

        # Freeze the leader in the middle of its next slot: its claim waits on this lock.
        freezer = await _pg_connect(url)
        await freezer.execute("BEGIN; LOCK TABLE job_runs IN SHARE MODE")

        async def leader_waits() -> bool:
            waiting = await observer.fetchval(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND query ILIKE '%job_runs%'"
            )
            return bool(waiting)

        await _until(leader_waits, 10, "the leader waiting in its slot")
        frozen_at = dt.datetime.now(dt.UTC)
        leader.process.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        standbys = [p for p in processes if p is not leader]

        async def taken_over() -> bool:
            return any(p.leads() for p in standbys)

        await _until(taken_over, 15, "a standby taking over after SIGKILL")
        assert time.monotonic() - killed < 15
        # Keep the new leader waiting too until two slots have passed since the freeze, so
        # that it has more than one missed slot to run when the lock goes.
        await asyncio.sleep(
            max(0.0, (frozen_at + dt.timedelta(seconds=10.5) - dt.datetime.now(dt.UTC)).total_seconds())
        )
        await freezer.execute("ROLLBACK")
        await freezer.close()
        successor = next(p for p in standbys if p.leads())
        last = next(p for p in standbys if p is not successor)

        async def caught_up() -> bool:
            runs = await _heartbeats(observer)
            return any(slot > frozen_at + dt.timedelta(seconds=5) and s == "succeeded" for slot, s, _ in runs)

        await _until(caught_up, 15, "heartbeats after the takeover")

        # A clean stop releases the lease at once: the last standby takes it at its next try.
        successor.stop(signal.SIGTERM)
        stopped = time.monotonic()
        assert await asyncio.to_thread(successor.process.wait, 10) == 0
        assert "released the scheduler lease" in successor.text()

        async def last_leads() -> bool:
            return last.leads()

        await _until(last_leads, 6, "the last standby taking over after SIGTERM")
        assert time.monotonic() - stopped < 6
        handed_over = dt.datetime.now(dt.UTC)

        async def beats_again() -> bool:
            runs = await _heartbeats(observer)
            return any(slot > handed_over and status == "succeeded" for slot, status, _ in runs)

        await _until(beats_again, 10, "heartbeats after the clean handover")
        last.stop(signal.SIGTERM)
        assert await asyncio.to_thread(last.process.wait, 10) == 0
        assert await observer.fetchval("SELECT pg_try_advisory_lock($1)", LEASE_KEY)

        runs = await _heartbeats(observer)
        trigger = jobs.parse_cron(EVERY_FIVE_SECONDS, "Asia/Shanghai")
        expected = [runs[0][0]]
        while expected[-1] < runs[-1][0]:
            following = jobs.next_slot(trigger, expected[-1])
            assert following is not None
            expected.append(following)
        assert [slot for slot, _, _ in runs] == expected
        assert {status for _, status, _ in runs} == {"succeeded"}
    except AssertionError as failure:
        logs = "\n".join(f"--- {p.name}\n{p.text()}" for p in processes)
        raise AssertionError(f"{failure}\n{logs}") from failure
    finally:
        await observer.close()
