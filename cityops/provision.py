"""``cityops init``: create the topics and the search indexes, waiting for the servers."""

from __future__ import annotations

import logging
import time

from elasticsearch import ConnectionError as EsConnectionError
from kafka.errors import KafkaError

from cityops.kafka import ensure_topics
from cityops.search import ReadModel, ensure_intake_index, ensure_read_model, make_client
from cityops.settings import CommonSettings

log = logging.getLogger(__name__)


def provision(settings: CommonSettings, wait_s: float = 60.0) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            created = ensure_topics(settings, settings.topics.all())
            es = make_client(settings)
            try:
                indexes = ensure_read_model(es, ReadModel(settings.index_prefix))
                indexes["intake"] = ensure_intake_index(es, settings.index_prefix)
            finally:
                es.close()
            log.info("provisioned", extra={"topics_created": created, "indexes": indexes})
            return
        except (KafkaError, EsConnectionError) as exc:
            if time.monotonic() > deadline:
                raise
            log.info("waiting for servers", extra={"error": str(exc)})
            time.sleep(2)
