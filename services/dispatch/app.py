"""The faust app: thin agents around the pure workflow.

- ``route_candidates``: each classified source goes to ``cases.candidates``, keyed by the
  H3 cell it lies in (:mod:`candidates`), so the sources and candidate cases of one place
  meet on one partition.
- ``merge_or_open``: owns the ``candidate_buckets`` table (:class:`candidates.Shelf`, keyed
  by (cell, class)); joins a source to a matching open case (:mod:`dedup`) or opens a new
  one, by sending an ``open`` command; applies the candidate index updates the command
  agent sends. Both take their records in batches, one broker round trip per batch.
- ``apply_commands``: owns the ``cases`` table (one writer per case: commands are keyed by
  case id and the table is co-partitioned with them), runs :func:`workflow.decide`,
  appends the events to ``cases.events``, answers the sender on ``cases.outcomes``, keeps
  the candidate index in step with the case, and sends follow-ups to other cases.
- a timer raises deadline warnings and breaches for the cases due (:mod:`deadlines`).

No transition lost: a step writes the case's new state *with its outgoing records* (the
case's ``outbox``), sends them, waits for the broker's acknowledgement, and clears the
outbox; the record's offset is committed only after the step. A worker that dies after
the write finds the outbox on the redelivered record (or on the case's next command) and
sends it before anything else. A Kafka error exits the process (the supervisor restarts
it) rather than dead-lettering a record that did nothing wrong. Faust's own
``exactly_once`` mode was tried and rejected (docs/architecture.md, "Delivery").
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import faust
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge, Histogram

from cityops.contracts import CaseClassified, CaseCommand, SourceType
from cityops.contracts.events import SlaAlert
from cityops.errors import InvalidMessage
from cityops.kafka import DEAD_LETTERS, dead_letter, decode, encode
from cityops.tables import add_service_pages
from cityops.taxonomy import Taxonomy
from services.dispatch import candidates, dedup, escalation, gauges, outcomes, workflow
from services.dispatch.batch import Batch, as_current
from services.dispatch.candidates import CandidateRef, CandidateUpdate, UpdateKind
from services.dispatch.case_ids import open_command
from services.dispatch.deadlines import DeadlineIndex
from services.dispatch.decision import Decision
from services.dispatch.notifier import Notifier
from services.dispatch.settings import DispatchSettings
from services.dispatch.states import CaseRecord, Outgoing
from services.dispatch.tables import TableStore, raw_table

log = logging.getLogger(__name__)

EVENTS = Counter("cityops_case_events_total", "Case events emitted", ["kind"])
REJECTED = Counter("cityops_case_commands_rejected_total", "Commands rejected", ["command"])
MERGED = Counter("cityops_sources_merged_total", "Sources joined to an existing case")
COMMANDS = Counter(
    "cityops_commands_total", "Commands decided, by kind and result", ["command", "result"]
)
CASES_OPEN = Gauge("cityops_cases_open", "Open cases by state among this worker's cases", ["state"])
DEADLINE_ALERTS = Counter(
    "cityops_deadline_alerts_total", "Deadline warnings and breaches raised", ["level"]
)
REPORT_TO_CASE = Histogram(
    "cityops_report_to_case_seconds",
    "From a source's receipt to the case event that opened or joined it",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0),
)
for _level in ("warning", "breach"):
    DEADLINE_ALERTS.labels(_level)  # both series exist from the start: rates need no gap
T = TypeVar("T")
EXIT_RETRY = 75  # EX_TEMPFAIL: the supervisor restarts the worker


class FaultDrill:
    """Fault drills only (``CITYOPS_DISPATCH_CRASH_AFTER_TABLE_WRITE``): die right after
    every Nth table write, before the step's sends, as a SIGKILL would."""

    def __init__(self, every: int | None) -> None:
        self.every, self.writes = every, 0

    def after_table_write(self, case_id: str) -> None:
        if not self.every:
            return
        self.writes += 1
        if self.writes % self.every == 0:
            log.warning("fault drill: exiting after the table write", extra={"case_id": case_id})
            os._exit(70)


def faust_options(settings: DispatchSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "broker": f"kafka://{settings.kafka_bootstrap}",
        "store": "rocksdb://" if settings.dispatch_store == "rocksdb" else "memory://",
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": settings.topic_replication,
        "broker_session_timeout": settings.kafka_session_timeout_ms / 1000,
        "broker_heartbeat_interval": settings.kafka_heartbeat_interval_ms / 1000,
        "broker_commit_interval": settings.dispatch_commit_interval_s,
        "consumer_auto_offset_reset": "earliest",
        "producer_acks": -1,
        "processing_guarantee": "at_least_once",
        "web_port": settings.dispatch_web_port,
        "web_bind": settings.health_host,
        "web_host": settings.health_host,
        "datadir": settings.dispatch_data_dir,
        "worker_redirect_stdouts": False,
        "consumer_group_instance_id": f"dispatch@{settings.instance_id}",
    }
    if settings.dispatch_producer_max_batch_size:
        options["producer_max_batch_size"] = settings.dispatch_producer_max_batch_size
    return options


