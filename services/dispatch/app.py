"""The faust app: two thin agents around the pure workflow.

``open_cases`` turns each classified source into an ``open`` command keyed by case id;
``apply_commands`` owns the ``cases`` table (one writer per case, since commands are keyed
by case id and the table is co-partitioned with them), runs :func:`workflow.decide`, and
appends the resulting events to ``cases.events``.
"""

from __future__ import annotations

import logging
from typing import Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

from cityops.contracts import CaseClassified, CaseCommand
from cityops.errors import InvalidMessage
from cityops.kafka import dead_letter, decode, encode
from cityops.taxonomy import Taxonomy
from services.dispatch import workflow
from services.dispatch.case_ids import open_command
from services.dispatch.settings import DispatchSettings
from services.dispatch.states import CaseRecord

log = logging.getLogger(__name__)

EVENTS = Counter("cityops_case_events_total", "Case events emitted", ["kind"])
REJECTED = Counter("cityops_case_commands_rejected_total", "Commands rejected", ["command"])


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
    }
    if settings.dispatch_producer_max_batch_size:
        options["producer_max_batch_size"] = settings.dispatch_producer_max_batch_size
    return options


def create_app(settings: DispatchSettings, taxonomy: Taxonomy) -> faust.App:
    topics = settings.topics
    app = faust.App(f"{settings.topic_prefix}cityops-dispatch", **faust_options(settings))

    def raw_topic(name: str) -> faust.TopicT:
        return app.topic(name, key_serializer="raw", value_serializer="raw")

    classified = raw_topic(topics.cases_classified)
    commands = raw_topic(topics.cases_commands)
    events = raw_topic(topics.cases_events)
    dead_letters = raw_topic(topics.dead_letter("dispatch"))
    cases = app.Table("cases", default=None, partitions=settings.topic_partitions)

    async def reject(event: faust.EventT, error: InvalidMessage) -> None:
        """Dead-letter one record; the agent moves on to the next."""
        m = event.message
        letter = dead_letter("dispatch", (m.topic, m.partition, m.offset), m.key, m.value, error)
        log.warning("record dead-lettered", extra={"topic": m.topic, "reason": letter.reason})
        await dead_letters.send(key=m.key, value=encode(letter))

    @app.agent(classified)
    async def open_cases(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                command = open_command(decode(CaseClassified, event.value))
                await commands.send(key=command.case_id.encode(), value=encode(command))
            except InvalidMessage as exc:
                await reject(event, exc)
            except Exception as exc:  # process boundary: a bug must not stop the stream
                log.exception("open failed")
                await reject(event, InvalidMessage(f"internal error {type(exc).__name__}: {exc}"))

    @app.agent(commands)
    async def apply_commands(stream: faust.StreamT) -> None:
        async for event in stream.events():
            try:
                await apply(decode(CaseCommand, event.value))
            except InvalidMessage as exc:
                await reject(event, exc)
            except Exception as exc:  # process boundary: a bug must not stop the stream
                log.exception("command failed")
                await reject(event, InvalidMessage(f"internal error {type(exc).__name__}: {exc}"))

    async def apply(command: CaseCommand) -> None:
        stored = cases.get(command.case_id)
        case = CaseRecord.model_validate(stored) if stored else None
        decision = workflow.decide(case, command, taxonomy)
        if decision.case is None:
            raise InvalidMessage(f"command {command.command_id} rejected: {decision.rejected}")
        if not decision.events:
            return
        cases[command.case_id] = decision.case.model_dump(mode="json")
        for ev in decision.events:
            await events.send(key=ev.case_id.encode(), value=encode(ev))
            EVENTS.labels(ev.kind.value).inc()
        if decision.rejected:
            REJECTED.labels(command.body.kind.value).inc()
        log.info(
            "case updated",
            extra={
                "case_id": command.case_id,
                "command": command.body.kind.value,
                "events": [e.kind.value for e in decision.events],
                "source_ids": decision.case.source_ids[-1:],
            },
        )

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
