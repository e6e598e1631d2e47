"""One active scheduler (leader lease), one run per slot, failures retried and recorded."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.scheduler import JobSpec, LeaderLease, SeedbedScheduler, run_job
from core.db import session_factory
from core.jobs import JobRun, RunStatus
from tests.conftest import TestDatabase, test_settings


async def test_only_one_lease_holder(database: TestDatabase) -> None:
    first, second = LeaderLease(database.engine), LeaderLease(database.engine)
    assert await first.try_acquire()
    try:
        assert not await second.try_acquire()
    finally:
        await first.release()
    assert await second.try_acquire()
    await second.release()


async def test_two_schedulers_one_leader(database: TestDatabase, tmp_path: object) -> None:
    settings = test_settings(database.url, tmp_path)  # type: ignore[arg-type]
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
