"""Duplicate merging: the rule, and its quality on the labelled scenario set."""

from __future__ import annotations

import json
from datetime import timedelta

from cityops import jurisdiction, taxonomy
from cityops.contracts import SourceType
from services.dispatch import candidates, dedup, merge_quality
from tests.conftest import DATA

TAX, PLACES = taxonomy.load(), jurisdiction.load()


def scenario(*reports: dict) -> list:  # type: ignore[type-arg]
    return merge_quality.to_items({"reports": list(reports)}, TAX, PLACES)


def report(
    rid: str,
    text: str,
    lat: float = 30.91200,
    lon: float = 121.91400,
    minutes: int = 0,
    category: str = "C0102",
    **extra: object,
) -> dict:  # type: ignore[type-arg]
    return {
        "id": rid,
        "incident": "x",
        "text": text,
        "category": category,
        "lat": lat,
        "lon": lon,
        "minutes": minutes,
        "source_type": "citizen_app",
        **extra,
    }


def test_distance_and_similarity() -> None:
    assert abs(dedup.distance_m(30.0, 121.0, 30.001, 121.0) - 111.2) < 0.5
    assert dedup.similarity("环湖西二路井盖坏了", "环湖西二路井盖坏了") == 1.0
    assert dedup.similarity("井盖", "路灯") == 0.0


def test_same_spot_same_class_merges_even_in_other_words() -> None:
    items = scenario(
        report("a", "门口污水井盖碎了"),
        report("b", "这里的井盖裂开一大块", lat=30.91203, minutes=40),
    )
    owner = dedup.assign(items, TAX)
    assert owner["a"] == owner["b"]


def test_unrelated_class_or_outside_the_window_does_not_merge() -> None:
    leaf = TAX.leaf("C0102")
    late = int(leaf.merge.window_hours * 60) + 60
    items = scenario(
        report("a", "井盖碎了"),
        report("b", "井盖碎了", category="E0101"),
        report("c", "井盖碎了", minutes=late),
    )
    owner = dedup.assign(items, TAX)
    assert len({owner["a"], owner["b"], owner["c"]}) == 3


def test_far_apart_needs_agreeing_words() -> None:
    leaf = TAX.leaf("C0102")
    far = 30.912 + 0.9 * leaf.merge.radius_m / 111_200
    items = scenario(
        report("a", "环湖西二路888号门口污水井盖破损"),
        report("b", "古棕路公交站旁边那个井盖没了", lat=far),
    )
    owner = dedup.assign(items, TAX)
    assert owner["a"] != owner["b"]


def test_a_sensor_alarm_joins_the_human_report_on_the_same_asset() -> None:
    items = scenario(
        report("h", "门口井盖翘起来了", asset_id="manhole-LG-0042"),
        report(
            "s",
            "井盖位移传感器报警：倾角18°",
            lat=30.9125,
            minutes=5,
            asset_id="manhole-LG-0042",
            source_type="sensor",
        ),
    )
    assert items[1][0].source_type is SourceType.SENSOR
    owner = dedup.assign(items, TAX)
    assert owner["h"] == owner["s"]


def test_redelivered_source_finds_its_own_case() -> None:
    (item,) = scenario(report("a", "井盖碎了"))
    ref = dedup.OpenCaseRef.of("CASE1", *item)
    assert dedup.find_match(*item, [ref], TAX) == ref


def test_prune_forgets_cases_older_than_any_window() -> None:
    (item,) = scenario(report("a", "井盖碎了"))
    ref = dedup.OpenCaseRef.of("CASE1", *item)
    shelf = candidates.Shelf(candidates.DictStore())
    shelf.add("k", ref)
    now = ref.opened_at + timedelta(hours=candidates.MAX_WINDOW_H + 1)
    assert shelf.read("k", now) == []
    assert [f.ref for f in shelf.read("k", now - timedelta(hours=2))] == [ref]


def test_merge_quality_on_the_labelled_scenarios() -> None:
    scenarios = json.loads((DATA / "dedup_scenarios.json").read_text())["scenarios"]
    result = merge_quality.score(scenarios, TAX, PLACES)
    print("merge quality", json.dumps(result, ensure_ascii=False))
    assert len(scenarios) >= 40
    assert result["precision"] >= 0.85 and result["recall"] >= 0.75
