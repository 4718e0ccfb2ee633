"""Fault drill on the dispatch worker: no transition lost or doubled when it dies between
the table write and the sends, 1,000 commands through ten crashes; a replay of the event
log gives the read model of every case as the workflow left it."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from cityops.contracts import (
    CaseCommand,
    CaseEvent,
    CommandOutcome,
    EventKind,
    OutcomeStatus,
    Role,
)
from cityops.contracts.common import Actor
from cityops.contracts.events import AcceptCase
from cityops.kafka import encode, make_producer
from cityops.provision import provision
from cityops.search import make_client
from cityops.settings import CommonSettings
from services.dispatch.case_ids import case_id_for
from services.indexer.replay import replay
from tests.conftest import Infra
from tests.e2e.drill import Supervised, classified, dispatch_env, read_all, spread, wait_for
from tests.e2e.test_pipeline import snapshot

pytestmark = pytest.mark.e2e


async def produce(settings: CommonSettings, topic: str, records: list[tuple[str, bytes]]) -> None:
    producer = make_producer(settings)
    await producer.start()
    try:
        futures = [await producer.send(topic, v, key=k.encode()) for k, v in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def accept(case_id: str, department: str, i: int) -> CaseCommand:
    return CaseCommand(
        command_id=f"drill-accept-{i}",
        case_id=case_id,
        actor=Actor(id=f"{department}-1", role=Role.DEPARTMENT, department=department),
        issued_at=classified("x", 30.9, 121.9, "x").classified_at,
        body=AcceptCase(),
    )


async def test_no_transition_lost_or_doubled_when_the_worker_dies_after_the_table_write(
    infra: Infra, prefix: str, tmp_path: Path
) -> None:
    settings = CommonSettings(**infra.settings(prefix))  # type: ignore[arg-type]
    provision(settings)
    n = 500  # 500 reports open 500 cases, then 500 department commands: 1,000 commands
    items = [
        classified(f"r{i}", lat, lon, f"第{i}号井盖破损，编号{i * 7919 % 10007}")
        for i, (lat, lon) in enumerate(spread(n))
    ]
    worker = Supervised(
        "dispatch",
        dispatch_env(
            infra, prefix, tmp_path / "dispatch", CITYOPS_DISPATCH_CRASH_AFTER_TABLE_WRITE="97"
        ),
        tmp_path / "dispatch.log",
    )
    worker.start()
    try:
        await produce(
            settings,
            settings.topics.cases_classified,
            [(c.source.source_id, encode(c)) for c in items],
        )
        case_ids = [case_id_for(c.source.source_id) for c in items]

        async def all_opened() -> bool:
            events = await read_all(settings, settings.topics.cases_events, CaseEvent)
            return len({e.case_id for e in events if e.kind is EventKind.DISPATCHED}) >= n

        try:
            await wait_for(all_opened, timeout=400, interval=3)
        except AssertionError:
            pytest.fail(f"cases not opened after {worker.restarts} restarts\n{worker.log()}")
        dept = items[0].classification.department
        commands = [accept(cid, dept, i) for i, cid in enumerate(case_ids)]
        await produce(
            settings, settings.topics.cases_commands, [(c.case_id, encode(c)) for c in commands]
        )

        async def all_answered() -> bool:
            outs = await read_all(settings, settings.topics.cases_outcomes, CommandOutcome)
            return len({o.command_id for o in outs}) >= n

        try:
            await wait_for(all_answered, timeout=400, interval=3)
        except AssertionError:
            pytest.fail(f"commands unanswered after {worker.restarts} restarts\n{worker.log()}")
        assert worker.restarts >= 5, "the drill did not crash the worker"
    finally:
        worker.stop()

    events = await read_all(settings, settings.topics.cases_events, CaseEvent)
    copies = Counter(e.event_id for e in events)
    assert max(copies.values()) == 1, [k for k, v in copies.items() if v > 1][:5]
    by_case: dict[str, list[CaseEvent]] = defaultdict(list)
    for e in events:
        by_case[e.case_id].append(e)
    assert set(by_case) == set(case_ids)
    for case_id, evs in by_case.items():
        kinds = [e.kind for e in sorted(evs, key=lambda e: e.seq)]
        assert [e.seq for e in evs] == list(range(1, len(evs) + 1)), case_id
        assert kinds == [
            EventKind.OPENED,
            EventKind.REGISTERED,
            EventKind.DISPATCHED,
            EventKind.ACCEPTED,
        ], (case_id, kinds)
    outs = await read_all(settings, settings.topics.cases_outcomes, CommandOutcome)
    assert Counter(o.command_id for o in outs) == Counter(c.command_id for c in commands)
    assert {o.status for o in outs} == {OutcomeStatus.APPLIED}

    # the read model rebuilt from this log holds every case as the workflow left it
    es = make_client(settings)
    try:
        rebuilt, count = replay(settings, es, lambda m: None, swap=False)
        docs = snapshot(es, rebuilt)
        assert count == n and len(docs) == n
        assert {(d["state"], d["seq"], d["report_count"]) for d in docs.values()} == {
            ("in_progress", 4, 1)
        }
    finally:
        es.close()
