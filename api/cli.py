"""The ``seedbed`` command line (Typer)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.settings import PROJECT_ROOT, get_settings, mask_secrets

app = typer.Typer(help="Seedbed 公益苗圃", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database", no_args_is_help=True)
users_app = typer.Typer(help="Users", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data", no_args_is_help=True)
audit_app = typer.Typer(help="Audit log", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(demo_app, name="demo")
app.add_typer(audit_app, name="audit")
reports_app = typer.Typer(help="Reports", no_args_is_help=True)
app.add_typer(reports_app, name="reports")
jobs_app = typer.Typer(help="Scheduled jobs", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")

T = TypeVar("T")


def _with_engine(work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from core.db import create_engine

    async def runner() -> T:
        import api.models  # noqa: F401  (every table, so that foreign keys across domains resolve)
        from core.security import configure_hashing

        settings = get_settings()
        configure_hashing(settings.password_hashing)
        engine = create_engine(settings.database_url, statement_timeout_ms=60_000)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(runner())


def _in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from core.db import session_factory

    async def in_session(engine: AsyncEngine) -> T:
        async with session_factory(engine)() as session:
            result = await work(session)
            await session.commit()
            return result

    return _with_engine(in_session)


def _configure_logging() -> None:
    """INFO and above on standard error: the scheduler says when it takes or loses the lease."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every fire at INFO


def upgrade_database(url: str | None = None) -> None:
    from alembic.config import Config

    from alembic import command

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    config.attributes["database_url"] = url or get_settings().database_url
    command.upgrade(config, "head")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    upgrade_database()
    typer.echo("database is at the newest revision")


def _print_accounts(accounts: list[object]) -> None:
    from demo.loader import DEMO_PASSWORD

    typer.echo("Demo centre loaded. Log in at http://127.0.0.1:8000 with password " + DEMO_PASSWORD + ":")
    for account in accounts:
        typer.echo(f"  {account.role:<22} {account.email:<26} {account.name}")  # type: ignore[attr-defined]


