"""services/api/sensors/ratelimit.py: token buckets per key, bounded."""

from __future__ import annotations

import pytest

from services.api.sensors.ratelimit import Buckets, TokenBucket, retry_after


def test_a_bucket_gives_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=10, burst=20, tokens=20, updated=0.0)
    assert bucket.take(20, now=0.0) == 0
    assert bucket.take(5, now=0.0) == pytest.approx(0.5)  # 5 tokens at 10/s
    assert bucket.take(5, now=0.5) == 0
    assert bucket.take(30, now=100.0) == pytest.approx(1.0)  # never more than the burst


def test_a_refused_batch_takes_nothing() -> None:
    bucket = TokenBucket(rate=1, burst=10, tokens=10, updated=0.0)
    assert bucket.take(11, now=0.0) > 0
    assert bucket.take(10, now=0.0) == 0


def test_keys_have_their_own_buckets() -> None:
    buckets = Buckets(rate=1, burst=3)
    assert buckets.take("a", 3, now=0.0) == 0
    assert buckets.take("a", 1, now=0.0) == pytest.approx(1.0)
    assert buckets.take("b", 3, now=0.0) == 0


def test_the_least_recently_used_bucket_is_dropped_past_the_cap() -> None:
    buckets = Buckets(rate=1, burst=2, capacity=2)
    buckets.take("a", 2, now=0.0)
    buckets.take("b", 2, now=0.0)
    buckets.take("a", 0, now=0.0)  # a used again: b is now the oldest
    buckets.take("c", 2, now=0.0)
    assert len(buckets) == 2
    assert buckets.take("a", 1, now=0.0) > 0  # a kept its empty bucket
    assert buckets.take("b", 2, now=0.0) == 0  # b was dropped and comes back full


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after(0.01) == 1 and retry_after(1.2) == 2 and retry_after(3) == 3


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        Buckets(rate=0, burst=10)
