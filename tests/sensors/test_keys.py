"""services/sensors/keys.py: keys are stored as salted, peppered HMACs."""

from __future__ import annotations

import pytest

from services.sensors import keys
from services.sensors.keys import Pepper

PEPPER = Pepper("p1", b"s" * 32)
PEPPERS = {"p1": PEPPER.secret}


def test_an_issued_key_verifies_and_its_hash_holds_no_trace_of_it() -> None:
    plain, stored = keys.issue(PEPPER)
    assert plain.startswith(keys.KEY_PREFIX) and len(plain) >= keys.MIN_KEY_CHARS
    assert keys.verify(plain, stored, PEPPERS)
    assert not keys.verify(plain[:-1] + ("0" if plain[-1] != "0" else "1"), stored, PEPPERS)
    assert plain not in stored.model_dump_json()


def test_the_same_key_hashes_differently_with_another_salt() -> None:
    plain = "k" * 40
    a = keys.hash_key(plain, PEPPER, b"\x01" * 16)
    b = keys.hash_key(plain, PEPPER, b"\x02" * 16)
    assert a.digest != b.digest
    assert keys.verify(plain, a, PEPPERS) and keys.verify(plain, b, PEPPERS)


def test_without_its_pepper_a_hash_verifies_nothing() -> None:
    plain, stored = keys.issue(PEPPER)
    assert not keys.verify(plain, stored, {"p1": b"t" * 32})
    assert not keys.verify(plain, stored, {})


def test_short_keys_and_short_peppers_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        keys.hash_key("short", PEPPER, b"\x01" * 16)
    with pytest.raises(ValueError, match="32 bytes"):
        Pepper("p0", b"tiny")
