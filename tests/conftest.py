"""Session fixtures: the servers every integration test talks to over TCP.

By default the stand-ins are started once per session (noida-db for Kafka and
Elasticsearch, Tansu as the second Kafka implementation). Point the suite at real
servers instead with:

    CITYOPS_TEST_KAFKA_BOOTSTRAP=host:9092      (replaces noida-db's Kafka)
    CITYOPS_TEST_ES_URL=http://host:9200        (replaces noida-db's Elasticsearch)
    CITYOPS_TEST_KAFKA_BOOTSTRAP_2=host:9092    (replaces Tansu in the contract suite)
    CITYOPS_TEST_KAFKA_IDEMPOTENCE=false        (brokers without idempotent producers)

Every test takes its own topic prefix and index prefix, so tests never share state.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cityops import standins
from cityops.settings import CommonSettings


@dataclass(frozen=True)
class Broker:
    name: str
    bootstrap: str
    idempotence: bool


@dataclass(frozen=True)
class Infra:
    kafka: Broker
    es_url: str

    def settings(self, prefix: str, **extra: object) -> dict[str, object]:
        return {
            "kafka_bootstrap": self.kafka.bootstrap,
            "kafka_idempotence": self.kafka.idempotence,
            "es_url": self.es_url,
            "topic_prefix": f"{prefix}.",
            "index_prefix": prefix,
            **extra,
        }


def start_infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    """The configured servers, or a noida-db of its own on free ports."""
    kafka = os.environ.get("CITYOPS_TEST_KAFKA_BOOTSTRAP")
    es = os.environ.get("CITYOPS_TEST_ES_URL")
    idempotence = os.environ.get("CITYOPS_TEST_KAFKA_IDEMPOTENCE", "true") == "true"
    server = None
    if not (kafka and es):
        kafka_port, es_port = standins.free_port(), standins.free_port()
        server = standins.noida(tmp_path_factory.mktemp("noida"), kafka_port, es_port)
        server.start()
        kafka = kafka or f"127.0.0.1:{kafka_port}"
        es = es or f"http://127.0.0.1:{es_port}"
    try:
        yield Infra(Broker("primary", kafka, idempotence), es)
    finally:
        if server is not None:
            server.stop()


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    yield from start_infra(tmp_path_factory)


@pytest.fixture(scope="session")
def second_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A second, independent Kafka implementation (Tansu unless configured)."""
    given = os.environ.get("CITYOPS_TEST_KAFKA_BOOTSTRAP_2")
    if given:
        yield Broker("secondary", given, idempotence=False)
        return
    port = standins.free_port()
    server = standins.tansu(port, tmp_path_factory.mktemp("tansu"))
    server.start()
    try:
        # aiokafka's idempotent producer does not work on Tansu (docs/architecture.md).
        yield Broker("tansu", f"127.0.0.1:{port}", idempotence=False)
    finally:
        server.stop()


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(infra: Infra, prefix: str) -> CommonSettings:
    return CommonSettings(**infra.settings(prefix))  # type: ignore[arg-type]


DATA = Path(__file__).parent / "data"
