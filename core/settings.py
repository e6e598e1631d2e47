"""One settings class for the whole service (env prefix ``SEEDBED_``, ``.env`` supported)."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "change-me-development-only"
ENV_FILE = ".env"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class PasswordHashing(StrEnum):
    strong = "strong"
    fast = "fast"


class Settings(BaseSettings):
    # A settings error names the setting, never its value: values hold the secret key and
    # the database password (pydantic would otherwise print the offending input).
    model_config = SettingsConfigDict(
        env_prefix="SEEDBED_", env_file=ENV_FILE, extra="ignore", hide_input_in_errors=True
    )

    env: Environment = Environment.development
    secret_key: str = Field(default=DEFAULT_SECRET, repr=False)
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'seedbed.db'}", repr=False
    )
    data_dir: Path = PROJECT_ROOT / "var"
    base_url: str = "http://127.0.0.1:8000"

    default_locale: str = "zh"
    timezone: str = "Asia/Shanghai"

    access_token_minutes: int = Field(default=12 * 60, ge=1, le=60 * 24 * 30)
    session_minutes: int = Field(default=12 * 60, ge=1, le=60 * 24 * 30)
    login_window_minutes: int = Field(default=15, ge=1)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)

    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    request_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    statement_timeout_ms: int = Field(default=5000, ge=100)
    lock_timeout_ms: int = Field(
        default=2000, ge=10, description="PostgreSQL lock waits give up here (answered 409, retry)"
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        description="PostgreSQL connections each worker keeps open; requests beyond them wait for one",
    )
    db_max_overflow: int = Field(
        default=0,
        ge=0,
        description="connections a worker may open beyond the pool under a burst, each closed again "
        "as soon as it is returned (under steady load that is a new PostgreSQL connection per "
        "request); workers × (pool + overflow) must stay below the server's max_connections, or a "
        "burst is refused (503) instead of queued",
    )
    password_hashing: PasswordHashing = Field(
        default=PasswordHashing.strong, description="'fast' is for the test suite; refused in production"
    )

    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For/-Proto headers are believed; empty: none, the peer is the client",
    )

    scheduler_in_process: bool = True
    scheduler_poll_seconds: float = Field(
        default=3.0, gt=0, le=60, description="how often a standby tries to take the scheduler lease"
    )
    scheduler_lease_check_seconds: float = Field(
        default=2.0, gt=0, le=60, description="how often the leader checks that it still holds the lease"
    )
    scheduler_misfire_grace_seconds: int = Field(
        default=3600,
        ge=1,
        description="missed slots younger than this run on takeover; older ones are skipped",
    )
    scheduler_heartbeat_cron: str = Field(
        default="* * * * *", description="cron of scheduler.heartbeat; six fields = with seconds first"
    )
    idempotency_retention_hours: int = Field(
        default=48, ge=1, description="how long an Idempotency-Key answers"
    )
    report_workers: int = Field(default=0, ge=0, description="0 = one per core")

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "seedbed@localhost"
    wecom_webhook_url: str | None = None

    @field_validator("scheduler_heartbeat_cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from core.jobs import parse_cron

        parse_cron(value, "UTC")
        return value

    @field_validator("database_url")
    @classmethod
    def _parsable_url(cls, value: str) -> str:
        try:
            make_url(value)
        except Exception:
            raise ValueError(
                "SEEDBED_DATABASE_URL is not a database URL such as sqlite+aiosqlite:///var/seedbed.db "
                "or postgresql+asyncpg://user@host:5432/seedbed (a password goes after the user and a colon)"
            ) from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"SEEDBED_TRUSTED_PROXIES: {entry!r} is not an address or a network such as 10.0.0.0/8"
                ) from None
        return ",".join(entries)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Self:
        if self.env is not Environment.development and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "SEEDBED_SECRET_KEY is still the development default; set a real secret "
                "or run with SEEDBED_ENV=development"
            )
        if self.env is Environment.production and self.password_hashing is not PasswordHashing.strong:
            raise ValueError("SEEDBED_PASSWORD_HASHING=fast is for tests; production hashes strongly")
        if self.lock_timeout_ms >= self.statement_timeout_ms:
            raise ValueError("SEEDBED_LOCK_TIMEOUT_MS must be below SEEDBED_STATEMENT_TIMEOUT_MS")
        if self.env is not Environment.development and len(self.secret_key) < 16:
            raise ValueError("SEEDBED_SECRET_KEY must be at least 16 characters")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.env is not Environment.development

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"


@lru_cache
def get_settings() -> Settings:
    return Settings()


# The password of any URL with credentials: ``scheme://user:password@``.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/?#@\s]*:)(?P<password>[^@\s]*)(?=@)")


def _configured(name: str) -> list[str]:
    """A setting's raw values (environment and ``.env``), even when the settings do not load."""
    from dotenv import dotenv_values

    values = [value for key, value in os.environ.items() if key.upper() == name]
    if Path(ENV_FILE).is_file():
        values += [value for key, value in dotenv_values(ENV_FILE).items() if value and key.upper() == name]
    return values


def _secret_values() -> set[str]:
    secrets = set(_configured("SEEDBED_SECRET_KEY"))
    for url in _configured("SEEDBED_DATABASE_URL"):
        secrets.update(match.group("password") for match in _URL_PASSWORD.finditer(url))
        with contextlib.suppress(Exception):
            secrets.add(make_url(url).password or "")  # percent-decoded
    return {secret for secret in secrets if len(secret) >= 4}


def mask_secrets(text: str) -> str:
    """``text`` (an error message, a traceback) with URL passwords and the configured
    secret key and database password replaced by ``***``: for every place that reports a
    settings or connection error."""
    text = _URL_PASSWORD.sub(r"\g<head>***", text)
    for secret in sorted(_secret_values(), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
