"""Counting open cases in the read model's case index, for the overview."""

from __future__ import annotations

from typing import Any, get_args

from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsTimeout
from elasticsearch import NotFoundError

from cityops.errors import DependencyUnavailable
from cityops.taxonomy import Dimension
from services.api.cases.service import UNAVAILABLE, CaseService
from services.api.overview import counts
from services.api.overview.models import (
    ClassCountPublic,
    DimensionCountPublic,
    OpenCountsPublic,
)

DIMENSIONS: tuple[str, ...] = get_args(Dimension)


class OverviewService:
    """One aggregation over the case index the queue reads; no case document is fetched."""

    def __init__(self, cases: CaseService) -> None:
        self.cases = cases

    async def open_counts(self, worst: int) -> OpenCountsPublic:
        try:
            found = await self.cases.es.search(
                index=self.cases.model.cases.alias,
                size=0,
                track_total_hits=True,
                **counts.open_counts_query(),
            )
        except NotFoundError:
            return self.present(0, {}, worst)
        except (EsConnectionError, EsTimeout) as exc:  # a timeout is no ConnectionError
            raise DependencyUnavailable(UNAVAILABLE) from exc
        return self.present(found["hits"]["total"]["value"], found.get("aggregations") or {}, worst)

    def present(self, total: int, aggs: dict[str, Any], worst: int) -> OpenCountsPublic:
        dims = counts.by_dimension(aggs)
        return OpenCountsPublic(
            total=total,
            grids=counts.by_grid(aggs),
            dimensions=[self.dimension(d, *dims.get(d, (0, [])), worst) for d in DIMENSIONS],
        )

    def dimension(
        self, dimension: str, open_: int, classes: list[counts.ClassCount], worst: int
    ) -> DimensionCountPublic:
        return DimensionCountPublic(
            dimension=dimension,
            open=open_,
            worst_classes=[
                ClassCountPublic(
                    category=c.category,
                    category_name=self.name(c.category),
                    open=c.open,
                    breached=c.breached,
                )
                for c in counts.worst(classes, worst)
            ],
        )

    def name(self, category: str) -> str | None:
        if not self.cases.taxonomy.has_leaf(category):
            return None
        return self.cases.taxonomy.leaf(category).name
