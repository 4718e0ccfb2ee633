"""Elasticsearch helpers: the client, index names, and the index templates of the read model.

The read model is four indexes, each behind an alias (``<prefix>-<name>``), so that a replay
can build fresh generations and swap every alias in one step:

- ``cases``: one document per case, without its timeline. Largest: ``MAX_SOURCE_BRIEFS``
  source briefs (each at most 5,000 characters of text), ``MAX_MILESTONES`` milestones of
  about 200 bytes and the router's few suggestions: under 200 KB whatever the case lives
  through, typically 3 KB.
- ``events``: one document per ``CaseEvent``, ``_id`` = ``event_id`` (the timeline, paged by
  id). Largest: one event with its reason, evidence and data, source records replaced by
  their ids: a few KB.
- ``sources``: one document per source record, ``_id`` = ``source_id``: which case holds it
  (about 200 bytes).
- ``commands``: one document per command outcome, ``_id`` = ``{case_id}:{command_id}``
  (the outcome with its reason: at most a few KB).

The intake index (``<prefix>-intake``, no alias: nothing rebuilds it) keeps one document per
accepted report id with the fingerprint of its body, for idempotency across API instances.

Search on the stand-in is linear in index size, get and mget by id are not: every read
path that serves one case, report or command reads by id.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch, BadRequestError, Elasticsearch, NotFoundError

from cityops.settings import CommonSettings

MAX_SOURCE_BRIEFS = 10
MAX_MILESTONES = 40

_ACTOR = {
    "properties": {
        "id": {"type": "keyword"},
        "role": {"type": "keyword"},
        "name": {"type": "keyword", "index": False},
        "department": {"type": "keyword"},
        "town": {"type": "keyword"},
    }
}
_SHOWN: dict[str, Any] = {"type": "object", "enabled": False}  # stored as-is, never searched

CASE_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "case_id": {"type": "keyword"},
        "seq": {"type": "integer"},
        "state": {"type": "keyword"},
        "priority": {"type": "keyword"},
        "priority_rank": {"type": "integer"},
        "category": {"type": "keyword"},
        "category_name": {"type": "keyword"},
        "dimension": {"type": "keyword"},
        "department": {"type": "keyword"},
        "town": {"type": "keyword"},
        "grid": {"type": "keyword"},
        "text": {"type": "text", "analyzer": "cjk"},
        "address": {"type": "text", "analyzer": "cjk"},
        "location": {"type": "geo_point"},
        "source_types": {"type": "keyword"},
        "report_count": {"type": "integer"},
        "auto_dispatched": {"type": "boolean"},
        "confidence": {"type": "float"},
        "model_version": {"type": "keyword"},
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "indexed_at": {"type": "date"},  # when the indexer wrote it: the live feed's cursor
        "stage": {"type": "keyword"},
        "deadline": {"type": "date"},
        "sla_state": {"type": "keyword"},
        "sla_rank": {"type": "integer"},
        "rework_count": {"type": "integer"},
        "returned_count": {"type": "integer"},
        "merged_into": {"type": "keyword"},
        "closed_at": {"type": "date"},
        "closed_on_time": {"type": "boolean"},
        "suggestions": _SHOWN,
        "sources": _SHOWN,
        "milestones": _SHOWN,
    },
}

EVENT_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "event_id": {"type": "keyword"},
        "case_id": {"type": "keyword"},
        "seq": {"type": "integer"},
        "kind": {"type": "keyword"},
        "state": {"type": "keyword"},
        "at": {"type": "date"},
        "actor": _ACTOR,
        "command_id": {"type": "keyword"},
        "reason": {"type": "text", "index": False},
        "evidence": _SHOWN,
        "data": _SHOWN,
    },
}

SOURCE_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "source_id": {"type": "keyword"},
        "case_id": {"type": "keyword"},
        "source_type": {"type": "keyword"},
        "event_id": {"type": "keyword"},
        "at": {"type": "date"},
        "reporter": {"type": "keyword"},  # who reported it (a person's "my reports")
    },
}

COMMAND_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "case_id": {"type": "keyword"},
        "command_id": {"type": "keyword"},
        "command": {"type": "keyword"},
        "status": {"type": "keyword"},
        "reason": {"type": "text", "index": False},
        "first_seq": {"type": "integer"},
        "last_seq": {"type": "integer"},
        "actor": _ACTOR,
        "issued_at": {"type": "date"},
        "decided_at": {"type": "date"},
    },
}

INTAKE_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "report_id": {"type": "keyword"},
        "reporter_id": {"type": "keyword"},
        "idempotency_key": {"type": "keyword"},
        "fingerprint": {"type": "keyword"},
        "received_at": {"type": "date"},
        "text": {"type": "text", "index": False},  # the start of the text, for "my reports"
    },
}


class AliasedIndex:
    """One index of the read model: its alias, template and generations under a prefix."""

    def __init__(self, prefix: str, name: str, mappings: dict[str, Any]) -> None:
        self.prefix, self.name, self.mappings = prefix, name, mappings

    @property
    def alias(self) -> str:
        return f"{self.prefix}-{self.name}"

    @property
    def template(self) -> str:
        return self.alias

    def concrete(self, generation: str = "v1") -> str:
        return f"{self.alias}-{generation}"


class CaseIndex(AliasedIndex):
    """The case documents (the queue and the case heads)."""

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix, "cases", CASE_MAPPINGS)


class ReadModel:
    """The four aliased indexes the indexer writes and the API reads, under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.cases = CaseIndex(prefix)
        self.events = AliasedIndex(prefix, "events", EVENT_MAPPINGS)
        self.sources = AliasedIndex(prefix, "sources", SOURCE_MAPPINGS)
        self.commands = AliasedIndex(prefix, "commands", COMMAND_MAPPINGS)

    def all(self) -> list[AliasedIndex]:
        return [self.cases, self.events, self.sources, self.commands]


