"""A runaway statement cannot hold the database: PostgreSQL cancels it after 5 s."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from tests.conftest import TestDatabase, test_settings


@pytest.mark.postgres_only
async def test_the_app_engine_cancels_a_statement_after_five_seconds(
    database: TestDatabase, tmp_path: Path
) -> None:
    if database.backend != "postgresql":
        pytest.skip("statement_timeout is a PostgreSQL setting; SQLite has no server to protect")
    app = create_app(test_settings(database.url, tmp_path), run_scheduler=False)
    engine = app.state.engine
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SHOW statement_timeout"))).scalar_one() == "5s"
            started = time.monotonic()
            with pytest.raises(DBAPIError, match="statement timeout"):
                await connection.execute(text("SELECT pg_sleep(8)"))
            elapsed = time.monotonic() - started
        assert 4.5 < elapsed < 7
    finally:
        await engine.dispose()
