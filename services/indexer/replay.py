"""``cityops replay``: rebuild the case read model from ``cases.events``.

Reads the whole topic from the beginning to the end offsets taken at start (kafka-python:
a command-line tool), folds every case with the live indexer's fold, writes a new index
generation, and swaps the alias to it in one step. The live indexer keeps writing through
the alias, and its external-version writes keep it consistent with the replayed index.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterator

from elasticsearch import Elasticsearch
from elasticsearch.helpers import bulk

from cityops.contracts import CaseEvent
from cityops.kafka import read_to_end
from cityops.search import CaseIndex, ensure_case_index
from cityops.settings import CommonSettings
from services.indexer.document import Doc, fold_all

log = logging.getLogger(__name__)


def read_events(settings: CommonSettings, progress: Callable[[str], None]) -> Iterator[CaseEvent]:
    yield from read_to_end(settings, settings.topics.cases_events, CaseEvent, progress)


def build_documents(events: Iterator[CaseEvent]) -> dict[str, Doc]:
    by_case: dict[str, list[CaseEvent]] = defaultdict(list)
    for event in events:
        by_case[event.case_id].append(event)
    docs = {}
    for case_id, case_events in by_case.items():
        unique = {e.seq: e for e in case_events}  # re-emitted events carry the same seq
        doc = fold_all(None, list(unique.values()))
        if doc is not None:
            docs[case_id] = doc
    return docs


def replay(
    settings: CommonSettings,
    es: Elasticsearch,
    progress: Callable[[str], None],
    swap: bool = True,
) -> tuple[str, int]:
    """Build ``<prefix>-cases-r<timestamp>`` from the log; return its name and size."""
    index = CaseIndex(settings.index_prefix)
    ensure_case_index(es, index)
    name = index.concrete(f"r{time.strftime('%Y%m%d%H%M%S')}")
    es.indices.create(index=name)
    docs = build_documents(read_events(settings, progress))
    actions = (
        {
            "_index": name,
            "_id": cid,
            "_version": d["seq"],
            "_version_type": "external",
            "_source": d,
        }
        for cid, d in docs.items()
    )
    bulk(es, actions, chunk_size=500)
    es.indices.refresh(index=name)
    progress(f"indexed {len(docs)} cases into {name}")
    if swap:
        old = list(es.indices.get_alias(name=index.alias))
        es.indices.update_aliases(
            actions=[
                *({"remove": {"index": o, "alias": index.alias}} for o in old),
                {"add": {"index": name, "alias": index.alias}},
            ]
        )
        progress(f"alias {index.alias} now points to {name} (was {', '.join(old) or 'none'})")
    return name, len(docs)
