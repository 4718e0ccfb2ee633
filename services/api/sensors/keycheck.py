"""Which devices an API key may send for: the device's own key, or its gateway's.

An HMAC per check is cheap (microseconds), but a batch of 1000 readings would make 1000 of
them; a key verified against a stored hash is remembered for ``ttl_s`` (by the SHA-256 of
the key, never the key itself, together with the stored digest, so a replaced key is never
matched from the cache). The cache holds at most ``capacity`` keys, least recently used
dropped first.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

from cityops.contracts.devices import Device, KeyHash
from services.sensors import keys


def fingerprint(plain: str) -> str:
    """What stands for a key in memory (rate-limit buckets, the cache)."""
    return hashlib.sha256(plain.encode()).hexdigest()


class KeyCheck:
    def __init__(
        self,
        peppers: Mapping[str, bytes],
        gateways: Mapping[str, KeyHash],
        ttl_s: float = 60.0,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.peppers, self.gateways = peppers, gateways
        self.ttl_s, self.capacity, self.clock = ttl_s, capacity, clock
        self._verified: OrderedDict[str, tuple[float, set[str]]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._verified)

    def authorises(self, plain: str, device: Device) -> bool:
        """Whether the holder of ``plain`` may send readings of ``device``."""
        if device.api_key is not None and self.matches(plain, device.api_key):
            return True
        gateway = self.gateways.get(device.gateway_id) if device.gateway_id else None
        return gateway is not None and self.matches(plain, gateway)

    def matches(self, plain: str, stored: KeyHash) -> bool:
        mark, now = fingerprint(plain), self.clock()
        cached = self._verified.get(mark)
        if cached is not None and cached[0] > now and stored.digest in cached[1]:
            return True
        if not keys.verify(plain, stored, self.peppers):
            return False
        digests = cached[1] if cached is not None and cached[0] > now else set()
        digests.add(stored.digest)
        self._verified[mark] = (now + self.ttl_s, digests)
        self._verified.move_to_end(mark)
        if len(self._verified) > self.capacity:
            self._verified.popitem(last=False)
        return True
