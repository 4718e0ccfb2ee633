"""The sensors faust app: readings become incidents, incidents become cases and signals.

Agents (every table is keyed like the topic that writes it, so a step writes only its own
partition):

- ``register_devices``: ``sensor.devices`` (the compacted registry) → table ``devices``;
  a new device gets a fresh state, so one that never reports is found silent too.
- ``judge_readings``: ``sensor.readings`` (and ``sensors.rekeyed``, ``sensors.waiting``) → the rules
  (:func:`rules.process`) over table ``device_state``. An opened incident goes to
  ``cases.classified`` with its class known (:mod:`alarms`); a recovery or relapse goes to
  the incident's case as a ``SensorSignal`` command, or waits for the link
  (:mod:`casework`); a refusal goes to ``deadletter.sensors`` with the reason. A reading on
  a partition other than its device's (a producer with another partitioner, or no key) is
  first moved to ``sensors.rekeyed`` under its device id. A reading of a device not (yet)
  in the registry, received lately, waits on ``sensors.waiting`` and is looked at again
  every 2 s for ``CITYOPS_SENSORS_UNKNOWN_WAIT_S`` (the registry record of a device just
  registered may not be read yet); then it is dead-lettered as an unknown device. While
  some wait, the device's later readings queue behind them (table ``reading_holds``,
  :mod:`holds`, :mod:`waiting`), so none is overtaken and refused as late.
- ``follow_cases``: ``cases.events`` → the links of sensor sources to their cases
  (:mod:`links`) on ``sensors.nudges``, and every new case's place on ``sensors.places``.
- ``apply_nudges``: links and the heartbeat timer's checks → table ``device_state``;
  a silent device's notice goes to ``sensor.notices``.
- ``count_places``: table ``hotspot_places`` → a proactive case per hotspot
  (:mod:`hotspots`).
- a timer nudges the devices whose heartbeat is due (:class:`cityops.due.DueIndex`).

Delivery is at least once and every output is idempotent downstream: incident numbers and
so source ids and command ids are derived from the readings, so a replay sends the same
records and dispatch applies them once. A step's sends wait in its device's state until
acknowledged (:mod:`outbox`), so a worker killed between the two loses none. A Kafka error
exits the process (the supervisor restarts it) before the batch's offsets are committed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import faust
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from prometheus_client import Counter

from cityops import sensors
from cityops.contracts import SensorReading, SignalKind
from cityops.contracts.devices import Device, DeviceRegistered
from cityops.due import DueIndex
from cityops.errors import InvalidMessage
from cityops.kafka import DEAD_LETTERS, dead_letter, decode, encode
from cityops.sensors import Catalogue, Rule
from cityops.tables import add_service_pages, as_current, raw_table
from cityops.taxonomy import Taxonomy
from services.sensors import alarms, casework, heartbeat, hotspots, links, rules, state
from services.sensors import waiting as waiting_room
from services.sensors.heartbeat import DeviceBack, DeviceFault
from services.sensors.incidents import IncidentOpened, IncidentRecovered, IncidentRelapsed
from services.sensors.ledger import Ledger
from services.sensors.links import Nudge
from services.sensors.refusals import Refused, Skipped
from services.sensors.settings import SensorsSettings
from services.sensors.state import DeviceState, Pending

log = logging.getLogger(__name__)

READINGS = Counter(
    "cityops_sensor_readings_processed_total", "Readings through the rules", ["outcome"]
)
REFUSED = Counter("cityops_sensor_readings_refused_total", "Readings refused", ["reason"])
INCIDENTS = Counter("cityops_sensor_incidents_total", "Incident signals", ["kind"])
NOTICES = Counter("cityops_device_notices_total", "Device notices for maintainers", ["kind"])
HOTSPOTS = Counter("cityops_hotspots_total", "Hotspots that opened a proactive case")
EXIT_RETRY = 75
Send = tuple[str, str, bytes]


def faust_options(settings: SensorsSettings) -> dict[str, Any]:
    return {
        "broker": f"kafka://{settings.kafka_bootstrap}",
        "store": "rocksdb://" if settings.sensors_store == "rocksdb" else "memory://",
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": settings.topic_replication,
        "broker_session_timeout": settings.kafka_session_timeout_ms / 1000,
        "broker_heartbeat_interval": settings.kafka_heartbeat_interval_ms / 1000,
        "broker_commit_interval": 0.5,
        "consumer_auto_offset_reset": "earliest",
        "producer_acks": -1,
        "processing_guarantee": "at_least_once",
        "web_port": settings.sensors_web_port,
        "web_bind": settings.health_host,
        "web_host": settings.health_host,
        "datadir": settings.sensors_data_dir,
        "worker_redirect_stdouts": False,
        "consumer_group_instance_id": f"sensors@{settings.instance_id}",
    }


@lru_cache(maxsize=65_536)
def registration(stored: bytes) -> DeviceRegistered:
    """A device's registry record, parsed once for as long as it is unchanged (every
    reading needs its device; the record is a frozen model, so sharing it is safe)."""
    return DeviceRegistered.model_validate_json(stored)


def partition_of(key: bytes, partitions: int) -> int:
    """The partition the Java client's (and aiokafka's, and faust's) partitioner picks."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def rule_of(catalogue: Catalogue, device: Device, condition: str) -> Rule | None:
    return next((r for r in catalogue.type(device.type).rules if r.condition == condition), None)


