"""``cityops grafana``: the managers' and operators' Grafana boards, written as code.

``build`` writes ``deploy/grafana/dashboards/*.json`` (provisioned by compose from files);
``sync`` pushes the same dashboards to a running Grafana with ``grafana-client``.

Data sources (provisioned in ``deploy/grafana/provisioning/datasources/``, see
docs/boards.md for the reasons):

- ``prometheus``: the pipeline (services' ``/metrics`` and the rules in deploy/prometheus);
- ``cityops-stats``: the daily figures ``cityops stats publish`` writes to
  ``<prefix>-stats``, computed by :mod:`cityops.figures` (every rate on a board is read as
  published, never recomputed by Grafana: one definition);
- ``cityops-cases``: the case read model ``<prefix>-cases`` (what is open now, where);
- ``cityops-events``: the case timeline ``<prefix>-events`` (dispatchers' corrections).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import bargauge, dashboard, geomap, stat, table, timeseries
from grafana_foundation_sdk.builders import elasticsearch as es
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.builders.common import FrameGeometrySource, MapLayerOptions
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import FrameGeometrySourceMode
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    DataTransformerConfig,
    GridPos,
    VariableOption,
)
from grafana_foundation_sdk.models.elasticsearch import TermsOrder

from cityops import jurisdiction, taxonomy
from cityops.figures import RATES, STAGE_NAMES

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS_DIR = ROOT / "deploy" / "grafana" / "dashboards"
GRID_WIDTH = 24
FOLDER = "CityOps"

PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
CASES = DataSourceRef(type_val="elasticsearch", uid="cityops-cases")
STATS = DataSourceRef(type_val="elasticsearch", uid="cityops-stats")
EVENTS = DataSourceRef(type_val="elasticsearch", uid="cityops-events")
# The time field each Elasticsearch data source filters the dashboard's range on.
TIME_FIELDS = {"cityops-cases": "created_at", "cityops-stats": "day", "cityops-events": "at"}
OPEN = "NOT state:(closed OR invalid OR merged)"
TODAY = "now/d"  # a panel's relative time: today so far (the dashboard's timezone)
DIMENSIONS = ("净", "畅", "宁", "和", "美")


@dataclass
class Grid:
    """Places panels left to right, a new row when the 24 columns are full."""

    x: int = 0
    y: int = 0
    row_h: int = 0
    panels: list[Any] = field(default_factory=list)

    def add(self, panel: Any, w: int, h: int) -> None:
        if self.x + w > GRID_WIDTH:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        self.panels.append(panel.grid_pos(GridPos(h=h, w=w, x=self.x, y=self.y)))
        self.x, self.row_h = self.x + w, max(self.row_h, h)


def promql(expr: str, legend: str, ref: str = "A") -> prom.Dataquery:
    return prom.Dataquery().expr(expr).legend_format(legend).ref_id(ref)


def terms(field_name: str, size: int = 20, order_by: str = "_count") -> es.Terms:
    settings = es.ElasticsearchTermsSettings().size(str(size)).min_doc_count("1")
    order = TermsOrder.ASC if order_by == "_key" else TermsOrder.DESC
    return es.Terms().id("2").field(field_name).settings(settings.order(order).order_by(order_by))


def daily(field_name: str) -> es.DateHistogram:
    """One bucket per day: a published document is one day's figures, so an average of a
    rate over one bucket is that day's rate as :mod:`cityops.figures` computed it."""
    settings = es.ElasticsearchDateHistogramSettings().interval("1d").min_doc_count("0")
    return es.DateHistogram().id("3").field(field_name).settings(settings)


def esq(
    ds: DataSourceRef,
    query: str,
    metrics: Sequence[Any],
    buckets: Sequence[Any] = (),
    ref: str = "A",
    alias: str = "",
) -> es.Dataquery:
    q = (
        es.Dataquery()
        .ref_id(ref)
        .datasource(ds)
        .query(query)
        .time_field(TIME_FIELDS[str(ds.uid)])
        .metrics(list(metrics))
        .bucket_aggs(list(buckets))
    )
    return q.alias(alias) if alias else q


