"""A device's state between readings, and its codec (for a table keyed by device id).

The state never grows with the number of readings. Its largest value is one
:class:`ConditionState` per rule of the device's type (two at most today), each with a window
of at most ``MAX_WINDOW`` (32) samples of bounded size (a reading id is at most 128
characters), plus a few times and counters: under 10 KB in UTF-8 JSON (tested). The link
to the incident's case adds a case id and at most ``MAX_PENDING`` short signals. While a
step's sends are not yet acknowledged, they are kept in ``outbox`` (the outputs of one or
two readings: an opened incident carries up to 64 readings, ~15 KB); it is emptied once
Kafka has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import TypeAdapter

from services.sensors.window import Sample


@dataclass(frozen=True, slots=True)
class Pending:
    """A signal for the incident's case, held until the case's id is known (the link)."""

    signal: str  # "recovered" or "relapsed"
    number: int
    observed_at: datetime
    text: str


MAX_PENDING = 4  # signals held per condition while its case id is unknown


@dataclass(frozen=True, slots=True)
class ConditionState:
    """One condition of one device: its window and its incident."""

    window: tuple[Sample, ...] = ()
    number: int = 0  # incidents opened so far; the open (or last) one's number
    open: bool = False
    opened_at: datetime | None = None  # event time the open (or last) incident began
    normal_since: datetime | None = None  # start of the trailing run of clear readings
    recovered_at: datetime | None = None  # event time of the last recovery
    case_id: str | None = None  # the case holding incident ``number`` (learned from its events)
    pending: tuple[Pending, ...] = ()  # signals waiting for ``case_id`` (at most MAX_PENDING)


@dataclass(frozen=True, slots=True)
class Unsent:
    """A record a step of this device decided to send, kept with the state that decided it
    until Kafka has acknowledged it (:mod:`outbox`)."""

    topic: str
    key: str
    value: bytes


@dataclass(frozen=True, slots=True)
class DeviceState:
    device_id: str
    conditions: dict[str, ConditionState] = field(default_factory=dict)
    last_received_at: datetime | None = None
    silent_at: datetime | None = None  # when :func:`heartbeat.due` fires, unless heard from
    fault_open: bool = False
    faults: int = 0  # device faults raised so far
    outbox: tuple[Unsent, ...] = ()  # sends not yet acknowledged (usually empty)

    def condition(self, name: str) -> ConditionState:
        return self.conditions.get(name) or ConditionState()

    def open_incidents(self) -> dict[str, int]:
        """Condition → number of its open incident."""
        return {name: c.number for name, c in self.conditions.items() if c.open}


_CODEC: TypeAdapter[DeviceState] = TypeAdapter(DeviceState)


def encode(state: DeviceState) -> bytes:
    return _CODEC.dump_json(state)


def decode(raw: bytes) -> DeviceState:
    return _CODEC.validate_json(raw)
