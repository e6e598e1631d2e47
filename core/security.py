"""Password hashing (argon2), opaque tokens stored hashed, and CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.settings import PasswordHashing

_PROFILES: dict[PasswordHashing, PasswordHasher] = {
    # argon2-cffi's defaults (RFC 9106's second recommendation): what production uses.
    PasswordHashing.strong: PasswordHasher(),
    # For the test suite only (the settings refuse it in production): the same algorithm at
    # its smallest cost, so the suite does not spend most of its time hashing.
    PasswordHashing.fast: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
}
_hasher = _PROFILES[PasswordHashing.strong]
_dummy_hash: str | None = None


def configure_hashing(profile: PasswordHashing) -> None:
    """Choose the hashing cost for this process (called by the app factory and the CLI)."""
    global _hasher, _dummy_hash
    if _hasher is not _PROFILES[profile]:
        _hasher = _PROFILES[profile]
        _dummy_hash = None


def hashing_parameters() -> tuple[int, int, int]:
    """(time cost, memory in KiB, parallelism) of the hasher in use."""
    return _hasher.time_cost, _hasher.memory_cost, _hasher.parallelism


def _dummy() -> str:
    # A hash of a random password: verifying against it when the account does not exist keeps
    # the answer time the same, so timing does not reveal which emails have accounts.
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash(secrets.token_urlsafe(16))
    return _dummy_hash


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> tuple[str, str]:
    """A fresh opaque token and the SHA-256 under which it is stored."""
    raw = secrets.token_urlsafe(32)
    return raw, token_digest(raw)


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _csrf_signature(secret: str, binding: str, nonce: str) -> str:
    message = f"csrf\x00{binding}\x00{nonce}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def make_csrf_token(secret: str, binding: str) -> str:
    """A CSRF token valid only for ``binding``: the session it was issued to (the digest of
    the session token, or of a pre-session value for anonymous forms such as login)."""
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_csrf_signature(secret, binding, nonce)}"


def csrf_token_valid(secret: str, token: str | None, binding: str) -> bool:
    if not token or "." not in token or len(token) > 200:
        return False
    nonce, _, signature = token.partition(".")
    return hmac.compare_digest(_csrf_signature(secret, binding, nonce), signature)