def count() -> es.Count:
    return es.Count().id("1")


def avg(field_name: str, id_: str = "1") -> es.Average:
    return es.Average().id(id_).field(field_name)


def total(field_name: str, id_: str = "1") -> es.Sum:
    return es.Sum().id(id_).field(field_name)


def rate_title(name: str) -> str:
    rate = RATES[name]
    return f"{rate.name}（{rate.numerator_name} / {rate.denominator_name}）"


def rate_description(name: str) -> str:
    rate = RATES[name]
    return (
        f"{rate.name} = {rate.numerator_name} / {rate.denominator_name}，"
        "按日计算（cityops/figures.py），由 cityops stats publish 写入 <prefix>-stats。"
    )


def stats_query(group_by: str, extra: str = "") -> str:
    return f"group_by:{group_by}" + (f" AND {extra}" if extra else "")


def percent(panel: Any) -> Any:
    return panel.unit("percentunit").min(0).max(1)


def custom_variable(name: str, label: str, pairs: Iterable[tuple[str, str]]) -> Any:
    values = ", ".join(f"{text} : {value}" for text, value in pairs)
    return (
        dashboard.CustomVariable(name)
        .label(label)
        .values(values)
        .multi(True)
        .include_all(True)
        .all_value("*")
        .current(VariableOption(selected=True, text="All", value="$__all"))
    )


def board(uid: str, title: str, description: str, grid: Grid, variables: Sequence[Any] = ()) -> Any:
    built = (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["cityops"])
        .timezone("Asia/Shanghai")
        .time("now-30d", "now")
        .refresh("1m")
        .readonly()
        .variables(list(variables))
    )
    for index, panel in enumerate(grid.panels, start=1):
        built = built.with_panel(panel.id(index))
    return built


def city_board() -> Any:
    """净畅宁和美: per dimension, today and the trend; the towns; a map of open cases."""
    g = Grid()
    town = "town:$town"
    by_dimension = terms("dimension", 5, "_key")
    g.add(
        stat.Panel()
        .title("在办案件（按维度）")
        .description("未结案（不含作废、合并）的案件数，按净畅宁和美维度。")
        .datasource(CASES)
        .with_target(esq(CASES, f"{town} AND {OPEN}", [count()], [by_dimension]))
        .time_from("365d"),
        12,
        5,
    )
    g.add(
        stat.Panel()
        .title("今日新增（按维度）")
        .datasource(CASES)
        .with_target(esq(CASES, town, [count()], [by_dimension]))
        .time_from(TODAY),
        12,
        5,
    )
    by_key = terms("key_name", 10, "_key")
    g.add(
        stat.Panel()
        .title("今日结案数（按维度）")
        .description("结案数：今日有结案事件的案件（cityops/figures.py）。")
        .datasource(STATS)
        .with_target(esq(STATS, stats_query("dimension"), [total("closed")], [by_key]))
        .time_from(TODAY),
        12,
        5,
    )
    g.add(
        percent(
            stat.Panel()
            .title("今日" + rate_title("on_time_rate"))
            .description(rate_description("on_time_rate"))
            .datasource(STATS)
            .with_target(esq(STATS, stats_query("dimension"), [avg("on_time_rate")], [by_key]))
            .time_from(TODAY)
        ),
        12,
        5,
    )
    g.add(
        percent(
            timeseries.Panel()
            .title(rate_title("on_time_rate") + "趋势（按维度）")
            .description(rate_description("on_time_rate"))
            .datasource(STATS)
            .with_target(
                esq(
                    STATS,
                    stats_query("dimension"),
                    [avg("on_time_rate")],
                    [by_key, daily("day")],
                    alias="{{term key_name}}",
                )
            )
        ),
        14,
        9,
    )
    g.add(
        table.Panel()
        .title("超期在办最多的类别")
        .description("超期（sla_state=breached）未结案件最多的十个类别。")
        .datasource(CASES)
        .with_target(
            esq(
                CASES,
                f"{town} AND {OPEN} AND sla_state:breached",
                [count()],
                [terms("category_name", 10)],
            )
        )
        .time_from("365d"),
        10,
        9,
    )
    g.add(
        table.Panel()
        .title("各镇今日：立案数、结案数、应结案数、结案率、按期结案率")
        .description(
            "立案数、结案数、应结案数（结案数 + 超期未结数）；"
            + rate_description("close_rate")
            + rate_description("on_time_rate")
        )
        .datasource(STATS)
        .with_target(
            esq(
                STATS,
                stats_query("town"),
                [
                    total("registered", "1"),
                    total("closed", "4"),
                    total("due", "5"),
                    avg("close_rate", "6"),
                    avg("on_time_rate", "7"),
                ],
                [terms("key_name", 50, "_key")],
            )
        )
        .time_from(TODAY),
        24,
        8,
    )
    g.add(case_map(town), 24, 12)
    towns = sorted(jurisdiction.load().towns.values(), key=lambda t: t.code)
    return board(
        "cityops-city",
        "净畅宁和美 城市体征",
        "临港新片区：净、畅、宁、和、美五个维度的在办、新增、结案与按期结案率，各镇对比，在办案件与热点地图。",
        g,
        [custom_variable("town", "镇", ((t.name, t.code) for t in towns))],
    )


