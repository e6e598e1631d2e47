"""App factory with a lifespan that opens and closes the engine (and the in-process scheduler)."""

from __future__ import annotations

import asyncio
import gc
import logging
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

import api.pages.dashboard_panels  # noqa: F401  (registers the role dashboard panels)
from api import web
from api.deps import new_request_session
from api.errors import install_error_handlers
from api.input import refuse_unstorable_text
from api.middleware import BodyLimitMiddleware, LocaleMiddleware, SecurityHeadersMiddleware
from api.pages import applications as application_pages
from api.pages import awards as award_pages
from api.pages import bulk as bulk_pages
from api.pages import choosers as chooser_pages
from api.pages import contracts as contract_pages
from api.pages import cultivation as cultivation_pages
from api.pages import disbursements as disbursement_pages
from api.pages import evaluations as evaluation_pages
from api.pages import funds as fund_pages
from api.pages import incubator as incubator_pages
from api.pages import jury as jury_pages
from api.pages import lists as list_pages
from api.pages import programmes as programme_pages
from api.pages import reports as reports_pages
from api.pages import search as search_pages
from api.pages import shell
from api.pages import users as user_pages
from api.routers import (
    admin,
    applications,
    audit_log,
    auth,
    awards,
    contracts,
    cultivation,
    disbursements,
    evaluations,
    funds,
    health,
    incubator,
    jobs,
    me,
    notifications,
    programmes,
    reports,
)
from api.schemas import ERROR_RESPONSES
from core.db import create_engine, reading_session_factory, session_factory
from core.security import configure_hashing
from core.settings import PROJECT_ROOT, Environment, Settings, get_settings, mask_secrets
from reports.pdf import shutdown_renderers

log = logging.getLogger("seedbed")


class SeedbedApp(FastAPI):
    """FastAPI with the security headers outside everything, the server-error page included
    (``add_middleware`` would place them inside Starlette's ``ServerErrorMiddleware``)."""

    def build_middleware_stack(self) -> ASGIApp:
        settings: Settings = self.state.settings
        return SecurityHeadersMiddleware(
            super().build_middleware_stack(),
            hsts=settings.env is Environment.production,
            docs_path=self.docs_url,
        )


GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collection() -> None:
    """Collect the youngest generation every 50,000 allocations instead of 700.

    A request leaves no cyclic garbage (tests hold it so), but every collection of the
    youngest generation promotes whatever the requests in flight hold at that moment, and
    once the promoted objects reach a quarter of the heap Python collects the whole heap:
    with a worker's 300,000 long-lived objects that took 0.3-0.5 s here, every 5-8 s under
    load, about a tenth of the worker's time with the worker stopped meanwhile. Collecting
    the young objects a seventieth as often promotes about a seventieth as many."""
    young, middle, oldest = gc.get_threshold()
    gc.set_threshold(max(young, GC_YOUNG_THRESHOLD), middle, oldest)


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    run_scheduler: bool | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    configure_hashing(settings.password_hashing)
    owns_engine = engine is None
    engine = engine or create_engine(
        settings.database_url,
        statement_timeout_ms=settings.statement_timeout_ms,
        lock_timeout_ms=settings.lock_timeout_ms,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    with_scheduler = settings.scheduler_in_process if run_scheduler is None else run_scheduler

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tune_garbage_collection()
        scheduler = None
        if with_scheduler:
            from composition.jobs import register_all
            from core.scheduler import SeedbedScheduler

            register_all(settings)
            scheduler = SeedbedScheduler(settings, engine)
            try:
                await scheduler.start()
            except Exception as exc:
                # The server prints this traceback: a connection error may carry the URL.
                report = mask_secrets("".join(traceback.format_exception(exc)))
                raise RuntimeError(f"start-up failed:\n{report}") from None
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            # The PDF workers end with the server (uvicorn skips exit hooks on SIGTERM).
            await asyncio.to_thread(shutdown_renderers)
            if owns_engine:
                await engine.dispose()

    app = SeedbedApp(
        title="Seedbed 公益苗圃",
        version="0.1.0",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url="/api/docs",
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.settings = settings
    # Templates are read once per process, except in development, where an edited template
    # shows at the next request (checking every template's file on each render costs a
    # page a system call per template it extends, includes or imports).
    for environment in web.ENVIRONMENTS.values():
        environment.auto_reload = settings.env is Environment.development
    app.state.engine = engine
    app.state.sessionmaker = session_factory(engine)
    app.state.reading_sessionmaker = reading_session_factory(engine)
    app.state.request_session = new_request_session

    install_error_handlers(app)
    # The last added runs first: the size limit answers in the request's language.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.request_max_bytes)
    app.add_middleware(LocaleMiddleware)

    for router in (
        health.router,
        auth.router,
        me.router,
        admin.router,
        audit_log.router,
        jobs.router,
        incubator.router,
        programmes.router,
        applications.router,
        applications.public_router,
        shell.router,
        user_pages.router,
        list_pages.router,
        search_pages.router,
        chooser_pages.router,
        bulk_pages.router,
        incubator_pages.router,
        programme_pages.router,
        application_pages.router,
        reports.router,
        notifications.router,
        reports_pages.router,
        evaluations.router,
        evaluations.public_router,
        evaluation_pages.router,
        jury_pages.router,
        awards.router,
        disbursements.router,
        contracts.router,
        award_pages.router,
        disbursement_pages.router,
        contract_pages.router,
        cultivation.router,
        cultivation_pages.router,
        funds.router,
        funds.public_router,
        fund_pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "api" / "static"), name="static")
    return app
