"""Readings that wait for their device's registration, on ``sensors.waiting``.

A reading of a device not (yet) in the registry, received lately, is sent to the waiting
topic with two headers: when to look at it again (``RETRY_EVERY_S`` on) and when it was
first written to Kafka (kept on every pass). It waits up to the configured time, then is
judged as an unknown device. While some of a device's readings wait, its later readings
queue behind them (:mod:`holds`), so none is overtaken and refused as late.
"""

from __future__ import annotations

import asyncio
import time

import faust

from services.sensors import holds

NOT_BEFORE = "cityops-not-before"  # header of a waiting reading: epoch seconds
FIRST_SEEN = "cityops-first-seen"  # and when it was first written to Kafka
RETRY_EVERY_S = 2.0


def headers(first_seen: float | None, now: float) -> list[tuple[str, bytes]]:
    """The headers of a record sent to the waiting topic at ``now``."""
    out = [(NOT_BEFORE, f"{now + RETRY_EVERY_S:.3f}".encode())]
    if first_seen is not None:
        out.append((FIRST_SEEN, f"{first_seen:.3f}".encode()))
    return out


def first_seen(event: faust.EventT) -> float:
    """When the record was first written to Kafka (its own timestamp, or the header that
    keeps it across passes through the waiting topic)."""
    m = event.message
    return float(dict(m.headers or ()).get(FIRST_SEEN, b"0") or 0) or m.timestamp


async def pace(event: faust.EventT) -> None:
    """A waiting reading is looked at again no sooner than its header says."""
    value = dict(event.message.headers or ()).get(NOT_BEFORE)
    if value is not None:
        delay = float(value) - time.time()
        if delay > 0:
            await asyncio.sleep(min(delay, RETRY_EVERY_S))


class WaitingRoom:
    """Decides which readings go to wait; keeps the holds (table keyed by device id)."""

    def __init__(
        self, topic: str, devices: faust.types.TableT, held: faust.types.TableT, wait_s: float
    ) -> None:
        self.topic, self.devices, self.held, self.wait_s = topic, devices, held, wait_s

    def fresh(self, event: faust.EventT) -> bool:
        """First written to Kafka so lately that its device may be registered but not yet
        read here."""
        return time.time() - first_seen(event) < self.wait_s

    def admits(self, event: faust.EventT, device_id: str) -> bool:
        """Whether the reading goes to the waiting topic: its device is unknown and it came
        lately, or older readings of the device still wait there."""
        before = holds.decode(self.held.get(device_id))
        hold = before
        came_back = event.message.topic == self.topic
        if came_back:
            hold = holds.returned(hold)
        wait = False
        now = time.time()
        if self.devices.get(device_id) is None and self.fresh(event):
            hold, wait = holds.unknown(hold, first_seen(event), self.wait_s), True
        elif hold is not None and not came_back and holds.active(hold, now):
            hold, wait = holds.queued(hold), True
        if not holds.active(hold, now):
            hold = None
        if hold != before:
            if hold is None:
                del self.held[device_id]
            else:
                self.held[device_id] = holds.encode(hold)
        return wait