def case_map(town: str) -> Any:
    def layer(name: str, ref: str, color: str) -> Any:
        location = (
            FrameGeometrySource()
            .mode(FrameGeometrySourceMode.COORDS)
            .latitude("location.lat")
            .longitude("location.lon")
        )
        config = {"style": {"color": {"fixed": color}, "size": {"fixed": 5}}, "showLegend": True}
        return (
            MapLayerOptions()
            .type("markers")
            .name(name)
            .location(location)
            .config(config)
            .filter_data({"id": "byRefId", "options": ref})
            .tooltip(True)
        )

    raw = es.RawData().id("1").settings(es.ElasticsearchRawDataSettings().size("500"))
    return (
        geomap.Panel()
        .title("在办案件与热点")
        .description(
            "蓝点：在办案件（最近500件）；红点：热点（传感器服务在同一处反复发现问题而主动立案）。"
        )
        .datasource(CASES)
        .with_target(esq(CASES, f"{town} AND {OPEN}", [raw], ref="A"))
        .with_target(esq(CASES, f"{town} AND source_types:proactive", [raw], ref="B"))
        .time_from("365d")
        .view(geomap.MapViewConfig().id("coords").lat(30.9).lon(121.9).zoom(11))  # type: ignore[arg-type]  # lat/lon typed int
        .layers([layer("在办案件", "A", "blue"), layer("热点", "B", "red")])
    )


