"""What a device's step sends, kept in its state until Kafka has it. Pure.

A step writes the device's state (a faust table, its changelog) and sends records (a case,
a signal, a notice). A worker killed between the two must not lose the sends: on restart
the table is restored with the new state, and the readings replayed from the last
committed offset find it already advanced, so they would not decide the sends again (an
opened incident whose case never reached dispatch, its recovery held forever).

So a step that sends keeps its records in the state's ``outbox`` in the same write, and
the batch empties it once Kafka has acknowledged them. A step on a device whose outbox
holds records that no batch of this process is sending (left by a worker that died)
sends them again first. Every record is idempotent downstream (source ids and command ids
are derived from the readings), so sending one twice is harmless; losing one is not.
"""

from __future__ import annotations

from dataclasses import replace

from services.sensors.state import DeviceState, Unsent

Send = tuple[str, str, bytes]


def stage(
    before: DeviceState, after: DeviceState, sends: list[Send], flying: set[Unsent]
) -> tuple[DeviceState, list[Unsent]]:
    """The state to keep and the records to send now: the outbox's records no batch is
    sending (``flying``), then this step's, which join the outbox."""
    new = tuple(Unsent(*s) for s in sends)
    again = [u for u in before.outbox if u not in flying]
    kept = replace(after, outbox=before.outbox + tuple(u for u in new if u not in before.outbox))
    return kept, [*again, *new]


def settle(state: DeviceState, acknowledged: set[Unsent]) -> DeviceState:
    """The state once ``acknowledged`` are in Kafka: they leave the outbox."""
    left = tuple(u for u in state.outbox if u not in acknowledged)
    return state if left == state.outbox else replace(state, outbox=left)


def as_send(item: Unsent) -> Send:
    return item.topic, item.key, item.value
