"""Elasticsearch helpers: the client, index names, and the case index template.

The case read model lives in an index behind an alias (``<prefix>-cases``), so that a
replay can build a fresh index and swap the alias in one step.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import AsyncElasticsearch, Elasticsearch, NotFoundError

from cityops.settings import CommonSettings

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
        "source_ids": {"type": "keyword"},
        "source_types": {"type": "keyword"},
        "report_count": {"type": "integer"},
        "auto_dispatched": {"type": "boolean"},
        "confidence": {"type": "float"},
        "model_version": {"type": "keyword"},
        "created_at": {"type": "date"},
        "updated_at": {"type": "date"},
        "stage": {"type": "keyword"},
        "deadline": {"type": "date"},
        "sla_state": {"type": "keyword"},
        "sla_rank": {"type": "integer"},
        "rework_count": {"type": "integer"},
        "returned_count": {"type": "integer"},
        "merged_into": {"type": "keyword"},
        "closed_at": {"type": "date"},
        "closed_on_time": {"type": "boolean"},
        # Shown, never searched: stored as-is to keep the mapping small and strict.
        "suggestions": {"type": "object", "enabled": False},
        "sources": {"type": "object", "enabled": False},
        "timeline": {"type": "object", "enabled": False},
    },
}


class CaseIndex:
    """Names of the case read-model index and its alias under one prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @property
    def alias(self) -> str:
        return f"{self.prefix}-cases"

    @property
    def template(self) -> str:
        return f"{self.prefix}-cases"

    def concrete(self, generation: str = "v1") -> str:
        return f"{self.prefix}-cases-{generation}"


def _auth(settings: CommonSettings) -> tuple[str, str] | None:
    if settings.es_username and settings.es_password:
        return (settings.es_username, settings.es_password.get_secret_value())
    return None


def make_client(settings: CommonSettings) -> Elasticsearch:
    return Elasticsearch(settings.es_url, basic_auth=_auth(settings), request_timeout=10)


def make_async_client(settings: CommonSettings) -> AsyncElasticsearch:
    return AsyncElasticsearch(settings.es_url, basic_auth=_auth(settings), request_timeout=10)


def ensure_case_index(es: Elasticsearch, index: CaseIndex) -> str:
    """Install the template and make sure the alias points at an index; return its name."""
    es.indices.put_index_template(
        name=index.template,
        index_patterns=[f"{index.alias}-*"],
        template={"settings": {"number_of_shards": 1}, "mappings": CASE_MAPPINGS},
    )
    try:
        current = list(es.indices.get_alias(name=index.alias))
    except NotFoundError:
        current = []
    if current:
        return current[0]
    name = index.concrete()
    if not es.indices.exists(index=name):
        es.indices.create(index=name)
    es.indices.put_alias(index=name, name=index.alias)
    return name
