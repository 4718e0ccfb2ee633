"""`cityops router corrections` reads dispatcher corrections from real Kafka."""

from __future__ import annotations

import asyncio
import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cityops import taxonomy
from cityops.contracts.events import DispatchCase
from cityops.kafka import encode, ensure_topics, make_producer
from cityops.settings import CommonSettings
from services.dispatch.case_ids import open_command
from services.dispatch.workflow import decide
from tests.dispatch.builders import cmd
from tests.dispatch.test_workflow import classified

pytestmark = pytest.mark.integration


async def publish(settings: CommonSettings, events: list) -> None:  # type: ignore[type-arg]
    producer = make_producer(settings)
    await producer.start()
    try:
        for e in events:
            await producer.send_and_wait(
                settings.topics.cases_events, encode(e), key=e.case_id.encode()
            )
        await producer.send_and_wait(settings.topics.cases_events, b"garbage", key=b"x")
    finally:
        await producer.stop()


def test_corrections_are_exported_from_the_event_log(
    settings: CommonSettings, tmp_path: Path
) -> None:
    tax = taxonomy.load()
    ensure_topics(settings, settings.topics.all())
    d = decide(None, open_command(classified(abstained=True, source_id="x1")), tax)
    assert d.case is not None
    d2 = decide(
        d.case, cmd(d.case.case_id, DispatchCase(department="water", category="C0103")), tax
    )
    asyncio.run(publish(settings, d.events + d2.events))
    out = tmp_path / "corrections.csv"
    env = {
        **os.environ,
        "CITYOPS_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CITYOPS_TOPIC_PREFIX": settings.topic_prefix,
    }
    done = subprocess.run(
        [sys.executable, "-m", "cityctl", "router", "corrections", "--out", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["label"], r["router_category"], r["case_id"]) for r in rows] == [
        ("C0103", "C0102", d.case.case_id)
    ]
    assert rows[0]["text"] == classified(abstained=True, source_id="x1").source.text
