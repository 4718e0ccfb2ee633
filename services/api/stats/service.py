"""Case-performance figures for a window, computed from the case read model.

The figures themselves are defined and computed in ``cityops/figures.py``; this module
chooses which case documents to read, reads them, and names the groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import ConnectionTimeout as EsTimeout
from pydantic import BaseModel, Field

from cityops import figures as case_figures
from cityops.contracts.states import TERMINAL
from cityops.errors import DependencyUnavailable
from cityops.figures import RATES, SHANGHAI, GroupBy
from cityops.jurisdiction import Jurisdictions
from cityops.taxonomy import Taxonomy

# The figures are computed in this process from one search page of case documents, so a
# window may touch at most 10,000 cases (Elasticsearch's default max_result_window). A
# window touching more is refused, never answered from a partial read; paging with
# search_after, or aggregating in Elasticsearch, is the way past it.
MAX_CASES = 10_000
MAX_WINDOW = timedelta(days=366)
# ``milestones``: the bounded digest of the timeline the figures read (services/indexer).
SOURCE_FIELDS = ["case_id", "department", "town", "dimension", "created_at", "milestones"]
UNKNOWN = "未知"


class StageTimePublic(BaseModel):
    count: int
    mean_h: float | None
    median_h: float | None


class GroupPublic(BaseModel):
    key: str | None
    key_name: str
    cases: int
    registered: int
    closed: int
    closed_on_time: int
    open_overdue: int
    due: int
    close_rate: float | None
    on_time_rate: float | None
    reworked: int
    verified_or_reworked: int
    rework_rate: float | None
    dispatched: int
    returned: int
    return_rate: float | None
    auto_dispatched: int
    auto_dispatch_share: float | None
    stage_hours: dict[str, StageTimePublic]
    states: dict[str, int]


class WindowPublic(BaseModel):
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")


class RatePublic(BaseModel):
    """How a rate of every group is computed: ``numerator`` / ``denominator`` (both counts of
    the group), so a screen can say 结案率 = 结案数 / 应结案数 rather than leave it to guess."""

    name: str
    numerator: str
    numerator_name: str
    denominator: str
    denominator_name: str


RATES_PUBLIC = {key: RatePublic(**asdict(rate)) for key, rate in RATES.items()}


class StatsPublic(BaseModel):
    window: WindowPublic
    group_by: GroupBy
    groups: list[GroupPublic]
    rates: dict[str, RatePublic] = Field(default_factory=lambda: dict(RATES_PUBLIC))


def as_aware(value: datetime) -> datetime:
    """A time without an offset is read as Asia/Shanghai, like the boards that ask."""
    return value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)


def check_window(start: datetime, end: datetime) -> None:
    if start >= end:
        raise ValueError("时间窗口无效：from 必须早于 to")
    if end - start > MAX_WINDOW:
        raise ValueError(f"时间窗口过长：最多 {MAX_WINDOW.days} 天，请缩短 from 与 to 的间隔")


def window_query(start: datetime, end: datetime) -> dict[str, Any]:
    """Every case that can count in ``[start, end)``, and a few more (metrics filters them).

    A case counts if it was created before ``end`` and was not yet closed, invalid or
    merged at ``start``: it is either still open, or it became terminal at or after
    ``start``, and then its ``closed_at`` or its last event (``updated_at``) is too. This
    is "not closed, or closed after ``from``", widened to every terminal state.
    """
    return {
        "bool": {
            "filter": [{"range": {"created_at": {"lt": end.isoformat()}}}],
            "should": [
                {"bool": {"must_not": {"terms": {"state": sorted(s.value for s in TERMINAL)}}}},
                {"range": {"closed_at": {"gte": start.isoformat()}}},
                {"range": {"updated_at": {"gte": start.isoformat()}}},
            ],
            "minimum_should_match": 1,
        }
    }


def read_documents(found: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The case documents of a search answer; refuses an answer that did not hold them all."""
    total = found["hits"]["total"]
    if total["value"] > MAX_CASES or total.get("relation") == "gte":
        raise ValueError(f"时间窗口内案件超过 {MAX_CASES} 件，请缩短时间窗口或按更小的范围统计")
    return [hit["_source"] for hit in found["hits"]["hits"]]


class GroupNames:
    """Chinese names of group keys: departments from the taxonomy, towns from jurisdictions."""

    def __init__(self, taxonomy: Taxonomy, places: Jurisdictions) -> None:
        self.taxonomy, self.places = taxonomy, places

    def name(self, group_by: GroupBy, key: str | None) -> str:
        if key is None:
            return UNKNOWN
        if group_by == "none":
            return "全部"
        if group_by == "department":
            try:
                return self.taxonomy.department(key).name
            except KeyError:
                return key
        if group_by == "town":
            return self.places.town_name(key) or key
        return key

    def present(self, groups: list[case_figures.Group], group_by: GroupBy) -> list[GroupPublic]:
        return [
            GroupPublic(key=g.key, key_name=self.name(group_by, g.key), **asdict(g.figures))
            for g in groups
        ]


def with_timeline(doc: dict[str, Any]) -> dict[str, Any]:
    """The case document as ``case_figures.from_document`` reads it: its milestones are the
    timeline entries the figures need (documents of older generations hold a timeline)."""
    return {**doc, "timeline": doc.get("milestones") or doc.get("timeline") or []}


def figures(
    docs: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    group_by: GroupBy,
    names: GroupNames,
) -> StatsPublic:
    cases = [case_figures.from_document(with_timeline(doc)) for doc in docs]
    groups = case_figures.compute(cases, start, end, group_by)
    return StatsPublic(
        window=WindowPublic.model_validate({"from": start, "to": end}),
        group_by=group_by,
        groups=names.present(groups, group_by),
    )


class StatsService:
    def __init__(
        self, es: AsyncElasticsearch, index: str, taxonomy: Taxonomy, places: Jurisdictions
    ) -> None:
        self.es, self.index = es, index
        self.names = GroupNames(taxonomy, places)

    async def figures(self, start: datetime, end: datetime, group_by: GroupBy) -> StatsPublic:
        """Raises ``ValueError``, with a reason people can act on, for a window it cannot answer
        (see ``MAX_CASES``). Check the window with :func:`check_window` first."""
        start, end = as_aware(start), as_aware(end)
        check_window(start, end)
        return figures(await self._documents(start, end), start, end, group_by, self.names)

    async def _documents(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        try:
            found = await self.es.search(
                index=self.index,
                query=window_query(start, end),
                size=MAX_CASES,
                track_total_hits=True,
                source_includes=SOURCE_FIELDS,
            )
        except NotFoundError:
            return []
        except (EsConnectionError, EsTimeout) as exc:  # a timeout is no ConnectionError
            raise DependencyUnavailable("案件检索服务暂不可用") from exc
        return read_documents(found.body)
