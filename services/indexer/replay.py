"""``cityops replay``: rebuild the read model from ``cases.events`` and ``cases.outcomes``.

Reads both topics from the beginning to the end offsets taken at start (kafka-python: a
command-line tool), plans every write with the live indexer's planner
(``services/indexer/batch.py``) into a new generation of each of the four indexes (cases,
events, sources, commands), and swaps the four aliases to them in one step. The live
indexer keeps writing through the aliases; its writes are idempotent and versioned like
the replay's, so whatever it writes after the swap lands consistently on the new
generation. Events it wrote between the end offsets taken here and the swap reach the new
generation only with the case's next event (the case document) or a later replay (the
events); run replay when the indexer is quiet, or run it twice.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime

from elasticsearch import Elasticsearch

from cityops.contracts import CaseEvent, CommandOutcome
from cityops.kafka import read_to_end
from cityops.search import ReadModel, ensure_read_model
from cityops.settings import CommonSettings
from services.indexer.batch import Item, Targets, Write, operations, plan
from services.indexer.document import Doc, fold_all
from services.indexer.writer import refused, stamp

log = logging.getLogger(__name__)
CHUNK = 1000  # writes per bulk request


def read_events(settings: CommonSettings, progress: Callable[[str], None]) -> Iterator[CaseEvent]:
    yield from read_to_end(settings, settings.topics.cases_events, CaseEvent, progress)


def read_outcomes(
    settings: CommonSettings, progress: Callable[[str], None]
) -> Iterator[CommandOutcome]:
    yield from read_to_end(settings, settings.topics.cases_outcomes, CommandOutcome, progress)


def build_documents(events: Iterable[CaseEvent]) -> dict[str, Doc]:
    """The case documents of a whole log (what the cases index holds after it)."""
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


def write_all(es: Elasticsearch, writes: Sequence[Write]) -> int:
    """Send ``writes`` in chunks; returns how many writes Elasticsearch refused (logged)."""
    failed = 0
    for start in range(0, len(writes), CHUNK):
        chunk = writes[start : start + CHUNK]
        answer = es.bulk(operations=operations(chunk))
        for reason in set(refused(chunk, answer["items"]).values()):
            failed += 1
            log.warning("replay write refused", extra={"reason": reason})
    return failed


def replay(
    settings: CommonSettings,
    es: Elasticsearch,
    progress: Callable[[str], None],
    swap: bool = True,
) -> tuple[str, int]:
    """Build ``<prefix>-<index>-r<timestamp>`` for each index of the read model from the log;
    return the name of the new case index and the number of cases in it."""
    model = ReadModel(settings.index_prefix)
    ensure_read_model(es, model)
    generation = f"r{time.strftime('%Y%m%d%H%M%S')}"
    fresh = Targets(*(index.concrete(generation) for index in model.all()))
    for name in fresh:
        es.indices.create(index=name)
    items: list[Item] = [*read_events(settings, progress), *read_outcomes(settings, progress)]
    writes = plan(items, {}, fresh)
    stamp(writes, fresh.cases, datetime.now(UTC))  # as the live indexer does (indexed_at)
    cases = sum(1 for w in writes if w.meta["_index"] == fresh.cases)
    failed = write_all(es, writes)
    es.indices.refresh(index=",".join(fresh))
    progress(f"indexed {cases} cases ({len(writes)} documents, {failed} refused) into {generation}")
    if swap:
        swap_aliases(es, model, fresh, progress)
    return fresh.cases, cases


def swap_aliases(
    es: Elasticsearch, model: ReadModel, fresh: Targets, progress: Callable[[str], None]
) -> None:
    actions: list[dict[str, dict[str, str]]] = []
    for index, name in zip(model.all(), fresh, strict=True):
        old = list(es.indices.get_alias(name=index.alias))
        actions += [{"remove": {"index": o, "alias": index.alias}} for o in old]
        actions.append({"add": {"index": name, "alias": index.alias}})
        progress(f"alias {index.alias} now points to {name} (was {', '.join(old) or 'none'})")
    es.indices.update_aliases(actions=actions)
