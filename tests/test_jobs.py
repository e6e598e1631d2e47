"""Scheduled jobs for admins: the list, and run-now once per minute (API and CLI).

A run-now commits its claim, its audit event and its work in transactions of its own, as
a scheduled run does, so these tests use a database of their own with real commits
instead of the rolled-back test transaction.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

import core.scheduler
from api.app import create_app
from api.cli import upgrade_database
from core.audit import AuditEvent
from core.db import session_factory
from core.identity.models import Role
from core.jobs import JobRun
from core.scheduler import JOBS, JobSpec
from core.settings import PROJECT_ROOT
from tests.conftest import TestDatabase, migrated_database, test_settings
from tests.factories import Actor, make_centre, make_user

NOW = dt.datetime(2026, 11, 23, 2, 3, 42, tzinfo=dt.UTC)  # 10:03:42 in Shanghai


@dataclass
class Site:
    database: TestDatabase
    http: httpx.AsyncClient
    admin: Actor
    staff: Actor


@pytest_asyncio.fixture(scope="module", params=["sqlite", "postgresql"])
async def own_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TestDatabase]:
    async with migrated_database(request.param, tmp_path_factory.mktemp("jobs"), "seedbed_jobs") as created:
        yield created


@pytest_asyncio.fixture
async def site(own_database: TestDatabase, tmp_path: Path) -> AsyncIterator[Site]:
    async with session_factory(own_database.engine)() as session:
        centre = await make_centre(session)
        admin = await make_user(session, centre, Role.admin)
        staff = await make_user(session, centre, Role.staff)
        await session.commit()
    app = create_app(
        test_settings(own_database.url, tmp_path), engine=own_database.engine, run_scheduler=False
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as http:
        yield Site(own_database, http, admin, staff)


@dataclass
class CountingJob:
    job_id: str
    calls: list[dt.datetime]


@pytest.fixture
def job(monkeypatch: pytest.MonkeyPatch) -> CountingJob:
    """A registered job that records its slots; the clock stands at ``NOW``."""
    counting = CountingJob(f"test.count.{uuid.uuid4().hex[:8]}", [])

    async def work(session: object, scheduled_for: dt.datetime) -> None:
        counting.calls.append(scheduled_for)

    monkeypatch.setattr(core.scheduler, "JOBS", [*JOBS, JobSpec(counting.job_id, "0 3 * * *", work)])
    monkeypatch.setattr(core.scheduler, "utcnow", lambda: NOW)
    return counting


async def _runs(database: TestDatabase, job_id: str) -> list[JobRun]:
    async with session_factory(database.engine)() as session:
        return list((await session.execute(select(JobRun).where(JobRun.job_id == job_id))).scalars())


class TestListJobs:
    async def test_anonymous(self, site: Site) -> None:
        assert (await site.http.get("/api/v1/jobs")).status_code == 401

    async def test_wrong_role(self, site: Site) -> None:
        assert (await site.http.get("/api/v1/jobs", headers=site.staff.headers)).status_code == 403

    async def test_valid(self, site: Site, job: CountingJob) -> None:
        ran = await site.http.post(f"/api/v1/jobs/{job.job_id}/run", headers=site.admin.headers)
        assert ran.status_code == 201
        answer = await site.http.get("/api/v1/jobs", headers=site.admin.headers)
        assert answer.status_code == 200, answer.text
        jobs = {item["job_id"]: item for item in answer.json()["items"]}
        assert jobs["scheduler.heartbeat"]["cron"] == "* * * * *"
        assert jobs["idempotency.purge_expired"]["cron"] == "41 * * * *"
        counted = jobs[job.job_id]
        assert counted["cron"] == "0 3 * * *"
        assert counted["status"] == "succeeded"
        assert counted["last_succeeded_at"] is not None
        assert [(r["scheduled_for"], r["origin"]) for r in counted["recent_runs"]] == [
            ("2026-11-23T02:03:00Z", "manual")
        ]


class TestRunNow:
    async def test_anonymous(self, site: Site) -> None:
        assert (await site.http.post("/api/v1/jobs/scheduler.heartbeat/run")).status_code == 401

    async def test_wrong_role(self, site: Site) -> None:
        answer = await site.http.post("/api/v1/jobs/scheduler.heartbeat/run", headers=site.staff.headers)
        assert answer.status_code == 403

    async def test_unknown_job(self, site: Site) -> None:
        answer = await site.http.post("/api/v1/jobs/no.such.job/run", headers=site.admin.headers)
        assert answer.status_code == 404

    async def test_valid_once_per_minute(self, site: Site, job: CountingJob) -> None:
        first = await site.http.post(f"/api/v1/jobs/{job.job_id}/run", headers=site.admin.headers)
        assert first.status_code == 201, first.text
        run = first.json()
        assert (run["scheduled_for"], run["origin"], run["status"], run["attempts"]) == (
            "2026-11-23T02:03:00Z",
            "manual",
            "succeeded",
            1,
        )
        assert run["requested_by_id"] == site.admin.user.id
        again = await site.http.post(f"/api/v1/jobs/{job.job_id}/run", headers=site.admin.headers)
        assert again.status_code == 409
        message = again.json()["error"]["message"]
        assert "2026-11-23 10:03" in message
        assert str(run["id"]) in message
        assert job.calls == [dt.datetime(2026, 11, 23, 2, 3, tzinfo=dt.UTC)]
        async with session_factory(site.database.engine)() as session:
            events = list(
                (
                    await session.execute(
                        select(AuditEvent).where(
                            AuditEvent.action == "job.run", AuditEvent.subject_id == str(run["id"])
                        )
                    )
                ).scalars()
            )
        assert [(e.actor, e.after["job_id"]) for e in events] == [(site.admin.user.email, job.job_id)]

    async def test_failed_run_is_answered_and_can_be_retried(
        self, site: Site, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        flaky_id = f"test.flaky.{uuid.uuid4().hex[:8]}"
        outcomes = [RuntimeError("SMTP server went away"), None]

        async def flaky(session: object, scheduled_for: dt.datetime) -> None:
            problem = outcomes.pop(0)
            if problem is not None:
                raise problem

        monkeypatch.setattr(core.scheduler, "JOBS", [*JOBS, JobSpec(flaky_id, "0 3 * * *", flaky)])
        monkeypatch.setattr(core.scheduler, "utcnow", lambda: NOW)
        failed = await site.http.post(f"/api/v1/jobs/{flaky_id}/run", headers=site.admin.headers)
        assert failed.status_code == 201
        assert (failed.json()["status"], failed.json()["error"]) == (
            "failed",
            "RuntimeError: SMTP server went away",
        )
        retried = await site.http.post(f"/api/v1/jobs/{flaky_id}/run", headers=site.admin.headers)
        assert retried.status_code == 201
        assert (retried.json()["id"], retried.json()["status"], retried.json()["attempts"]) == (
            failed.json()["id"],
            "succeeded",
            2,
        )
        assert len(await _runs(site.database, flaky_id)) == 1


def test_cli_lists_and_runs_jobs(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    env = {**os.environ, "SEEDBED_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "SEEDBED_ENV": "development"}
    upgrade_database(env["SEEDBED_DATABASE_URL"])
    cli = [sys.executable, "-m", "api.cli", "jobs"]
    ran = subprocess.run(
        [*cli, "run", "scheduler.heartbeat"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert ran.returncode == 0, ran.stderr
    assert ": scheduler.heartbeat for " in ran.stdout
    assert ran.stdout.rstrip().endswith("succeeded")
    # someone ran the purge this minute (and the next two, should the clock turn meanwhile)
    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0, tzinfo=None)  # as SQLite stores it
    connection = sqlite3.connect(db)
    connection.executemany(
        "INSERT INTO job_runs (job_id, scheduled_for, status, origin, attempts, started_at) "
        "VALUES ('identity.purge_expired', ?, 'succeeded', 'manual', 1, ?)",
        [
            (f"{minute + dt.timedelta(minutes=n):%Y-%m-%d %H:%M:%S.%f}", f"{minute:%Y-%m-%d %H:%M:%S.%f}")
            for n in range(3)
        ],
    )
    connection.commit()
    connection.close()
    again = subprocess.run(
        [*cli, "run", "identity.purge_expired"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert again.returncode == 1
    assert "already ran" in again.stderr
    listed = subprocess.run([*cli, "list"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert "succeeded" in lines["scheduler.heartbeat"]
    assert "never run" in lines["grants.finalise_publicity"]