def event_id(case_id: str, seq: int) -> str:
    """The id of a case's event, in the events index and on ``cases.events``."""
    return f"{case_id}:{seq}"


def outcome_id(case_id: str, command_id: str) -> str:
    """The id of a command's outcome in the commands index."""
    return f"{case_id}:{command_id}"


def timeline_page_ids(case_id: str, last_seq: int, before_seq: int | None, size: int) -> list[str]:
    """The event ids of one timeline page, oldest first: the ``size`` events before
    ``before_seq`` (the latest ``size`` when it is ``None``) of a case at ``last_seq``."""
    end = last_seq if before_seq is None else min(before_seq - 1, last_seq)
    start = max(end - size + 1, 1)
    return [event_id(case_id, seq) for seq in range(start, end + 1)]


def intake_index(prefix: str) -> str:
    return f"{prefix}-intake"


def _auth(settings: CommonSettings) -> tuple[str, str] | None:
    if settings.es_username and settings.es_password:
        return (settings.es_username, settings.es_password.get_secret_value())
    return None


def make_client(settings: CommonSettings) -> Elasticsearch:
    return Elasticsearch(settings.es_url, basic_auth=_auth(settings), request_timeout=10)


def make_async_client(settings: CommonSettings) -> AsyncElasticsearch:
    return AsyncElasticsearch(settings.es_url, basic_auth=_auth(settings), request_timeout=10)


def put_template(es: Elasticsearch, index: AliasedIndex) -> None:
    es.indices.put_index_template(
        name=index.template,
        index_patterns=[f"{index.alias}-*"],
        template={"settings": {"number_of_shards": 1}, "mappings": index.mappings},
    )


def ensure_index(es: Elasticsearch, index: AliasedIndex) -> str:
    """Install the template and make sure the alias points at an index; return its name."""
    put_template(es, index)
    try:
        current = list(es.indices.get_alias(name=index.alias))
    except NotFoundError:
        current = []
    if current:
        # An index made by an older template gains the fields added since (adding is
        # always allowed); a replay moves it to a generation made by this template.
        es.indices.put_mapping(index=current[0], properties=index.mappings["properties"])
        return current[0]
    name = index.concrete()
    if not es.indices.exists(index=name):
        es.indices.create(index=name)
    es.indices.put_alias(index=name, name=index.alias)
    return name


def ensure_case_index(es: Elasticsearch, index: CaseIndex) -> str:
    """The case index alone (kept for callers that read only the case documents)."""
    return ensure_index(es, index)


def ensure_read_model(es: Elasticsearch, model: ReadModel) -> dict[str, str]:
    """Every index of the read model; returns alias → concrete index name."""
    return {index.alias: ensure_index(es, index) for index in model.all()}


def ensure_intake_index(es: Elasticsearch, prefix: str) -> str:
    name = intake_index(prefix)
    if not es.indices.exists(index=name):
        try:
            es.indices.create(
                index=name,
                settings={"number_of_shards": 1},
                mappings=INTAKE_MAPPINGS,
            )
        except BadRequestError as exc:  # a concurrent creator won the race: that is fine
            if exc.error != "resource_already_exists_exception":
                raise
    else:  # an index made by an older version gains the new fields
        es.indices.put_mapping(index=name, properties=INTAKE_MAPPINGS["properties"])
    return name