def operations_board() -> Any:
    """Per department: load, 按期结案率, 退单率, 返工率, time per stage, routing corrections."""
    g = Grid()
    dept = "key:$department"
    by_dept = terms("key_name", 30, "_key")
    g.add(
        bargauge.Panel()
        .title("在办负荷（按部门）")
        .description("各部门名下未结案的案件数。")
        .datasource(CASES)
        .with_target(
            esq(CASES, f"department:$department AND {OPEN}", [count()], [terms("department", 30)])
        )
        .time_from("365d"),
        8,
        10,
    )
    for name, w in (("on_time_rate", 16), ("return_rate", 12), ("rework_rate", 12)):
        g.add(
            percent(
                timeseries.Panel()
                .title(rate_title(name) + "（按部门，按日）")
                .description(rate_description(name))
                .datasource(STATS)
                .with_target(
                    esq(
                        STATS,
                        stats_query("department", dept),
                        [avg(name)],
                        [by_dept, daily("day")],
                        alias="{{term key_name}}",
                    )
                )
            ),
            w,
            10,
        )
    g.add(
        table.Panel()
        .title("各环节用时（小时，各日均值的平均，按部门）")
        .description("每个环节在当日完成的案件的平均用时（cityops/figures.py 的 stage_hours）。")
        .datasource(STATS)
        .with_target(
            esq(
                STATS,
                stats_query("department", dept),
                [
                    avg(f"stage_hours.{stage}.mean_h", str(i))
                    for i, stage in enumerate(STAGE_NAMES, 4)
                ],
                [by_dept],
            )
        ),
        24,
        9,
    )
    g.add(
        percent(
            timeseries.Panel()
            .title(rate_title("auto_dispatch_share") + "（全区，按日）")
            .description(rate_description("auto_dispatch_share"))
            .datasource(STATS)
            .with_target(
                esq(STATS, stats_query("none"), [avg("auto_dispatch_share")], [daily("day")])
            )
        ),
        12,
        9,
    )
    g.add(
        timeseries.Panel()
        .title("分类准确度：派遣员改派（纠正分类）数与立案数（按日）")
        .description(
            "改派（rerouted）是派遣员对路由结果的纠正，cityops router corrections 取的也是它；"
            "纠正数 / 立案数越低，路由越准。"
        )
        .datasource(EVENTS)
        .with_target(esq(EVENTS, "kind:rerouted", [count()], [daily("at")], "A", "改派（纠正）"))
        .with_target(esq(EVENTS, "kind:registered", [count()], [daily("at")], "B", "立案"))
        .with_transformation(
            DataTransformerConfig(
                id_val="calculateField",
                options={
                    "mode": "binary",
                    "binary": {"left": "改派（纠正）", "operator": "/", "right": "立案"},
                    "alias": "纠正率",
                },
            )
        ),
        12,
        9,
    )
    departments = sorted(taxonomy.load().departments, key=lambda d: d.code)
    return board(
        "cityops-operations",
        "运行管理 各部门",
        "各部门负荷、按期结案率、退单率（错派）、返工率、各环节用时，以及派遣员纠正衡量的分类准确度。",
        g,
        [custom_variable("department", "部门", ((d.name, d.code) for d in departments))],
    )


# (title, PromQL, legend, unit) of the pipeline board, in reading order.
PIPELINE: tuple[tuple[str, str, str, str], ...] = (
    ("服务在线（up）", 'up{job=~"cityops-.*"}', "{{service}}", "none"),
    (
        "各主题吞吐（条/秒）",
        "sum by (topic) (cityops:topic_records:rate5m)",
        "{{topic}}",
        "rps",
    ),
    (
        "消费滞后（条，按消费组与主题）",
        "cityops:consumer_lag_records:sum",
        "{{group}} {{topic}}",
        "none",
    ),
    (
        "死信（近1小时，按消费者）",
        "sum by (consumer) (increase(cityops_dead_letters_total[1h]))",
        "{{consumer}}",
        "none",
    ),
    (
        "分类器延迟 p50 / p95（秒）",
        "cityops:classifier_latency_seconds:p95_5m",
        "p95",
        "s",
    ),
    (
        "自动派遣与待人工（条/秒）",
        "sum by (outcome) (rate(cityops_classifier_decisions_total[5m]))",
        "{{outcome}}",
        "rps",
    ),
    (
        "分类置信度分布（近1小时）",
        "sum by (le) (increase(cityops_classifier_confidence_bucket[1h]))",
        "≤ {{le}}",
        "none",
    ),
    (
        "上报→成案延迟 p95（秒）",
        "cityops:report_to_case_seconds:p95_5m",
        "p95",
        "s",
    ),
    (
        "HTTP 延迟 p95（秒，按路由）",
        "cityops:http_request_duration_seconds:p95_5m",
        "{{route}}",
        "s",
    ),
    (
        "HTTP 请求（条/秒，按状态码）",
        "sum by (status) (cityops:http_requests:rate5m)",
        "{{status}}",
        "rps",
    ),
    ("HTTP 5xx 占比", "cityops:http_errors:ratio_rate5m", "5xx", "percentunit"),
    ("在办案件（按状态）", "sum by (state) (cityops_cases_open)", "{{state}}", "none"),
    (
        "命令（条/秒，按结果）",
        "sum by (result) (rate(cityops_commands_total[5m]))",
        "{{result}}",
        "rps",
    ),
    (
        "期限预警与超期（近1小时）",
        "sum by (level) (increase(cityops_deadline_alerts_total[1h]))",
        "{{level}}",
        "none",
    ),
    (
        "传感器读数（条/秒，按结果）",
        "sum by (outcome) (rate(cityops_sensor_readings_processed_total[5m]))",
        "{{outcome}}",
        "rps",
    ),
    (
        "传感器读数拒收（近1小时，按原因）",
        "sum by (reason) (increase(cityops_sensor_readings_refused_total[1h]))",
        "{{reason}}",
        "none",
    ),
)


