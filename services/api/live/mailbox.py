"""One subscriber's frames waiting to be sent: bounded, so a slow client costs little.

A subscriber that falls ``capacity`` frames behind loses its queued frames and is told to
``resync`` (refetch the case list) instead: the list it fetches then is newer than every
frame it missed. Pure apart from the :class:`asyncio.Event` a waiting stream sleeps on.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass

CAPACITY = 256


@dataclass(frozen=True, slots=True)
class Frame:
    event: str  # ready, case, ping, resync, bye (the stream ends)
    data: str  # JSON text, serialised once for every subscriber


def frame(event: str, **data: object) -> Frame:
    return Frame(event, json.dumps(data, ensure_ascii=False))


PING = frame("ping")
RESYNC = frame("resync", reason="推送积压，部分更新已丢弃，请重新加载案件列表")
BYE = frame("bye", reason="实时推送已停止，请重新连接")


class Mailbox:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self.frames: deque[Frame] = deque()
        self.overflowed = False
        self.closed = False
        self.ready = asyncio.Event()

    def offer(self, item: Frame) -> None:
        if self.closed:
            return
        if len(self.frames) >= self.capacity:
            self.frames.popleft()
            self.overflowed = True
        self.frames.append(item)
        self.ready.set()

    def close(self) -> None:
        """The stream ends after :data:`BYE` (the feed stopped); the client reconnects."""
        self.frames.clear()
        self.frames.append(BYE)
        self.overflowed, self.closed = False, True
        self.ready.set()

    def drain(self) -> list[Frame]:
        """Everything waiting, or only :data:`RESYNC` after an overflow."""
        if self.overflowed:
            taken = [RESYNC]
            self.overflowed = False
            self.frames.clear()
        else:
            taken = list(self.frames)
            self.frames.clear()
        self.ready.clear()
        return taken

    async def wait(self, ping_s: float) -> list[Frame]:
        """The frames waiting, as soon as there are any; :data:`PING` after ``ping_s`` idle."""
        try:
            await asyncio.wait_for(self.ready.wait(), timeout=ping_s)
        except TimeoutError:
            return [PING]
        return self.drain()
