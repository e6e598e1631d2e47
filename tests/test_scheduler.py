"""One active scheduler (leader lease), one run per slot, failures retried and recorded."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core import jobs
from core.db import session_factory
from core.jobs import JobRun, RunOrigin, RunStatus
from core.scheduler import LEASE_KEY, JobFunc, JobSpec, LeaderLease, SeedbedScheduler, run_job
from core.settings import Settings
from tests.conftest import TestDatabase, test_settings

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 23, 2, 3, 30, tzinfo=UTC)
"""The clock of the catch-up tests: 10:03:30 in Shanghai."""


async def test_only_one_lease_holder(database: TestDatabase) -> None:
    first, second = LeaderLease(database.engine), LeaderLease(database.engine)
    assert await first.try_acquire()
    try:
        assert not await second.try_acquire()
    finally:
        await first.release()
    assert await second.try_acquire()
    await second.release()


async def test_two_schedulers_one_leader(database: TestDatabase, tmp_path: Path) -> None:
    settings = test_settings(database.url, tmp_path)
    a = SeedbedScheduler(settings, database.engine, poll_seconds=3600)
    b = SeedbedScheduler(settings, database.engine, poll_seconds=3600)
    await a.start()
    await b.start()
    try:
        assert [a.is_leader, b.is_leader] == [True, False]
    finally:
        await a.stop()
        await b.stop()


async def _runs(database: TestDatabase, job_id: str) -> list[JobRun]:
    async with session_factory(database.engine)() as session:
        return list((await session.execute(select(JobRun).where(JobRun.job_id == job_id))).scalars())


async def test_a_slot_runs_once_even_when_fired_twice(database: TestDatabase) -> None:
    calls: list[dt.datetime] = []

    async def work(session: AsyncSession, scheduled_for: dt.datetime) -> None:
        calls.append(scheduled_for)
        await asyncio.sleep(0.05)

    spec = JobSpec(f"test.once.{uuid.uuid4().hex[:8]}", "* * * * *", work)
    slot = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)
    results = [await run_job(database.engine, spec, slot), await run_job(database.engine, spec, slot)]
    assert results == [True, False]
    assert calls == [slot]
    runs = await _runs(database, spec.job_id)
    assert [(r.status, r.attempts) for r in runs] == [(RunStatus.succeeded, 1)]


async def test_failure_is_retried_and_recorded(
    database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asyncio, "sleep", _no_sleep)
    attempts: list[int] = []

    async def flaky(session: AsyncSession, scheduled_for: dt.datetime) -> None:
        attempts.append(1)
        if len(attempts) < 2:
            raise RuntimeError("SMTP server went away")

    spec = JobSpec(f"test.flaky.{uuid.uuid4().hex[:8]}", "* * * * *", flaky, max_attempts=3)
    assert await run_job(database.engine, spec, dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC))
    runs = await _runs(database, spec.job_id)
    assert [(r.status, r.attempts, r.error) for r in runs] == [(RunStatus.succeeded, 2, None)]


async def test_exhausted_retries_leave_the_error(
    database: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asyncio, "sleep", _no_sleep)

    async def broken(session: AsyncSession, scheduled_for: dt.datetime) -> None:
        raise RuntimeError("renderer crashed")

    spec = JobSpec(f"test.broken.{uuid.uuid4().hex[:8]}", "* * * * *", broken, max_attempts=2)
    assert not await run_job(database.engine, spec, dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC))
    runs = await _runs(database, spec.job_id)
    assert [(r.status, r.attempts) for r in runs] == [(RunStatus.failed, 2)]
    assert runs[0].error == "RuntimeError: renderer crashed"


async def _no_sleep(seconds: float) -> None:
    return None


# -- the coalescing rule ------------------------------------------------------------------


def _at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 11, 23, hour, minute, second, tzinfo=UTC)


def test_cron_with_seconds() -> None:
    every_five = jobs.parse_cron("*/5 * * * * *", "Asia/Shanghai")
    assert jobs.next_slot(every_five, _at(2, 3, 1)) == _at(2, 3, 5)
    assert jobs.next_slot(every_five, _at(2, 3, 5)) == _at(2, 3, 10)
    # five fields: minute first, read in Shanghai (08:30 there is 00:30 UTC)
    daily = jobs.parse_cron("30 8 * * *", "Asia/Shanghai")
    assert jobs.next_slot(daily, _at(2, 0)) == dt.datetime(2026, 11, 24, 0, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="5 fields"):
        jobs.parse_cron("* * *", "UTC")


def test_missed_slots_inside_the_grace_run_oldest_first_older_ones_are_skipped() -> None:
    per_minute = jobs.parse_cron("* * * * *", "UTC")
    plan = jobs.plan_slots(per_minute, _at(1, 0), NOW, dt.timedelta(seconds=150))
    assert plan.run == [_at(2, 1), _at(2, 2), _at(2, 3)]
    assert (plan.skipped, plan.first_skipped, plan.last_skipped) == (60, _at(1, 1), _at(2, 0))
    assert jobs.plan_slots(per_minute, _at(2, 3), NOW, dt.timedelta(hours=1)).run == []


# -- catch-up on takeover (both databases, a fixed clock) ---------------------------------


def _recorder(calls: list[dt.datetime]) -> JobFunc:
    async def work(session: AsyncSession, scheduled_for: dt.datetime) -> None:
        calls.append(scheduled_for)

    return work


async def _record(
    database: TestDatabase, job_id: str, slot: dt.datetime, status: RunStatus = RunStatus.succeeded
) -> None:
    async with session_factory(database.engine)() as session:
        session.add(
            JobRun(job_id=job_id, scheduled_for=slot, status=status, origin=RunOrigin.schedule, attempts=1)
        )
        await session.commit()


async def _take_over(settings: Settings, database: TestDatabase, spec: JobSpec) -> None:
    """A new leader (no memory of the old one) takes the lease at ``NOW`` and catches up."""
    scheduler = SeedbedScheduler(
        settings, database.engine, specs=[spec], poll_seconds=3600, clock=lambda: NOW
    )
    await scheduler.start()
    try:
        assert scheduler.is_leader
        await scheduler.catch_up()
        await scheduler.catch_up()  # and again, as the next fire would: nothing more
    finally:
        await scheduler.stop()


async def test_new_leader_runs_each_missed_slot_once_oldest_first(
    database: TestDatabase, tmp_path: Path
) -> None:
    calls: list[dt.datetime] = []
    spec = JobSpec(f"test.catchup.{uuid.uuid4().hex[:8]}", "* * * * *", _recorder(calls))
    await _record(database, spec.job_id, _at(2, 0))  # the old leader's last slot; it died at 10:00:40
    await _take_over(test_settings(database.url, tmp_path), database, spec)
    assert calls == [_at(2, 1), _at(2, 2), _at(2, 3)]
    runs = sorted(await _runs(database, spec.job_id), key=lambda r: r.scheduled_for)
    assert [(r.scheduled_for, r.status, r.attempts) for r in runs] == [
        (_at(2, minute), RunStatus.succeeded, 1) for minute in range(4)
    ]


async def test_slots_older_than_the_grace_are_recorded_as_skipped(
    database: TestDatabase, tmp_path: Path
) -> None:
    calls: list[dt.datetime] = []
    spec = JobSpec(f"test.grace.{uuid.uuid4().hex[:8]}", "* * * * *", _recorder(calls))
    await _record(database, spec.job_id, _at(1, 0))
    settings = test_settings(database.url, tmp_path).model_copy(
        update={"scheduler_misfire_grace_seconds": 150}
    )
    await _take_over(settings, database, spec)
    assert calls == [_at(2, 1), _at(2, 2), _at(2, 3)]
    skipped = [r for r in await _runs(database, spec.job_id) if r.status is RunStatus.skipped]
    assert [r.scheduled_for for r in skipped] == [_at(2, 0)]
    assert skipped[0].error is not None
    assert skipped[0].error.startswith(
        "60 slot(s) from 2026-11-23T01:01:00+00:00 to 2026-11-23T02:00:00+00:00"
    )


async def test_a_run_left_running_by_a_dead_leader_runs_again(database: TestDatabase, tmp_path: Path) -> None:
    calls: list[dt.datetime] = []
    spec = JobSpec(f"test.resume.{uuid.uuid4().hex[:8]}", "* * * * *", _recorder(calls))
    await _record(database, spec.job_id, _at(2, 2))
    await _record(database, spec.job_id, _at(2, 3), RunStatus.running)  # claimed, then SIGKILL
    await _take_over(test_settings(database.url, tmp_path), database, spec)
    assert calls == [_at(2, 3)]
    runs = {r.scheduled_for: r for r in await _runs(database, spec.job_id)}
    assert (runs[_at(2, 3)].status, runs[_at(2, 3)].attempts) == (RunStatus.succeeded, 2)


async def test_a_taken_over_run_rolls_its_work_back(database: TestDatabase) -> None:
    """A leader that lost its lease mid-run cannot commit the slot a second time."""
    job_id = f"test.fence.{uuid.uuid4().hex[:8]}"
    entered, release = asyncio.Event(), asyncio.Event()
    marks: list[str] = []

    async def work(session: AsyncSession, scheduled_for: dt.datetime) -> None:
        mark = "old leader" if not marks else "new leader"
        marks.append(mark)
        if mark == "old leader":
            entered.set()
            await release.wait()
        session.add(
            JobRun(job_id=f"{job_id}.{mark}", scheduled_for=scheduled_for, status=RunStatus.succeeded)
        )

    spec = JobSpec(job_id, "* * * * *", work, max_attempts=1)
    slot = _at(2, 3)
    old = asyncio.create_task(run_job(database.engine, spec, slot))
    await entered.wait()
    async with session_factory(database.engine)() as session:  # the new leader takes the lease
        assert await jobs.interrupt_running(session) >= 1
        await session.commit()
    assert await run_job(database.engine, spec, slot)
    release.set()
    assert not await old
    assert [r.job_id for r in await _runs(database, f"{job_id}.old leader")] == []
    assert len(await _runs(database, f"{job_id}.new leader")) == 1
    assert [(r.status, r.attempts) for r in await _runs(database, job_id)] == [(RunStatus.succeeded, 2)]


# -- the lease changes hands (real time) --------------------------------------------------


async def _until(condition: Callable[[], bool], seconds: float) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


Pair = tuple[SeedbedScheduler, SeedbedScheduler]


@pytest_asyncio.fixture
async def pair(
    database: TestDatabase, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Pair]:
    """A leader and a standby that try and check the lease every 0.1 s."""
    settings = test_settings(database.url, tmp_path)
    leader, standby = (
        SeedbedScheduler(settings, database.engine, specs=[], poll_seconds=0.1, lease_check_seconds=0.1)
        for _ in range(2)
    )
    caplog.set_level(logging.INFO, logger="seedbed.scheduler")
    await leader.start()
    await standby.start()
    try:
        assert [leader.is_leader, standby.is_leader] == [True, False]
        yield leader, standby
    finally:
        await leader.stop()
        await standby.stop()


async def test_standby_takes_over_when_the_leader_stops_and_says_so(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    leader, standby = pair
    caplog.clear()
    await leader.stop()
    assert await _until(lambda: standby.is_leader, 2) < 1
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert any(level == logging.INFO and "released the scheduler lease" in m for level, m in messages)
    assert any(level == logging.INFO and m.startswith("took the scheduler lease") for level, m in messages)


async def test_leader_whose_lease_connection_dies_steps_down(
    database: TestDatabase, pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    if database.backend != "postgresql":
        pytest.skip("a file lock cannot be lost while its process lives")
    leader, standby = pair
    async with database.engine.connect() as connection:  # an operator or a network fault ends it
        await connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks "
                "WHERE locktype = 'advisory' AND classid = 0 AND objid = :key AND granted"
            ),
            {"key": LEASE_KEY},
        )
        await connection.commit()
    assert await _until(lambda: not leader.is_leader, 2) < 1
    await _until(lambda: standby.is_leader, 2)
    assert not leader.is_leader
    lost = [r for r in caplog.records if "lost the scheduler lease" in r.getMessage()]
    assert [r.levelno for r in lost] == [logging.WARNING]