def create_app(settings: DispatchSettings, taxonomy: Taxonomy) -> faust.App:
    topics = settings.topics
    app = faust.App(f"{settings.topic_prefix}cityops-dispatch", **faust_options(settings))

    async def send(topic: str, key: str, value: bytes) -> Awaitable[Any]:
        """Send; returns the broker's acknowledgement to await (sends of a step batch)."""
        return await app.producer.send(topic, key.encode(), value, None, None, None)

    def raw_topic(name: str, **kw: Any) -> faust.TopicT:
        return app.topic(name, key_serializer="raw", value_serializer="raw", **kw)

    classified = raw_topic(topics.cases_classified)
    places_name = topics.name("cases.candidates")
    places = raw_topic(places_name, internal=True, partitions=settings.topic_partitions)
    commands = raw_topic(topics.cases_commands)
    # values are UTF-8 JSON bytes (faust's own JSON escapes each Chinese character to six)
    cases = raw_table(app, "cases", settings.topic_partitions)
    index = raw_table(app, "candidate_buckets", settings.topic_partitions)
    shelf = candidates.Shelf(TableStore(index))
    geo = candidates.Places(taxonomy)
    deadlines = DeadlineIndex()
    notifier = Notifier(settings.supervisor_webhook_url)
    drill = FaultDrill(settings.dispatch_crash_after_table_write)
    open_cases = gauges.OpenCases()
    DEAD_LETTERS.labels("dispatch")  # the series exists at zero before the first letter

    def publish_open_cases() -> None:
        for state, n in open_cases.counts.items():
            CASES_OPEN.labels(state).set(n)

    publish_open_cases()

    async def run_batches(
        stream: faust.StreamT, step: Callable[[bytes], list[tuple[str, str, bytes]]]
    ) -> None:
        """Run ``step`` on each record of a batch, in order, then send what the steps
        returned and await every acknowledgement at once: one round trip per batch.

        A bad record is dead-lettered and the batch goes on. A Kafka error is not the
        record's fault: the process exits at once, before the batch's offsets are
        committed, and the supervisor restarts it; the batch is processed again (its steps
        are idempotent: a case id is derived from its first source)."""
        batches = stream.take_events(settings.dispatch_batch_size, within=0.005)  # type: ignore[attr-defined]  # Stream has it, StreamT does not declare it
        async for events in batches:
            acks: list[Awaitable[Any]] = []
            try:
                for event in events:
                    as_current(event)  # table writes go to this record's partition
                    out = await guarded(event, lambda e: step(e.value))
                    acks += [await send(topic, key, value) for topic, key, value in out or []]
                await bounded(durable())
                await bounded(asyncio.gather(*acks))
            except (KafkaError, TimeoutError):
                log.exception("kafka did not acknowledge: exiting so the batch is retried whole")
                os._exit(EXIT_RETRY)

    def route(raw: bytes) -> list[tuple[str, str, bytes]]:
        item = decode(CaseClassified, raw)
        cell = geo.cell_of(item.source.location, item.classification.category)
        update = CandidateUpdate(
            kind=UpdateKind.MATCH, cell=cell, at=item.classified_at, classified=item
        )
        return [(places_name, cell, encode(update))]

    @app.agent(classified)
    async def route_candidates(stream: faust.StreamT) -> None:
        await run_batches(stream, route)

    def match(update: CandidateUpdate) -> CaseCommand:
        item = update.classified
        assert item is not None
        source, cl = item.source, item.classification
        if source.source_type is SourceType.PROACTIVE:
            return open_command(item)  # a hotspot stands apart: it joins no incident's case
        found = candidates.read_keys(shelf, geo, update.cell, cl.category, source.occurred_at)
        best = dedup.find_match(source, cl, (f.ref for f in found), taxonomy)
        if best is None:
            command = open_command(item)
            shelf.add(
                candidates.key(update.cell, cl.category),
                CandidateRef.of(command.case_id, source, cl),
            )
            return command
        ref = best.with_source(source.source_id)
        if ref is not best:
            shelf.replace(next(f for f in found if f.ref is best), ref)
            MERGED.inc()
        return open_command(item, best.case_id)

    def place(raw: bytes) -> list[tuple[str, str, bytes]]:
        update = decode(CandidateUpdate, raw)
        if update.kind is UpdateKind.MATCH:
            command = match(update)
            return [(topics.cases_commands, command.case_id, encode(command))]
        if update.kind is UpdateKind.UPSERT and update.ref is not None:
            shelf.add(candidates.key(update.cell, update.ref.category), update.ref)
        elif update.kind is UpdateKind.WITHDRAW and update.case_id and update.category:
            shelf.remove(candidates.key(update.cell, update.category), update.case_id)
        else:
            raise InvalidMessage(f"candidate update {update.kind.value} lacks its fields")
        return []

    @app.agent(places)
    async def merge_or_open(stream: faust.StreamT) -> None:
        await run_batches(stream, place)

    @app.agent(commands)
    async def apply_commands(stream: faust.StreamT) -> None:
        batches = stream.take_events(settings.dispatch_batch_size, within=0.005)  # type: ignore[attr-defined]  # Stream has it, StreamT does not declare it
        async for events in batches:
            await apply_batch(events)

    async def deliver(sends: list[Outgoing]) -> None:
        acks = [await send(o.topic, o.key, o.value.encode()) for o in sends]
        await asyncio.gather(*acks)

    async def durable() -> None:
        """Wait until every table write so far is acknowledged by the broker: a restored
        table then never holds an older value of a step whose sends went out."""
        while app.producer.buffer.size:  # faust buffers changelog records; drain it
            await app.producer.buffer.flush()
        await app.producer.flush()

    async def apply_batch(events: Sequence[faust.EventT]) -> None:
        """Decide a batch of commands, then make it durable and deliver it in three round
        trips, whatever its size: (1) every changed case written with its outbox, (2) the
        outboxes sent and acknowledged, (3) the cases written with empty outboxes."""
        batch = Batch()
        for event in events:
            as_current(event)
            await guarded(event, lambda e: decide_one(batch, e, decode(CaseCommand, e.value)))
        try:
            for case_id, case in batch.changed.items():
                as_current(batch.event_of[case_id])
                case.outbox = batch.sends[case_id]
                cases[case_id] = case.model_dump_json().encode()
                drill.after_table_write(case_id)
            await bounded(durable())
            await bounded(deliver([o for out in batch.sends.values() for o in out] + batch.loose))
            for case_id, case in batch.changed.items():
                as_current(batch.event_of[case_id])
                case.outbox = []
                cases[case_id] = case.model_dump_json().encode()
            await bounded(durable())
        except (KafkaError, TimeoutError):
            log.exception("kafka did not acknowledge: exiting so the batch is retried whole")
            os._exit(EXIT_RETRY)

    async def bounded(step: Awaitable[Any]) -> None:
        """A broker that never acknowledges must not hang the worker: past the limit the
        process exits, the supervisor restarts it, and the outboxes finish the batch."""
        await asyncio.wait_for(step, timeout=settings.dispatch_ack_timeout_s)

    def decide_one(batch: Batch, event: faust.EventT, command: CaseCommand) -> None:
        case = batch.case(command.case_id, cases)
        if case is not None and case.outbox:  # a step that died before its sends were acked
            log.warning("re-sending an unfinished step", extra={"case_id": case.case_id})
            batch.add_sends(case.case_id, case.outbox)
            case.outbox = []
            batch.changed[case.case_id] = case
        before = (case.status.value, command.command_id in case.applied) if case else None
        decision = workflow.decide(case, command, taxonomy)
        after = decision.case
        sends = outgoing(case, command, decision)
        if after is not None and after is not case:
            after.next_check = escalation.next_check(after, settings.sla_warn_share, taxonomy)
            batch.changed[command.case_id] = after
            batch.add_sends(command.case_id, sends)
            batch.event_of[command.case_id] = event
        elif after is not None and case is not None and case.case_id in batch.changed:
            batch.add_sends(command.case_id, sends)
        else:
            batch.loose += sends  # an outcome for no case, or a redelivery's: idempotent
        if after is not None:
            batch.event_of.setdefault(command.case_id, event)
        observe(command, case, decision)
        count(command, before, decision)

    def count(command: CaseCommand, before: tuple[str, bool] | None, decision: Decision) -> None:
        """The command's figures; ``before``: the case's state and whether it had applied
        the command already, before the decision (None: no such case)."""
        kind = command.body.kind
        result = gauges.command_result(bool(before and before[1]), decision)
        COMMANDS.labels(kind.value, result.value).inc()
        after = decision.case.status.value if decision.case is not None else None
        open_cases.move(before[0] if before else None, after)
        publish_open_cases()
        if decision.rejected or not decision.events:
            return
        if isinstance(command.body, SlaAlert):
            DEADLINE_ALERTS.labels(command.body.level).inc()
        waited = gauges.report_to_case_s(command, decision, datetime.now(UTC))
        if waited is not None:
            REPORT_TO_CASE.observe(waited)

    def observe(command: CaseCommand, case: CaseRecord | None, decision: Decision) -> None:
        for ev in decision.events:
            EVENTS.labels(ev.kind.value).inc()
        deadlines.schedule(
            command.case_id,
            escalation.scheduled_check(decision.case or case, settings.sla_warn_share, taxonomy),
        )
        for breach in decision.notify:
            notifier.breach(breach)
        if decision.rejected:
            REJECTED.labels(command.body.kind.value).inc()
        log.info(
            "case updated" if decision.case is not None else "command for an unknown case",
            extra={
                "case_id": command.case_id,
                "command": command.body.kind.value,
                "events": [e.kind.value for e in decision.events],
                "rejected": decision.rejected,
            },
        )

    async def guarded(event: faust.EventT, step: Callable[[faust.EventT], T]) -> T | None:
        """``step(event)``, or None when the record is bad: it is dead-lettered with the
        reason and the stream goes on."""
        try:
            return step(event)
        except InvalidMessage as exc:
            await reject(event, exc)
        except Exception as exc:  # process boundary: a bug must not stop the stream
            log.exception("step failed")
            await reject(event, InvalidMessage(f"internal error {type(exc).__name__}: {exc}"))
        return None

    async def reject(event: faust.EventT, error: InvalidMessage) -> None:
        m = event.message
        letter = dead_letter("dispatch", (m.topic, m.partition, m.offset), m.key, m.value, error)
        log.warning("record dead-lettered", extra={"topic": m.topic, "reason": letter.reason})
        key = (m.key or b"").decode(errors="replace")
        await (await send(topics.dead_letter("dispatch"), key, encode(letter)))
        DEAD_LETTERS.labels("dispatch").inc()

    def outgoing(
        case: CaseRecord | None, command: CaseCommand, decision: workflow.Decision
    ) -> list[Outgoing]:
        answer = outcomes.outcome(case, command, decision, datetime.now(UTC))
        out = [Outgoing.of(topics.cases_commands, f.case_id, f) for f in decision.followups]
        out += [Outgoing.of(topics.cases_events, e.case_id, e) for e in decision.events]
        if answer is not None:
            out.append(Outgoing.of(topics.cases_outcomes, command.case_id, answer))
        moves = candidates.changes(
            candidates.ref_of_case(case),
            candidates.ref_of_case(decision.case),
            command.issued_at,
            geo,
        )
        return out + [Outgoing.of(places_name, u.cell, u) for u in moves]

    @cases.on_recover
    async def rebuild_deadlines() -> None:
        """After recovery or a rebalance: the index covers exactly the cases owned now.

        It reads every case the worker owns, so it yields to the event loop as it goes:
        the consumer's heartbeats must go on while 100,000 cases are read."""
        due: list[tuple[str, datetime | None]] = []
        states: list[str | None] = []
        for n, (case_id, v) in enumerate(cases.items()):
            if v:
                due.append(
                    (case_id, escalation.stored_next_check(v, settings.sla_warn_share, taxonomy))
                )
                states.append(gauges.stored_state(v))
            if n % 500 == 499:
                await asyncio.sleep(0)
        deadlines.rebuild(due)
        open_cases.rebuild(states)
        publish_open_cases()
        log.info("deadline index rebuilt", extra={"cases_scheduled": len(deadlines)})

    @app.timer(interval=settings.sla_scan_interval_s)
    async def scan_deadlines() -> None:
        now = datetime.now(UTC)
        for case_id in deadlines.due(now):
            stored = cases.get(case_id)
            if not stored:
                continue  # no longer ours (rebalanced away) or gone
            case = CaseRecord.model_validate_json(stored)
            alert = escalation.due_alert(case, now, settings.sla_warn_share, taxonomy)
            if alert is None:
                deadlines.schedule(
                    case_id, escalation.next_check(case, settings.sla_warn_share, taxonomy)
                )
                continue
            command = escalation.alert_command(case, alert, now)
            await (await send(topics.cases_commands, command.case_id, encode(command)))
            log.info("deadline alert", extra={"case_id": case_id, "level": alert.level})

    add_service_pages(app, "dispatch")

    return app
