from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import event, text

from core import security
from core.settings import DEFAULT_SECRET, Environment, PasswordHashing, Settings, mask_secrets
from tests.conftest import TestDatabase


def test_default_secret_is_refused_outside_development() -> None:
    with pytest.raises(ValidationError, match="SEEDBED_SECRET_KEY"):
        Settings(env=Environment.production, secret_key=DEFAULT_SECRET)


def test_default_secret_is_accepted_in_development() -> None:
    settings = Settings(env=Environment.development)
    assert settings.secret_key == DEFAULT_SECRET
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.database_url.endswith("var/seedbed.db")
    assert not settings.secure_cookies


def test_env_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEEDBED_PASSWORD_HASHING", raising=False)
    monkeypatch.setenv("SEEDBED_ENV", "production")
    monkeypatch.setenv("SEEDBED_SECRET_KEY", "a-real-secret-of-some-length")
    monkeypatch.setenv("SEEDBED_DATABASE_URL", "postgresql+asyncpg://db/seedbed")
    settings = Settings()
    assert settings.env is Environment.production
    assert not settings.is_sqlite
    assert settings.secure_cookies


def test_production_hashes_passwords_strongly(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite's cheap argon2 profile never reaches production."""
    monkeypatch.delenv("SEEDBED_PASSWORD_HASHING", raising=False)
    settings = Settings(env=Environment.production, secret_key="a-real-secret-of-some-length")
    assert settings.password_hashing is PasswordHashing.strong
    with pytest.raises(ValidationError, match="SEEDBED_PASSWORD_HASHING"):
        Settings(
            env=Environment.production,
            secret_key="a-real-secret-of-some-length",
            password_hashing=PasswordHashing.fast,
        )
    try:
        security.configure_hashing(settings.password_hashing)
        time_cost, memory_kib, parallelism = security.hashing_parameters()
        assert (time_cost, memory_kib, parallelism) == (3, 65536, 4)
        assert security.hash_password("x" * 12).startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    finally:
        security.configure_hashing(PasswordHashing.fast)


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert Settings().trusted_proxies == ""
    settings = Settings(trusted_proxies=" 127.0.0.1, 10.0.0.0/8 ,")
    assert settings.trusted_proxies == "127.0.0.1,10.0.0.0/8"
    with pytest.raises(ValidationError, match="SEEDBED_TRUSTED_PROXIES"):
        Settings(trusted_proxies="127.0.0.1,proxy.example")


PASSWORD_IN_URL = "Pw-7f3a9c1e"
SECRET = "k-0b5d2e8f4a"


@pytest.mark.parametrize(
    ("command", "settings", "named"),
    [
        (["db", "upgrade"], {"ENV": "production", "SECRET_KEY": SECRET}, "SEEDBED_SECRET_KEY"),
        (["serve", "--migrate", "--port", "1"], {"ENV": "production"}, "SEEDBED_SECRET_KEY"),
        (
            ["users", "create", "--email", "a@b.cn", "--password", "long-enough", "--role", "staff"],
            {"SMTP_PORT": "twenty-five", "SECRET_KEY": SECRET},
            "SEEDBED_SMTP_PORT",
        ),
    ],
)
def test_a_settings_error_never_prints_a_password_or_the_secret_key(
    tmp_path: Path, command: list[str], settings: dict[str, str], named: str
) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEEDBED_")}
    env["SEEDBED_DATABASE_URL"] = f"postgresql+asyncpg://seed:{PASSWORD_IN_URL}@db/x"
    env.update({f"SEEDBED_{name}": value for name, value in settings.items()})
    result = subprocess.run(
        [str(Path(sys.executable).with_name("seedbed")), *command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert named in output
    assert PASSWORD_IN_URL not in output
    assert SECRET not in output


def test_a_malformed_database_url_is_a_settings_error_without_its_password() -> None:
    with pytest.raises(ValidationError, match="SEEDBED_DATABASE_URL") as raised:
        Settings(database_url=f"postgresql+asyncpg://seed:{PASSWORD_IN_URL}@db:port/x")
    assert PASSWORD_IN_URL not in str(raised.value)
    assert PASSWORD_IN_URL not in repr(
        Settings(database_url=f"postgresql+asyncpg://seed:{PASSWORD_IN_URL}@db/x")
    )


def test_connection_errors_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDBED_DATABASE_URL", "postgresql+asyncpg://seed:p%40ss-word@db/x")
    monkeypatch.setenv("SEEDBED_SECRET_KEY", SECRET)
    message = (
        "could not connect to postgresql+asyncpg://seed:p%40ss-word@db/x (password 'p@ss-word'); "
        f"key {SECRET}; redis://:other-pass@cache:6379/0"
    )
    masked = mask_secrets(message)
    assert masked == (
        "could not connect to postgresql+asyncpg://seed:***@db/x (password '***'); "
        "key ***; redis://:***@cache:6379/0"
    )


async def test_each_worker_opens_the_postgresql_connections_the_settings_allow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SEEDBED_DB_POOL_SIZE and SEEDBED_DB_MAX_OVERFLOW size the app's pool (no connection
    is opened to build it)."""
    from api.app import create_app

    monkeypatch.setenv("SEEDBED_DB_POOL_SIZE", "3")
    monkeypatch.setenv("SEEDBED_DB_MAX_OVERFLOW", "1")
    settings = Settings(
        env=Environment.development, database_url="postgresql+asyncpg://seedbed@127.0.0.1/none"
    )
    app = create_app(settings, run_scheduler=False)
    pool = app.state.engine.sync_engine.pool
    assert (pool.size(), pool._max_overflow) == (3, 1)
    await app.state.engine.dispose()
    with pytest.raises(ValidationError):
        Settings(env=Environment.development, db_pool_size=0)


async def test_a_worker_under_steady_load_keeps_its_connections(database: TestDatabase) -> None:
    """Sixteen requests at a time on one worker (the load of two workers behind 32
    connections) reuse the connections the first burst opened. With a pool of 10 and an
    overflow of 20 the six overflow connections were closed on return and opened again by
    the next burst: a new PostgreSQL backend per request, most of a read's cost."""
    if database.backend != "postgresql":
        pytest.skip("the pool holds PostgreSQL connections")
    from api.app import create_app

    app = create_app(Settings(env=Environment.development, database_url=database.url), run_scheduler=False)
    engine = app.state.engine
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda *_: opened.append(object()))

    async def request() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(0.02)"))

    try:
        await asyncio.gather(*(request() for _ in range(16)))
        first_burst = len(opened)
        for _ in range(3):
            await asyncio.gather(*(request() for _ in range(16)))
        assert first_burst == 16
        assert len(opened) == first_burst, f"{len(opened) - first_burst} connections opened again"
    finally:
        await engine.dispose()
