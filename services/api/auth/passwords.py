"""Password hashes: argon2id (argon2-cffi), with its parameters in the hash string."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 8
MAX_PASSWORD = 128

_hasher = PasswordHasher()  # argon2id, RFC 9106's second recommended parameters
# A hash to verify against when the user does not exist, so that a login for an unknown
# name costs as much as one with a wrong password (no user enumeration by timing).
_DECOY = _hasher.hash("cityops-decoy-password")


class WeakPassword(ValueError):
    pass


def check_strength(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise WeakPassword(f"密码长度须在 {MIN_PASSWORD} 到 {MAX_PASSWORD} 个字符之间")
    if password.isdigit() or password.isalpha():
        raise WeakPassword("密码须同时包含字母和数字（或符号）")


def hash_password(password: str) -> str:
    check_strength(password)
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; ``None`` (no such user) costs the same and fails."""
    try:
        return _hasher.verify(password_hash or _DECOY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
