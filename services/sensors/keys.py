"""Device API keys: issued once in the clear, stored only as a salted, peppered HMAC.

Why HMAC-SHA256 and not a password hash (argon2, bcrypt, scrypt): a device key is not a
password a person chose. It is 32 random bytes (256 bits) from :mod:`secrets`, and keys
given in a CSV must be at least :data:`MIN_KEY_CHARS` long, so guessing one from its hash is
hopeless however fast the hash is. A slow password hash exists to make guessing *low*
entropy secrets expensive; here it would buy nothing and cost tens of milliseconds of CPU on
every authenticated batch. The standard library's ``hmac`` and ``hashlib`` suffice, and no
dependency is added.

- The **pepper** is a server secret (from settings, never stored with the hashes): a copy of
  the device registry alone cannot even check a guess. ``pepper_id`` is stored with each
  hash so the pepper can be rotated (verify against the old one, rehash on next use).
- The **salt** (16 random bytes per key) makes two devices given the same key (a careless
  bulk import) hash differently, and rules out precomputed tables.
- Verification compares digests in constant time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from cityops.contracts.devices import KeyHash

KEY_PREFIX = "cok_"
MIN_KEY_CHARS = 32
MIN_PEPPER_BYTES = 32
SALT_BYTES = 16


@dataclass(frozen=True)
class Pepper:
    """The server-side secret mixed into every key hash, with an id for rotation."""

    id: str
    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) < MIN_PEPPER_BYTES:
            raise ValueError(f"a pepper needs at least {MIN_PEPPER_BYTES} bytes")


def _digest(plain: str, secret: bytes, salt: bytes) -> str:
    return hmac.new(secret, salt + plain.encode(), hashlib.sha256).hexdigest()


def hash_key(plain: str, pepper: Pepper, salt: bytes) -> KeyHash:
    if len(plain) < MIN_KEY_CHARS:
        raise ValueError(f"an API key needs at least {MIN_KEY_CHARS} characters")
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a salt is {SALT_BYTES} bytes")
    return KeyHash(pepper_id=pepper.id, salt=salt.hex(), digest=_digest(plain, pepper.secret, salt))


def verify(plain: str, stored: KeyHash, peppers: Mapping[str, bytes]) -> bool:
    """Whether ``plain`` is the key ``stored`` was made from; False if its pepper is gone."""
    secret = peppers.get(stored.pepper_id)
    if secret is None:
        return False
    expected = _digest(plain, secret, bytes.fromhex(stored.salt))
    return hmac.compare_digest(expected, stored.digest)


def issue(
    pepper: Pepper, randbytes: Callable[[int], bytes] = secrets.token_bytes
) -> tuple[str, KeyHash]:
    """A new key, to show its owner once, and its hash, to store."""
    plain = KEY_PREFIX + randbytes(32).hex()
    return plain, hash_key(plain, pepper, randbytes(SALT_BYTES))
