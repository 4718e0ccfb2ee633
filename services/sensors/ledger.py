"""The outboxes of one sensors worker, applied around its batches (:mod:`outbox` decides).

A step stages its sends: the device's state is kept with them in its outbox, and the batch
notes them. Once Kafka has acknowledged the batch's sends, :meth:`Ledger.settle` takes them
out of their devices' outboxes. ``flying`` holds what some batch of this process is
sending, so that only what a dead worker left is sent again. Agents run as tasks of their
own, so each batch's notes live in a context variable of its task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import ContextVar

import faust
from prometheus_client import Counter

from cityops.tables import as_current
from services.sensors import outbox
from services.sensors.outbox import Send
from services.sensors.state import DeviceState, Unsent

log = logging.getLogger(__name__)

RESENT = Counter(
    "cityops_sensor_outbox_resent_total", "Sends a worker that died left unacknowledged, sent again"
)

# device id → (its latest event in the batch, the outbox records the batch sends for it)
Staged = dict[str, tuple[faust.EventT, set[Unsent]]]
_STAGED: ContextVar[Staged | None] = ContextVar("cityops_sensors_staged", default=None)


class Ledger:
    def __init__(
        self, state_of: Callable[[str], DeviceState], keep: Callable[[DeviceState], None]
    ) -> None:
        self.state_of, self.keep = state_of, keep
        self.flying: set[Unsent] = set()

    def open_batch(self) -> Staged:
        """A new batch of the calling agent's task."""
        staged: Staged = {}
        _STAGED.set(staged)
        return staged

    def sends(
        self, event: faust.EventT, before: DeviceState, after: DeviceState, sends: list[Send]
    ) -> list[Send]:
        """Keeps ``after`` with ``sends`` in its outbox; returns what to send now, records
        a worker that died left unsent first."""
        kept, out = outbox.stage(before, after, sends, self.flying)
        if len(out) > len(sends):
            RESENT.inc(len(out) - len(sends))
            log.info("unacknowledged sends sent again", extra={"device_id": kept.device_id})
        if kept != before:
            self.keep(kept)
        if out:
            batch = _STAGED.get()
            assert batch is not None, "a step outside a batch"
            _, items = batch.get(kept.device_id, (event, set()))
            batch[kept.device_id] = (event, items | set(out))
            self.flying.update(out)
        return [outbox.as_send(u) for u in out]

    def settle(self, staged: Staged) -> None:
        """The batch's sends are acknowledged: they leave their devices' outboxes."""
        for device_id, (event, items) in staged.items():
            as_current(event)  # the device's partition, for the table write
            current = self.state_of(device_id)
            settled = outbox.settle(current, items)
            if settled != current:
                self.keep(settled)
            self.flying.difference_update(items)
