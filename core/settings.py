"""One settings class for the whole service (env prefix ``SEEDBED_``, ``.env`` supported)."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "change-me-development-only"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class PasswordHashing(StrEnum):
    strong = "strong"
    fast = "fast"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEEDBED_", env_file=".env", extra="ignore")

    env: Environment = Environment.development
    secret_key: str = DEFAULT_SECRET
    database_url: str = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'seedbed.db'}"
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
    password_hashing: PasswordHashing = Field(
        default=PasswordHashing.strong, description="'fast' is for the test suite; refused in production"
    )

    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of the reverse proxies whose "
        "X-Forwarded-For/-Proto headers are believed; empty: none, the peer is the client",
    )

    scheduler_in_process: bool = True
    report_workers: int = Field(default=0, ge=0, description="0 = one per core")

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "seedbed@localhost"
    wecom_webhook_url: str | None = None

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
