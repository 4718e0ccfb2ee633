"""Reading hotspot cases from the read model's case index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsTimeout
from elasticsearch import NotFoundError

from cityops.contracts import SourceType
from cityops.contracts.states import label
from cityops.errors import DependencyUnavailable
from services.api.cases.service import UNAVAILABLE, CaseService
from services.api.hotspots.models import HotspotList, HotspotPublic
from services.api.hotspots.place import count_of, place_of
from services.api.hotspots.query import FIELDS, SORT, hotspot_query


class HotspotService:
    """Searches the case index the queue reads (hotspots are few: one per place and window)."""

    def __init__(self, cases: CaseService) -> None:
        self.cases = cases

    async def find(self, closed_since: datetime | None, size: int) -> HotspotList:
        try:
            found = await self.cases.es.search(
                index=self.cases.model.cases.alias,
                query=hotspot_query(closed_since),
                sort=SORT,
                size=size,
                track_total_hits=True,
                source_includes=FIELDS,
            )
        except NotFoundError:
            return HotspotList(items=[], total=0)
        except (EsConnectionError, EsTimeout) as exc:  # a timeout is no ConnectionError
            raise DependencyUnavailable(UNAVAILABLE) from exc
        items = [self.public(hit["_source"]) for hit in found["hits"]["hits"]]
        return HotspotList(items=items, total=found["hits"]["total"]["value"])

    def public(self, doc: dict[str, Any]) -> HotspotPublic:
        return hotspot_of(doc, self.cases.places.town_name(doc.get("town")))


def hotspot_of(doc: dict[str, Any], town_name: str | None) -> HotspotPublic:
    """A hotspot case as the boards show it: its place and count, read from its proactive
    source (the case's own text when the source is no longer among its briefs)."""
    proactive = [
        s for s in doc.get("sources") or [] if s.get("source_type") == SourceType.PROACTIVE
    ]
    source = proactive[0] if proactive else {}
    place = place_of(source.get("source_id") or "")
    count = count_of(source.get("text") or doc.get("text") or "")
    return HotspotPublic(
        case_id=doc["case_id"],
        state=doc["state"],
        state_label=label(doc["state"]),
        category=doc.get("category"),
        category_name=doc.get("category_name"),
        town=doc.get("town"),
        town_name=town_name,
        grid=doc.get("grid"),
        place_kind=place.kind if place else None,
        place_id=place.id if place else None,
        place=count.label if count else doc.get("address"),
        count=count.count if count else None,
        window=count.window if count else None,
        text=source.get("text") or doc.get("text"),
        location=doc.get("location"),
        report_count=doc.get("report_count") or 0,
        created_at=doc["created_at"],
        closed_at=doc.get("closed_at"),
    )