@demo_app.command("load")
def demo_load() -> None:
    """Load the demo centre (once; a second load changes nothing)."""
    from demo import loader as demo

    accounts = _in_session(demo.load_demo)
    if accounts is None:
        typer.echo("the demo centre is already loaded")
    else:
        _print_accounts(list(accounts))


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="login email")],
    password: Annotated[str, typer.Option(help="at least 8 characters")],
    role: Annotated[list[str], typer.Option(help="staff, applicant, finance, evaluator or admin")],
    centre: Annotated[str | None, typer.Option(help="centre short name; created if needed")] = None,
    name: Annotated[str, typer.Option(help="full name")] = "",
    district: Annotated[bool, typer.Option(help="district-level, read-only across centres")] = False,
) -> None:
    """Create a user (and the centre, if it does not exist yet)."""
    from pydantic import ValidationError

    from core.errors import DomainError
    from core.identity import repository as identity_queries
    from core.identity import service as identity
    from core.identity.models import Role
    from core.identity.schemas import CentreCreate, UserCreate

    async def work(session: AsyncSession) -> int:
        centre_id = None
        if centre:
            existing = await identity_queries.get_centre_by_slug(session, centre)
            if existing is None:
                existing = await identity.create_centre(
                    session, CentreCreate(slug=centre, name=centre), actor=None
                )
            centre_id = existing.id
        data = UserCreate(
            email=email,
            password=password,
            full_name=name,
            roles=[Role(r) for r in role],
            centre_id=centre_id,
            is_district=district,
        )
        user = await identity.create_user(session, data, actor=None)
        return user.id

    try:
        user_id = _in_session(work)
    except (ValidationError, ValueError, DomainError) as exc:
        typer.echo(error_report(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"created user {user_id} ({email})")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain; exit status 0 when intact, 1 when a row was edited or removed."""
    from core import audit

    checked, problems = _in_session(audit.verify)
    if problems:
        for problem in problems[:50]:
            typer.echo(f"event {problem.event_id}: {problem.problem}", err=True)
        typer.echo(f"audit chain BROKEN: {len(problems)} problem(s) in {checked} events", err=True)
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {checked} events")


@reports_app.command("run")
def reports_run(
    kind: Annotated[str, typer.Argument(help="report kind, e.g. centre_monthly")],
    scope_id: Annotated[
        int | None, typer.Option(help="the subject's id (a centre's id for centre reports)")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="e.g. 2026-10; default: the kind's last full period")
    ] = None,
) -> None:
    """Generate one report now and archive it (a new version if it exists)."""
    from reports.registry import generate_from_cli

    try:
        report = _in_session(
            lambda session: generate_from_cli(session, get_settings(), kind, scope_id, period)
        )
    except Exception as exc:
        typer.echo(error_report(exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"report {report.id}: {report.kind} {report.period} v{report.version} ({report.size} bytes)")


@jobs_app.command("list")
def jobs_list() -> None:
    """Every scheduled job: its cron, its newest run's status and when it runs next."""
    from composition.jobs import register_all
    from core.scheduler import job_overview

    settings = get_settings()
    register_all(settings)
    for job in _in_session(lambda session: job_overview(session, settings)):
        last = job.recent_runs[0] if job.recent_runs else None
        when = f"{last.scheduled_for:%Y-%m-%d %H:%M:%S}Z" if last else "-"
        following = f"{job.next_run_at:%Y-%m-%d %H:%M:%S}Z" if job.next_run_at else "-"
        status = job.status.value if job.status else "never run"
        typer.echo(f"{job.job_id:<38} {job.cron:<16} {status:<12} last {when:<21} next {following}")


@jobs_app.command("run")
def jobs_run(
    job_id: Annotated[str, typer.Argument(help="e.g. scheduler.heartbeat (see: seedbed jobs list)")],
) -> None:
    """Run a job now, once per minute (audited); exit status 1 when it failed or already ran this minute."""
    from composition.jobs import register_all
    from core.errors import NotFound
    from core.scheduler import run_now

    settings = get_settings()
    register_all(settings)
    try:
        outcome = _with_engine(lambda engine: run_now(engine, job_id, actor=None))
    except NotFound as exc:
        typer.echo(f"error: {exc} ({job_id})", err=True)
        raise typer.Exit(2) from exc
    run = outcome.run
    slot = f"{run.scheduled_for:%Y-%m-%d %H:%M}Z"
    if not outcome.ran:
        typer.echo(
            f"{job_id} already ran for {slot} (run {run.id}, {run.status.value}); nothing new started",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(
        f"run {run.id}: {job_id} for {slot}: {run.status.value}" + (f": {run.error}" if run.error else "")
    )
    if run.status.value != "succeeded":
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option()] = 1,
    migrate: Annotated[bool, typer.Option(help="apply migrations first")] = False,
    demo: Annotated[bool, typer.Option(help="load the demo centre when the database is empty")] = False,
    scheduler: Annotated[bool, typer.Option(help="run the scheduler in this process")] = True,
) -> None:
    """Serve the web UI and API (and, by default, the scheduler)."""
    import os

    import uvicorn

    if migrate:
        upgrade_database()
    if demo:
        from demo import loader as demo_module

        accounts = _in_session(demo_module.load_demo)
        if accounts is not None:
            _print_accounts(list(accounts))
    os.environ["SEEDBED_SCHEDULER_IN_PROCESS"] = "true" if scheduler else "false"
    get_settings.cache_clear()
    _configure_logging()
    # X-Forwarded-For decides the client address (and so the per-address login throttle):
    # believed only from the proxies named in SEEDBED_TRUSTED_PROXIES, never by default.
    trusted_proxies = get_settings().trusted_proxies
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=trusted_proxies or None,
    )


@app.command("scheduler")
def run_scheduler() -> None:
    """Run the scheduler alone (one active across all processes)."""
    from composition.jobs import register_all
    from core.db import create_engine
    from core.scheduler import SeedbedScheduler
    from reports.pdf import shutdown_renderers

    _configure_logging()

    async def runner() -> None:
        settings = get_settings()
        engine = create_engine(settings.database_url, statement_timeout_ms=settings.statement_timeout_ms)
        register_all(settings)
        scheduler = SeedbedScheduler(settings, engine)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await scheduler.start()
        typer.echo("scheduler running" + (" (leader)" if scheduler.is_leader else " (standby)"))
        await stop.wait()
        await scheduler.stop()
        await asyncio.to_thread(shutdown_renderers)
        await engine.dispose()

    asyncio.run(runner())


def main() -> None:
    sys.path.insert(0, str(Path.cwd()))
    try:
        app()
    except Exception as exc:
        typer.echo(error_report(exc, with_traceback=True), err=True)
        sys.exit(1)


def error_report(exc: Exception, *, with_traceback: bool = False) -> str:
    """How a command reports a failure: a settings error as one line per setting, anything
    else as its message (or traceback), always with passwords and the secret key masked
    (a settings or connection error can carry the database URL; and no Typer locals)."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.title == "Settings":
        lines = ["error: the settings are not valid"]
        for error in exc.errors(include_url=False, include_input=False):
            setting = "SEEDBED_" + "_".join(str(part) for part in error["loc"]).upper()
            message = error["msg"].removeprefix("Value error, ")
            lines.append(
                f"  {message}" if setting in message or not error["loc"] else f"  {setting}: {message}"
            )
        text = "\n".join(lines)
    elif with_traceback:
        text = "".join(traceback.format_exception(exc)).rstrip()
    else:
        text = f"error: {exc}"
    return mask_secrets(text)


if __name__ == "__main__":
    main()
