"""Batches of readings over HTTP: judged one by one, the accepted ones produced to
``sensor.readings`` keyed by device id.

Errors::

    IntakeError
    ├── BatchTooLarge   413: more readings than one batch may carry
    ├── Unauthorised    401: no key, or a key that may send none of the batch's readings
    └── RateLimited     429: the key's bucket is empty; ``wait_s`` until the batch fits
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter

from cityops.contracts import Topics
from cityops.errors import CityopsError, DependencyUnavailable
from cityops.kafka import BackgroundProducer, encode
from services.api.sensors.directory import Directory
from services.api.sensors.keycheck import KeyCheck, fingerprint
from services.api.sensors.models import MAX_BATCH, BatchAnswer, ReadingResult
from services.api.sensors.ratelimit import Buckets
from services.api.sensors.readings import Refusal, Verdict, judge

RECEIVED = Counter(
    "cityops_sensor_readings_received_total", "Readings judged by the HTTP intake", ["result"]
)
REFUSED = Counter(
    "cityops_sensor_readings_refused_total", "Readings the HTTP intake refused", ["reason"]
)
LIMITED = Counter("cityops_sensor_batches_limited_total", "Batches refused by the rate limit")


class IntakeError(CityopsError):
    pass


class BatchTooLarge(IntakeError):
    pass


class Unauthorised(IntakeError):
    pass


class RateLimited(IntakeError):
    def __init__(self, wait_s: float) -> None:
        super().__init__(f"发送过快：请在 {wait_s:.1f} 秒后重试")
        self.wait_s = wait_s


class IntakeService:
    def __init__(
        self,
        producer: BackgroundProducer,
        topics: Topics,
        directory: Directory,
        loaded: asyncio.Event,
        keycheck: KeyCheck,
        buckets: Buckets,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.producer, self.topics, self.directory = producer, topics, directory
        self.loaded, self.keycheck, self.buckets, self.clock = loaded, keycheck, buckets, clock
        self.max_batch = min(MAX_BATCH, int(buckets.burst))

    async def submit(self, api_key: str | None, items: list[dict[str, Any]]) -> BatchAnswer:
        """Judge every reading; produce the accepted ones (acknowledged when this returns)."""
        if len(items) > self.max_batch:
            detail = f"一批最多 {self.max_batch} 条读数（收到 {len(items)} 条），请分批发送"
            raise BatchTooLarge(detail)
        if not api_key:
            raise Unauthorised("缺少 X-Api-Key")
        if not (self.producer.ready.is_set() and self.loaded.is_set()):
            raise DependencyUnavailable("消息队列尚未连接或设备目录尚在加载")
        verdicts = self._judge(api_key, items)
        if not any(v.authorised for v in verdicts):
            raise Unauthorised("X-Api-Key 无效：它不能发送这批读数中任何设备的数据")
        wait = self.buckets.take(fingerprint(api_key), len(items), self.clock())
        if wait > 0:
            LIMITED.inc()
            raise RateLimited(wait)
        accepted = [v.reading for v in verdicts if v.reading is not None]
        await asyncio.gather(
            *(
                self.producer.send_and_wait(
                    self.topics.sensor_readings, encode(r), key=r.device_id.encode()
                )
                for r in accepted
            )
        )
        return _answer(verdicts)

    def _judge(self, api_key: str, items: list[dict[str, Any]]) -> list[Verdict]:
        now = datetime.now(UTC)
        return [
            judge(i, item, now, self.directory.get, lambda d: self.keycheck.authorises(api_key, d))
            for i, item in enumerate(items)
        ]


def _answer(verdicts: list[Verdict]) -> BatchAnswer:
    results = [
        ReadingResult(
            index=v.index,
            reading_id=v.reading_id,
            status="accepted" if v.reason is None else "refused",
            reason=v.reason.value if v.reason else None,
            detail=v.detail,
        )
        for v in verdicts
    ]
    accepted = sum(r.status == "accepted" for r in results)
    RECEIVED.labels("accepted").inc(accepted)
    RECEIVED.labels("refused").inc(len(results) - accepted)
    for reason in Refusal:
        REFUSED.labels(reason.value).inc(sum(v.reason == reason for v in verdicts))
    return BatchAnswer(accepted=accepted, refused=len(results) - accepted, results=results)
