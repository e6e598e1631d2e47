from __future__ import annotations

import pytest
from pydantic import ValidationError

from core import security
from core.settings import DEFAULT_SECRET, Environment, PasswordHashing, Settings


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
