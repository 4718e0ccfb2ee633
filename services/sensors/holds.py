"""A device's readings held in order behind those waiting for its registration. Pure.

A reading of a device not yet in the registry, received lately, waits on
``sensors.waiting`` (the registry record may not be read yet). Once the record is read, the
device's next readings would be judged at once, ahead of the older ones still waiting; those
then come back more than the allowed lateness behind the newest and are refused as late (a
gateway uploading an hour of buffered readings right after its sensor was registered loses
the first part of it). So while readings of a device wait, its later readings join them on
the waiting topic, behind them in its partition, and are judged in the order they came.

The hold counts the device's readings on the waiting topic and ends when the count is back
to zero. Delivery is at least once, so a replay after a crash may count a reading twice:
the hold also ends at ``until`` (the wait allowed to the newest unknown reading), and it
can never last longer than that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Hold:
    waiting: int  # readings of the device on the waiting topic
    until: float  # epoch seconds: the hold ends then whatever the count says


def unknown(hold: Hold | None, first_seen: float, wait_s: float) -> Hold:
    """A reading of the (still) unknown device goes to wait, for up to ``wait_s`` after it
    was first written to Kafka."""
    end = first_seen + wait_s
    if hold is None:
        return Hold(1, end)
    return Hold(hold.waiting + 1, max(hold.until, end))


def queued(hold: Hold) -> Hold:
    """A reading of the now known device joins the queue behind the waiting ones (the
    hold's end does not move: a device reporting often would otherwise keep it forever)."""
    return replace(hold, waiting=hold.waiting + 1)


def returned(hold: Hold | None) -> Hold | None:
    """A reading came back from the waiting topic; the hold, with one fewer waiting."""
    if hold is None:
        return None
    return replace(hold, waiting=hold.waiting - 1)


def active(hold: Hold | None, now: float) -> bool:
    return hold is not None and hold.waiting > 0 and now < hold.until


def encode(hold: Hold) -> bytes:
    return json.dumps([hold.waiting, round(hold.until, 3)]).encode()


def decode(raw: bytes | None) -> Hold | None:
    if not raw:
        return None
    waiting, until = json.loads(raw)
    return Hold(int(waiting), float(until))
