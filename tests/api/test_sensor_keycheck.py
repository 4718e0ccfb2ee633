"""services/api/sensors/keycheck.py: a device's key or its gateway's, cached briefly."""

from __future__ import annotations

from cityops.contracts.devices import Device, KeyHash
from services.api.sensors.keycheck import KeyCheck
from services.sensors import keys
from services.sensors.keys import Pepper
from tests.sensors.builders import device

PEPPER = Pepper("p1", b"x" * 32)
PEPPERS = {"p1": PEPPER.secret}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def keyed(stored: KeyHash, device_id: str = "wl-1") -> Device:
    return device(device_id=device_id).model_copy(update={"api_key": stored})


def test_a_device_key_authorises_its_device_only() -> None:
    plain, stored = keys.issue(PEPPER)
    other_plain, other_stored = keys.issue(PEPPER)
    mine, theirs = keyed(stored), keyed(other_stored, device_id="wl-2")
    check = KeyCheck(PEPPERS, {})
    assert check.authorises(plain, mine)
    assert not check.authorises(plain, theirs)
    assert not check.authorises(other_plain, mine)
    assert not check.authorises(plain, device(device_id="wl-3"))  # no key at all


def test_a_gateway_key_authorises_the_devices_behind_it() -> None:
    plain, stored = keys.issue(PEPPER)
    check = KeyCheck(PEPPERS, {"gw-1": stored})
    assert check.authorises(plain, device(gateway_id="gw-1"))
    assert not check.authorises(plain, device(gateway_id="gw-2"))
    assert not check.authorises(plain, device())


def test_without_its_pepper_no_key_matches() -> None:
    plain, stored = keys.issue(PEPPER)
    assert not KeyCheck({}, {}).authorises(plain, keyed(stored))


def test_a_cached_key_never_matches_a_replaced_hash_and_expires() -> None:
    plain, stored = keys.issue(PEPPER)
    _, replaced = keys.issue(PEPPER)
    clock = Clock()
    check = KeyCheck(PEPPERS, {}, ttl_s=60, clock=clock)
    assert check.matches(plain, stored)
    assert check.matches(plain, stored)  # from the cache
    assert not check.matches(plain, replaced)
    clock.now = 61
    assert check.matches(plain, stored)  # verified again after expiry


def test_the_cache_is_bounded() -> None:
    check = KeyCheck(PEPPERS, {}, capacity=3)
    for _ in range(10):
        plain, stored = keys.issue(PEPPER)
        assert check.matches(plain, stored)
    assert len(check) == 3
