"""cityops/sensors.py: the shipped sensor catalogue loads, and bad files are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from cityops import sensors, taxonomy


def shipped_text() -> str:
    return resources.files("cityops.data").joinpath("sensors.yaml").read_text("utf-8")


def shipped_data() -> dict[str, Any]:
    data = yaml.safe_load(shipped_text())
    assert isinstance(data, dict)
    return data


def test_every_issue_sensor_type_maps_to_its_taxonomy_class() -> None:
    cat, tax = sensors.load(), taxonomy.load()
    expected = {
        ("water_level", "waterlogging"): "道路积水",
        ("manhole_cover", "cover_tilted"): "井盖缺失",
        ("manhole_cover", "cover_displaced"): "井盖缺失",
        ("smoke_detector", "fire"): "火灾",
        ("noise_meter", "noise_exceeded"): "社会生活噪声",
        ("air_quality", "pm25_high"): "施工扬尘",
        ("bin_fill", "overflow"): "垃圾满溢",
        ("streetlight", "lamp_out"): "路灯",
    }
    found = {(t.code, r.condition): tax.leaf(r.category).name for t in cat.types for r in t.rules}
    assert found == expected
    assert tax.leaf(cat.type("smoke_detector").rules[0].category).department == "emergency_fire"
    assert tax.leaf(cat.type("air_quality").rules[0].category).department == "environment"


def test_gb3096_zone_limits() -> None:
    zones = {z.code: (z.day, z.night) for z in sensors.load().acoustic_zones}
    assert zones == {
        "0": (50, 40),
        "1": (55, 45),
        "2": (60, 50),
        "3": (65, 55),
        "4a": (70, 55),
        "4b": (70, 60),
    }


@pytest.mark.parametrize(
    ("hour", "minute", "period"),
    [(5, 59, "night"), (6, 0, "day"), (21, 59, "day"), (22, 0, "night"), (0, 0, "night")],
)
def test_day_and_night_follow_shanghai_time(hour: int, minute: int, period: str) -> None:
    at = datetime(2026, 7, 1, hour, minute, tzinfo=sensors.SHANGHAI).astimezone(UTC)
    assert sensors.load().day_night.period(at) == period


def test_every_rule_keeps_a_bounded_window_and_a_valid_template() -> None:
    for kind in sensors.load().types:
        for rule in kind.rules:
            assert rule.breaches.n <= rule.breaches.of <= sensors.MAX_WINDOW
            assert "{value" in rule.text and "{threshold" in rule.text


def _mutate(path: list[str | int], value: object) -> dict[str, Any]:
    data = shipped_data()
    node: Any = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def _rule(**change: object) -> dict[str, Any]:
    data = shipped_data()
    data["types"][0]["rules"][0].update(change)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_rule(breaches={"n": 6, "of": 5}), "cannot exceed"),
        (_rule(breaches={"n": 2, "of": 64}), "less than or equal to 32"),
        (_rule(levels={"raise": 15, "clear": 20}), "normal side"),
        (_rule(zone_levels={"hysteresis": 3}), "exactly one of levels and zone_levels"),
        (_rule(text="积水 {depth} cm"), "unknown field 'depth'"),
        (_rule(text="积水 {value:d} cm"), "template"),
        (_rule(rate_text=None), "needs a rate_text"),
        (_rule(range=[10, 0]), "low < high"),
        (_rule(surprise=1), "Extra inputs"),
        (_mutate(["types", 1, "rules", 0, "condition"], "cover_displaced"), "duplicate condition"),
        (_mutate(["acoustic_zones"], []), "no acoustic_zones"),
        (_mutate(["fault_text"], "{nobody}"), "unknown field"),
    ],
)
def test_an_invalid_file_is_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        sensors.Catalogue.model_validate(data)


def test_a_class_code_missing_from_the_taxonomy_is_refused() -> None:
    text = shipped_text().replace('category: "E0503"', 'category: "E9999"')
    with pytest.raises(ValueError, match="unknown category 'E9999'"):
        sensors.parse(text, taxonomy.load())
    text = shipped_text().replace('asset_classes: ["C0109"]', 'asset_classes: ["C9999"]')
    with pytest.raises(ValueError, match="unknown asset class 'C9999'"):
        sensors.parse(text, taxonomy.load())


def test_the_shipped_text_parses_as_load_does() -> None:
    assert sensors.parse(shipped_text(), taxonomy.load()) == sensors.load()
