"""Daily figures written to ``<prefix>-stats`` for the boards (Grafana reads that index).

One document per (day, grouping, key), with the id ``{day}:{group_by}:{key}``, so
publishing a day again overwrites its documents: ``cityops stats publish`` can run as
often as wanted (hourly keeps today current and settles yesterday).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch, NotFoundError
from elasticsearch.helpers import bulk

from cityops.figures import SHANGHAI, GroupBy
from services.api.stats.service import (
    MAX_CASES,
    SOURCE_FIELDS,
    GroupNames,
    StatsPublic,
    figures,
    read_documents,
    window_query,
)

# "day" is no grouping for a document that is already one day's figures.
PUBLISHED: tuple[GroupBy, ...] = ("none", "department", "town", "dimension")
NO_KEY = "_none"  # id part for the group of cases without a value for the field
RATES = ("close_rate", "on_time_rate", "rework_rate", "return_rate", "auto_dispatch_share")
STATS_MAPPINGS: dict[str, Any] = {
    "properties": {
        "day": {"type": "date", "format": "yyyy-MM-dd"},
        "group_by": {"type": "keyword"},
        "key": {"type": "keyword"},
        "key_name": {"type": "keyword"},
        "window": {"properties": {"from": {"type": "date"}, "to": {"type": "date"}}},
        # Rates may be null on the first document; name their type instead of guessing.
        **{rate: {"type": "float"} for rate in RATES},
    },
}


@dataclass(frozen=True)
class DailyFigures:
    """The figures of one Asia/Shanghai day (today: so far) under one grouping."""

    day: date
    stats: StatsPublic


def stats_index(index_prefix: str) -> str:
    return f"{index_prefix}-stats"


def doc_id(day: date, group_by: GroupBy, key: str | None) -> str:
    return f"{day.isoformat()}:{group_by}:{key if key is not None else NO_KEY}"


def documents(daily: Iterable[DailyFigures]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(id, document)`` for every group of every day. Pure."""
    for item in daily:
        window = item.stats.window.model_dump(mode="json", by_alias=True)
        for group in item.stats.groups:
            body = {
                "day": item.day.isoformat(),
                "group_by": item.stats.group_by,
                "window": window,
                **group.model_dump(mode="json"),
            }
            yield doc_id(item.day, item.stats.group_by, group.key), body


def publish_daily(es: Elasticsearch, index_prefix: str, figures: Iterable[DailyFigures]) -> int:
    """Write (or overwrite) the documents of ``figures``; return how many were written."""
    index = stats_index(index_prefix)
    ensure_stats_index(es, index)
    actions = (
        {"_op_type": "index", "_index": index, "_id": id_, "_source": body}
        for id_, body in documents(figures)
    )
    written, _ = bulk(es, actions)  # raises BulkIndexError on any failed document
    return written


def ensure_stats_index(es: Elasticsearch, index: str) -> None:
    if es.indices.exists(index=index):
        return
    try:
        es.indices.create(index=index, mappings=STATS_MAPPINGS)
    except BadRequestError as exc:  # another publisher created it in between
        if exc.error != "resource_already_exists_exception":
            raise


def day_window(day: date, now: datetime) -> tuple[datetime, datetime]:
    """The day's Asia/Shanghai midnight to the next, cut at ``now`` for today."""
    start = datetime.combine(day, time(0), SHANGHAI)
    return start, min(start + timedelta(days=1), now)


def recent_days(now: datetime, days: int) -> list[date]:
    """The last ``days`` Asia/Shanghai days up to and including today, oldest first."""
    today = now.astimezone(SHANGHAI).date()
    return [today - timedelta(days=n) for n in range(days - 1, -1, -1)]


def compute_day(
    es: Elasticsearch, alias: str, day: date, now: datetime, names: GroupNames
) -> list[DailyFigures]:
    """Read the cases of one day from the read model and compute every published grouping."""
    start, end = day_window(day, now)
    try:
        found = es.search(
            index=alias,
            query=window_query(start, end),
            size=MAX_CASES,
            track_total_hits=True,
            source_includes=SOURCE_FIELDS,
        )
        docs = read_documents(found.body)
    except NotFoundError:
        docs = []
    return [DailyFigures(day, figures(docs, start, end, g, names)) for g in PUBLISHED]


def publish_recent(
    es: Elasticsearch, index_prefix: str, alias: str, names: GroupNames, days: int, now: datetime
) -> int:
    """Compute and publish the last ``days`` days, one day at a time; return documents written."""
    written = 0
    for day in recent_days(now, days):
        start, end = day_window(day, now)
        if start < end:
            written += publish_daily(es, index_prefix, compute_day(es, alias, day, now, names))
    return written