def pipeline_board() -> Any:
    g = Grid()
    for title, expr, legend, unit in PIPELINE:
        panel = (
            timeseries.Panel()
            .title(title)
            .datasource(PROMETHEUS)
            .with_target(promql(expr, legend))
            .unit(unit)
        )
        g.add(panel, 12, 8)
    return board(
        "cityops-pipeline",
        "数据管道 运行状态",
        "各主题吞吐、消费滞后、死信、分类器延迟、HTTP 延迟与错误、服务在线（Prometheus）。",
        g,
    )


BOARDS = {
    "cityops-city.json": city_board,
    "cityops-operations.json": operations_board,
    "cityops-pipeline.json": pipeline_board,
}


def render(built: Any) -> str:
    """A dashboard as the committed JSON: stable key order, Chinese as is."""
    return json.dumps(built, cls=JSONEncoder, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def dashboards() -> dict[str, dict[str, Any]]:
    """File name → dashboard model (plain JSON data), as ``build`` writes them."""
    return {name: _strict(json.loads(render(make().build()))) for name, make in BOARDS.items()}


def _strict(model: dict[str, Any]) -> dict[str, Any]:
    """The SDK writes the interval variable's ``auto*`` fields on every variable; Grafana
    11.6's dashboard schema allows them on none, so they are left out."""
    for variable in model.get("templating", {}).get("list", []):
        for key in ("auto", "auto_count", "auto_min"):
            variable.pop(key, None)
    return model


def build(out: Path = DASHBOARDS_DIR) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in dashboards().items():
        path = out / name
        path.write_text(json.dumps(model, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
        written.append(path)
    return written


def sync_payloads(folder_uid: str) -> list[dict[str, Any]]:
    """The bodies ``POST /api/dashboards/db`` receives, one per dashboard."""
    return [
        {
            "dashboard": {**model, "id": None},
            "folderUid": folder_uid,
            "overwrite": True,
            "message": "cityops grafana sync",
        }
        for model in dashboards().values()
    ]


def sync(url: str, token: str, folder_uid: str = "cityops") -> list[str]:
    """Push every dashboard to the Grafana at ``url`` (a service account token), into the
    folder ``folder_uid`` (created when missing); return the dashboards' URLs."""
    from grafana_client import GrafanaApi
    from grafana_client.client import GrafanaClientError

    api = GrafanaApi.from_url(url, credential=token)
    try:
        api.folder.get_folder(folder_uid)
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        api.folder.create_folder(FOLDER, uid=folder_uid)
    return [
        str(api.dashboard.update_dashboard(body).get("url", ""))
        for body in sync_payloads(folder_uid)
    ]
