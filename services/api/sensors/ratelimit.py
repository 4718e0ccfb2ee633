"""Token buckets per API key, with bounded memory.

Each key's bucket holds at most ``burst`` tokens and refills at ``rate`` per second; a
batch of n readings takes n tokens or is refused whole with the wait until it would fit.
:class:`Buckets` keeps at most ``capacity`` buckets, dropping the least recently used: a
dropped bucket was idle, and comes back full, which is what an idle bucket would be after
``burst / rate`` seconds anyway.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    rate: float
    burst: float
    tokens: float
    updated: float

    def take(self, n: float, now: float) -> float:
        """Take ``n`` tokens: 0 if taken, otherwise the seconds until they would be there."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if n <= self.tokens:
            self.tokens -= n
            return 0.0
        return (n - self.tokens) / self.rate

    def wait(self, n: float, now: float) -> float:
        """The seconds until ``n`` tokens would be there (0: now), taking none."""
        tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        return 0.0 if n <= tokens else (n - tokens) / self.rate


class Buckets:
    def __init__(self, rate: float, burst: float, capacity: int = 10_000) -> None:
        if rate <= 0 or burst < 1 or capacity < 1:
            raise ValueError("rate > 0, burst >= 1 and capacity >= 1")
        self.rate, self.burst, self.capacity = rate, burst, capacity
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, n: float, now: float) -> float:
        """As :meth:`TokenBucket.take`, for the bucket of ``key``."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.rate, self.burst, self.burst, now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.capacity:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(n, now)

    def wait(self, key: str, n: float, now: float) -> float:
        """As :meth:`TokenBucket.wait`, for the bucket of ``key`` (a new one is full)."""
        bucket = self._buckets.get(key)
        return 0.0 if bucket is None else bucket.wait(n, now)


def retry_after(wait_s: float) -> int:
    """Whole seconds for a ``Retry-After`` header (at least 1)."""
    return max(1, math.ceil(wait_s))
