"""The faust app: thin agents around the pure workflow.

- ``route_candidates``: each classified source goes to ``cases.candidates``, keyed by town,
  so that all sources of one town meet in one place for duplicate detection.
- ``merge_or_open``: owns the ``open_by_town`` table; joins a source to a matching open
  case (:mod:`dedup`) or opens a new one, by sending an ``open`` command.
- ``apply_commands``: owns the ``cases`` table (one writer per case: commands are keyed by
  case id and the table is co-partitioned with them), runs :func:`workflow.decide`, appends
  the events to ``cases.events`` and sends follow-ups to other cases.
- a timer raises deadline warnings and breaches for the cases this worker owns.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from cityops.contracts import CaseClassified, CaseCommand
from cityops.errors import InvalidMessage
from cityops.kafka import dead_letter, decode, encode
from cityops.taxonomy import Taxonomy
from services.dispatch import dedup, escalation, workflow
from services.dispatch.case_ids import open_command
from services.dispatch.notifier import Notifier
from services.dispatch.settings import DispatchSettings
from services.dispatch.states import CaseRecord

log = logging.getLogger(__name__)

EVENTS = Counter("cityops_case_events_total", "Case events emitted", ["kind"])
REJECTED = Counter("cityops_case_commands_rejected_total", "Commands rejected", ["command"])
MERGED = Counter("cityops_sources_merged_total", "Sources joined to an existing case")
OUTSIDE = "outside"


def faust_options(settings: DispatchSettings) -> dict[str, Any]:
    options: dict[str, Any] = {
        "broker": f"kafka://{settings.kafka_bootstrap}",
        "store": "memory://",
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": settings.topic_replication,
        "broker_session_timeout": settings.kafka_session_timeout_ms / 1000,
        "broker_heartbeat_interval": settings.kafka_heartbeat_interval_ms / 1000,
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

    def raw_topic(name: str, **kw: Any) -> faust.TopicT:
        return app.topic(name, key_serializer="raw", value_serializer="raw", **kw)

    classified = raw_topic(topics.cases_classified)
    candidates = raw_topic(
        topics.name("cases.candidates"), internal=True, partitions=settings.topic_partitions
    )
    commands = raw_topic(topics.cases_commands)
    events = raw_topic(topics.cases_events)
    dead_letters = raw_topic(topics.dead_letter("dispatch"))
    cases = app.Table("cases", default=None, partitions=settings.topic_partitions)
    open_by_town = app.Table("open_by_town", default=None, partitions=settings.topic_partitions)
    notifier = Notifier(settings.supervisor_webhook_url)

    async def guarded(event: faust.EventT, step: Callable[[bytes], Awaitable[None]]) -> None:
        """Run one step; a bad record is dead-lettered and the stream goes on."""
        try:
            await step(event.value)
            return
        except InvalidMessage as exc:
            error = exc
        except Exception as exc:  # process boundary: a bug must not stop the stream
            log.exception("step failed")
            error = InvalidMessage(f"internal error {type(exc).__name__}: {exc}")
        m = event.message
        letter = dead_letter("dispatch", (m.topic, m.partition, m.offset), m.key, m.value, error)
        log.warning("record dead-lettered", extra={"topic": m.topic, "reason": letter.reason})
        await dead_letters.send(key=m.key, value=encode(letter))

    async def send_command(command: CaseCommand) -> None:
        await commands.send(key=command.case_id.encode(), value=encode(command))

    @app.agent(classified)
    async def route_candidates(stream: faust.StreamT) -> None:
        async def step(raw: bytes) -> None:
            item = decode(CaseClassified, raw)
            town = item.classification.town or OUTSIDE
            await candidates.send(key=town.encode(), value=raw)

        async for event in stream.events():
            await guarded(event, step)

    @app.agent(candidates)
    async def merge_or_open(stream: faust.StreamT) -> None:
        async def step(raw: bytes) -> None:
            item = decode(CaseClassified, raw)
            town = item.classification.town or OUTSIDE
            refs = [dedup.OpenCaseRef.model_validate(r) for r in open_by_town.get(town) or []]
            match = dedup.find_match(item.source, item.classification, refs, taxonomy)
            if match is None:
                command = open_command(item)
                refs.append(dedup.OpenCaseRef.of(command.case_id, item.source, item.classification))
            else:
                command = open_command(item, match.case_id)
                if item.source.source_id not in match.source_ids:
                    MERGED.inc()
                    refs = [r.with_source(item.source.source_id) if r is match else r for r in refs]
            refs = dedup.prune(refs, item.source.occurred_at)
            open_by_town[town] = [r.model_dump(mode="json") for r in refs]
            await send_command(command)

        async for event in stream.events():
            await guarded(event, step)

    @app.agent(commands)
    async def apply_commands(stream: faust.StreamT) -> None:
        async for event in stream.events():
            await guarded(event, lambda raw: apply(decode(CaseCommand, raw)))

    async def apply(command: CaseCommand) -> None:
        stored = cases.get(command.case_id)
        case = CaseRecord.model_validate(stored) if stored else None
        decision = workflow.decide(case, command, taxonomy)
        for followup in decision.followups:
            await send_command(followup)
        if decision.case is None:
            raise InvalidMessage(f"command {command.command_id} rejected: {decision.rejected}")
        if not decision.events and decision.case is case:
            return
        cases[command.case_id] = decision.case.model_dump(mode="json")
        for ev in decision.events:
            await events.send(key=ev.case_id.encode(), value=encode(ev))
            EVENTS.labels(ev.kind.value).inc()
        for breach in decision.notify:
            notifier.breach(breach)
        if decision.rejected:
            REJECTED.labels(command.body.kind.value).inc()
        log.info(
            "case updated",
            extra={
                "case_id": command.case_id,
                "command": command.body.kind.value,
                "events": [e.kind.value for e in decision.events],
                "rejected": decision.rejected,
            },
        )

    @app.timer(interval=settings.sla_scan_interval_s)
    async def scan_deadlines() -> None:
        now = datetime.now(UTC)
        for case_id, stored in list(cases.items()):
            if not stored:
                continue
            case = CaseRecord.model_validate(stored)
            alert = escalation.due_alert(case, now, settings.sla_warn_share, taxonomy)
            if alert is not None:
                await send_command(escalation.alert_command(case, alert, now))
                log.info("deadline alert", extra={"case_id": case_id, "level": alert.level})

    @app.page("/healthz")
    async def health(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        ok = app.consumer is not None and not app.should_stop
        return web.json(
            {"status": "ok" if ok else "degraded", "service": "dispatch"}, status=200 if ok else 503
        )

    @app.page("/metrics")
    async def metrics(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
        return web.bytes(generate_latest(), content_type=CONTENT_TYPE_LATEST)

    return app
