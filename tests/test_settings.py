from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.settings import DEFAULT_SECRET, Environment, Settings


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
    monkeypatch.setenv("SEEDBED_ENV", "production")
    monkeypatch.setenv("SEEDBED_SECRET_KEY", "a-real-secret-of-some-length")
    monkeypatch.setenv("SEEDBED_DATABASE_URL", "postgresql+asyncpg://db/seedbed")
    settings = Settings()
    assert settings.env is Environment.production
    assert not settings.is_sqlite
    assert settings.secure_cookies
