"""App factory with a lifespan that opens and closes the engine (and the in-process scheduler)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine

import api.pages.dashboard_panels  # noqa: F401  (registers the role dashboard panels)
from api.errors import install_error_handlers
from api.input import refuse_unstorable_text
from api.middleware import BodyLimitMiddleware, LocaleMiddleware
from api.pages import evaluations as evaluation_pages
from api.pages import grants as grants_pages
from api.pages import incubator as incubator_pages
from api.pages import jury as jury_pages
from api.pages import money as money_pages
from api.pages import reports as reports_pages
from api.pages import shell
from api.routers import (
    admin,
    audit_log,
    auth,
    contracts,
    evaluations,
    grants,
    health,
    incubator,
    me,
    money,
    notifications,
    reports,
)
from api.schemas import ERROR_RESPONSES
from core.db import create_engine, session_factory
from core.security import configure_hashing
from core.settings import PROJECT_ROOT, Settings, get_settings

log = logging.getLogger("seedbed")


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
        settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
    )
    with_scheduler = settings.scheduler_in_process if run_scheduler is None else run_scheduler

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if with_scheduler:
            from api.jobs import register_all
            from api.scheduler import SeedbedScheduler

            register_all()
            scheduler = SeedbedScheduler(settings, engine)
            await scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if owns_engine:
                await engine.dispose()

    app = FastAPI(
        title="Seedbed 公益苗圃",
        version="0.1.0",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url="/api/docs",
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = session_factory(engine)

    install_error_handlers(app)
    app.add_middleware(LocaleMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.request_max_bytes)

    for router in (
        health.router,
        auth.router,
        me.router,
        admin.router,
        audit_log.router,
        incubator.router,
        grants.router,
        grants.public_router,
        shell.router,
        incubator_pages.router,
        grants_pages.router,
        reports.router,
        notifications.router,
        reports_pages.router,
        evaluations.router,
        evaluations.public_router,
        evaluation_pages.router,
        jury_pages.router,
        money.router,
        contracts.router,
        money_pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=PROJECT_ROOT / "api" / "static"), name="static")
    return app