def create_app(
    settings: SensorsSettings, taxonomy: Taxonomy, catalogue: Catalogue | None = None
) -> faust.App:
    catalogue = catalogue or sensors.load()
    version = alarms.model_version(catalogue)
    topics = settings.topics
    parts = settings.topic_partitions
    app = faust.App(f"{settings.topic_prefix}cityops-sensors", **faust_options(settings))
    DEAD_LETTERS.labels("sensors")  # the series exists at zero before the first letter
    window = timedelta(days=settings.sensors_hotspot_window_days)

    def raw_topic(name: str, **kw: Any) -> faust.TopicT:
        return app.topic(name, key_serializer="raw", value_serializer="raw", **kw)

    def internal(base: str) -> tuple[str, faust.TopicT]:
        name = topics.name(base)
        return name, raw_topic(name, internal=True, partitions=parts)

    readings = raw_topic(topics.sensor_readings)
    registry = raw_topic(topics.sensor_devices)
    events = raw_topic(topics.cases_events)
    rekeyed_name, rekeyed = internal("sensors.rekeyed")
    nudges_name, nudges = internal("sensors.nudges")
    places_name, places = internal("sensors.places")
    waiting_name, waiting = internal("sensors.waiting")
    devices = raw_table(app, "devices", parts)
    states = raw_table(app, "device_state", parts)
    place_states = raw_table(app, "hotspot_places", parts)
    held = raw_table(app, "reading_holds", parts)  # :mod:`holds`: keyed by device id
    room = waiting_room.WaitingRoom(waiting_name, devices, held, settings.sensors_unknown_wait_s)
    silent = DueIndex()

    async def send(
        topic: str, key: str, value: bytes, first_seen: float | None = None
    ) -> Awaitable[Any]:
        # a waiting reading is looked at again in a moment, not at once
        headers = waiting_room.headers(first_seen, time.time()) if topic == waiting_name else None
        return await app.producer.send(topic, key.encode(), value, None, None, headers)

    async def durable() -> None:
        """Wait until the batch's table writes are acknowledged (faust buffers changelog
        records)."""
        while app.producer.buffer.size:
            await app.producer.buffer.flush()
        await app.producer.flush()

    async def run_batches(
        stream: faust.StreamT,
        step: Callable[[faust.EventT], list[Send]],
        paced: bool = False,
    ) -> None:
        """``step`` on each record of a batch, then the batch's table writes, then every
        send of the batch at once."""
        batches = stream.take_events(settings.sensors_batch_size, within=0.01)  # type: ignore[attr-defined]  # Stream has it, StreamT does not declare it
        async for batch in batches:
            staged = ledger.open_batch()
            try:
                outgoing = []
                for event in batch:
                    if paced:
                        await waiting_room.pace(event)
                    as_current(event)
                    seen = waiting_room.first_seen(event)
                    outgoing += [(*send_, seen) for send_ in await guarded(event, step)]
                # the states (with their outboxes) first: a restored state is then never
                # older than a record already sent, and holds what was not yet sent
                await asyncio.wait_for(durable(), settings.sensors_ack_timeout_s)
                acks = [await send(*record) for record in outgoing]
                await asyncio.wait_for(asyncio.gather(*acks), settings.sensors_ack_timeout_s)
                ledger.settle(staged)
            except (KafkaError, TimeoutError):
                log.exception("kafka did not acknowledge: exiting so the batch is retried whole")
                os._exit(EXIT_RETRY)

    async def guarded(
        event: faust.EventT, step: Callable[[faust.EventT], list[Send]]
    ) -> list[Send]:
        try:
            return step(event)
        except InvalidMessage as exc:
            return [letter(event, exc)]
        except Exception as exc:  # process boundary: a bug must not stop the stream
            log.exception("step failed")
            return [letter(event, InvalidMessage(f"internal error {type(exc).__name__}: {exc}"))]

    def letter(event: faust.EventT, error: InvalidMessage) -> Send:
        m = event.message
        record = dead_letter("sensors", (m.topic, m.partition, m.offset), m.key, m.value, error)
        log.warning("record dead-lettered", extra={"topic": m.topic, "reason": record.reason})
        DEAD_LETTERS.labels("sensors").inc()
        return (
            topics.dead_letter("sensors"),
            (m.key or b"").decode(errors="replace"),
            encode(record),
        )

    def device_of(device_id: str) -> Device:
        stored = devices.get(device_id)
        if stored is None:
            raise InvalidMessage(f"unknown device: {device_id!r} is not registered")
        registered = registration(stored)
        if registered.retired:
            raise InvalidMessage(f"device retired: {device_id!r} is out of service")
        return registered.device

    def state_of(device_id: str) -> DeviceState:
        stored = states.get(device_id)
        return state.decode(stored) if stored else DeviceState(device_id)

    def keep(new: DeviceState) -> None:
        states[new.device_id] = state.encode(new)
        silent.schedule(new.device_id, None if new.fault_open else new.silent_at)

    ledger = Ledger(state_of, keep)  # :mod:`outbox`: sends kept until acknowledged

    # -- the registry ------------------------------------------------------------------

    def register(event: faust.EventT) -> list[Send]:
        record = decode(DeviceRegistered, event.message.value)
        device = record.device
        devices[device.device_id] = event.message.value
        if record.retired:
            silent.schedule(device.device_id, None)
        elif states.get(device.device_id) is None:
            keep(heartbeat.fresh(device, datetime.now(UTC)))
        return []

    @app.agent(registry)
    async def register_devices(stream: faust.StreamT) -> None:
        await run_batches(stream, register)

    # -- readings ----------------------------------------------------------------------

    def judge(event: faust.EventT) -> list[Send]:
        m = event.message
        raw = m.value or b""
        reading = decode(SensorReading, m.value)
        key = reading.device_id.encode()
        moved = m.topic in (rekeyed_name, waiting_name)
        if not moved and (m.key != key or partition_of(key, parts) != m.partition):
            READINGS.labels("rekeyed").inc()
            return [(rekeyed_name, reading.device_id, raw)]
        if room.admits(event, reading.device_id):
            READINGS.labels("waiting_for_device").inc()
            return [(waiting_name, reading.device_id, raw)]
        device = device_of(reading.device_id)
        before = state_of(device.device_id)
        after, outputs = rules.process(before, reading, device, catalogue)
        after = casework.forget_replaced(before, after)
        sends: list[Send] = []
        now = datetime.now(UTC)
        rule = catalogue.type(device.type).rule_for(reading.metric)
        for out in outputs:
            if isinstance(out, Refused):
                REFUSED.labels(out.reason.value).inc()
                sends.append(letter(event, InvalidMessage(f"{out.reason.value}: {out.detail}")))
            elif isinstance(out, Skipped):
                READINGS.labels(f"skipped_{out.reason.value}").inc()
            elif isinstance(out, IncidentOpened) and rule is not None:
                INCIDENTS.labels("opened").inc()
                cond = after.condition(rule.condition)
                cls = alarms.classification(rule, device, taxonomy, version)
                item = alarms.opened(out, rule, device, cond.window, cls, now)
                sends.append((topics.cases_classified, item.source.source_id, encode(item)))
            elif isinstance(out, IncidentRecovered | IncidentRelapsed) and rule is not None:
                INCIDENTS.labels(alarms.signal_kind(out).value).inc()
                signal = Pending(
                    signal=alarms.signal_kind(out).value,
                    number=out.number,
                    observed_at=alarms.signal_at(out),
                    text=alarms.signal_text(out, rule, device),
                )
                cond, ready = casework.hold_or_send(after.condition(rule.condition), signal)
                after = replace(after, conditions={**after.conditions, rule.condition: cond})
                sends += [signal_send(device, rule, cond, p, now) for p in ready]
            elif isinstance(out, DeviceFault | DeviceBack):
                sends.append(notice_send(out, device))
        if not any(isinstance(o, Refused) for o in outputs) or after != before:
            READINGS.labels("judged").inc()
        return ledger.sends(event, before, after, sends)

    def signal_send(
        device: Device, rule: Rule, cond: state.ConditionState, p: Pending, now: datetime
    ) -> Send:
        assert cond.case_id is not None
        source = alarms.signal_source(device, rule, p.number, p.text, p.observed_at, cond.window)
        cls = alarms.classification(rule, device, taxonomy, version)
        command = alarms.signal_command(cond.case_id, SignalKind(p.signal), source, cls, rule, now)
        return topics.cases_commands, command.case_id, encode(command)

    def notice_send(out: DeviceFault | DeviceBack, device: Device) -> Send:
        notice = alarms.notice(out, device, catalogue)
        NOTICES.labels(notice.kind.value).inc()
        return topics.sensor_notices, device.device_id, encode(notice)

    @app.agent(readings)
    async def judge_readings(stream: faust.StreamT) -> None:
        await run_batches(stream, judge)

    @app.agent(rekeyed)
    async def judge_rekeyed(stream: faust.StreamT) -> None:
        await run_batches(stream, judge)

    @app.agent(waiting)
    async def judge_waiting(stream: faust.StreamT) -> None:
        await run_batches(stream, judge, paced=True)

    # -- what the cases say ------------------------------------------------------------

    def follow(event: faust.EventT) -> list[Send]:
        value = event.message.value or b""
        sends: list[Send] = [
            (nudges_name, n.device_id, n.model_dump_json().encode()) for n in links.links_of(value)
        ]
        opening = hotspots.opening_of(value)
        if opening is not None:
            sends.append((places_name, opening.place, opening.model_dump_json().encode()))
        return sends

    @app.agent(events)
    async def follow_cases(stream: faust.StreamT) -> None:
        await run_batches(stream, follow)

    def nudge(event: faust.EventT) -> list[Send]:
        item = Nudge.model_validate_json(event.message.value or b"")
        stored = devices.get(item.device_id)
        if stored is None:
            return []  # a device removed from the registry: nothing to update
        device = registration(stored).device
        before = state_of(item.device_id)
        now = datetime.now(UTC)
        if item.kind == "check":
            after, faults = heartbeat.due(before, item.at or now)
            sends = [notice_send(f, device) for f in faults]
        else:
            assert item.condition is not None
            cond, ready = casework.link(before.condition(item.condition), item)
            after = replace(before, conditions={**before.conditions, item.condition: cond})
            rule = rule_of(catalogue, device, item.condition)
            sends = [signal_send(device, rule, cond, p, now) for p in ready] if rule else []
        return ledger.sends(event, before, after, sends)

    @app.agent(nudges)
    async def apply_nudges(stream: faust.StreamT) -> None:
        await run_batches(stream, nudge)

    # -- hotspots ----------------------------------------------------------------------

    def count(event: faust.EventT) -> list[Send]:
        opening = hotspots.Opening.model_validate_json(event.message.value or b"")
        stored = place_states.get(opening.place)
        before = hotspots.decode(stored) if stored else hotspots.PlaceState()
        after, hot = hotspots.observe(before, opening, settings.sensors_hotspot_count, window)
        if after != before:
            place_states[opening.place] = hotspots.encode(after)
        if hot is None:
            return []
        HOTSPOTS.inc()
        cls = alarms.classification_of(
            opening.category, opening.town, opening.grid, taxonomy, "hotspot-rules"
        )
        item = hotspots.proactive_case(hot, cls, window, datetime.now(UTC))
        log.info("hotspot", extra={"place": hot.place, "count": hot.count})
        return [(topics.cases_classified, item.source.source_id, encode(item))]

    @app.agent(places)
    async def count_places(stream: faust.StreamT) -> None:
        await run_batches(stream, count)

    # -- silent devices ----------------------------------------------------------------

    @states.on_recover
    async def rebuild_silences() -> None:
        due: list[tuple[str, datetime | None]] = []
        for n, (device_id, value) in enumerate(states.items()):
            if value:
                s = state.decode(value)
                due.append((device_id, None if s.fault_open else s.silent_at))
            if n % 500 == 499:
                await asyncio.sleep(0)
        silent.rebuild(due)
        log.info("silence index rebuilt", extra={"devices": len(silent)})

    @app.timer(interval=settings.sensors_heartbeat_scan_s)
    async def look_for_silence() -> None:
        now = datetime.now(UTC)
        for device_id in silent.due(now):
            check = Nudge(kind="check", device_id=device_id, at=now)
            await (await send(nudges_name, device_id, check.model_dump_json().encode()))

    add_service_pages(app, "sensors")

    return app
