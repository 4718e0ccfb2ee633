"""services/sensors/incidents.py: Chinese texts and the case source of an incident."""

from __future__ import annotations

from datetime import timedelta

from cityops import sensors
from cityops.contracts import Role, SourceType
from services.sensors.incidents import (
    IncidentOpened,
    IncidentRecovered,
    alarm_text,
    case_source,
    recovered_text,
    source_id,
)
from services.sensors.rules import Output
from tests.sensors.builders import T0, device, run, series


def rule(type_code: str, index: int = 0) -> sensors.Rule:
    return sensors.load().type(type_code).rules[index]


def opened(outputs: list[Output]) -> list[IncidentOpened]:
    return [o for o in outputs if isinstance(o, IncidentOpened)]


def test_the_water_alarm_reads_as_the_issue_asks() -> None:
    dev = device()
    _, out = run(dev, series(dev, [16.0, 18.2, 23.5]))
    assert alarm_text(opened(out)[0].trigger, rule("water_level"), dev) == (
        "积水深度 23.5 cm，超过阈值 15 cm（设备 wl-1）"
    )


def test_a_device_threshold_override_shows_in_the_text() -> None:
    dev = device(thresholds={"water_depth_cm": {"raise": 20, "clear": 8}})
    _, out = run(dev, series(dev, [21.0] * 3))
    assert "超过阈值 20 cm" in alarm_text(opened(out)[0].trigger, rule("water_level"), dev)


def test_a_rate_alarm_says_how_fast_it_rose() -> None:
    dev = device()
    _, out = run(dev, series(dev, [0, 2, 4, 6, 8, 11, 12, 13]))
    assert alarm_text(opened(out)[0].trigger, rule("water_level"), dev) == (
        "积水深度 10 分钟内上涨 13.0 cm，现为 13.0 cm（设备 wl-1）"
    )


def test_the_noise_alarm_names_the_zone_and_the_period() -> None:
    dev = device("noise_meter", "nm-1")
    start = T0 + timedelta(hours=11)  # 23:00 in Shanghai
    _, out = run(dev, series(dev, [55.0] * 5, start=start))
    assert alarm_text(opened(out)[0].trigger, rule("noise_meter"), dev) == (
        "噪声 55.0 dB(A)，超过 2 类声环境功能区夜间限值 50 dB(A)（设备 nm-1）"
    )


def test_the_recovered_text_says_for_how_long() -> None:
    dev = device()
    _, out = run(dev, series(dev, [20.0] * 3 + [3.0] * 11))
    recovered = next(o for o in out if isinstance(o, IncidentRecovered))
    assert recovered_text(recovered, rule("water_level"), dev) == (
        "积水深度 3.0 cm，已持续 10 分钟不高于 5 cm"
    )


def test_an_incident_becomes_a_sensor_case_source_with_class_place_and_asset() -> None:
    dev = device("manhole_cover", "mh-7")
    _, out = run(dev, series(dev, [20.0, 25.0], every_s=30))
    incident = opened(out)[0]
    source = case_source(incident, rule("manhole_cover"), dev)
    assert source.source_type is SourceType.SENSOR
    assert source.source_id == "sensor:mh-7:cover_tilted:1" == source_id("mh-7", "cover_tilted", 1)
    assert source.category_hint == "E0507"
    assert source.asset_id == "MH-0001"
    assert source.location == dev.location
    assert (source.reporter.id, source.reporter.role) == ("mh-7", Role.DEVICE)
    assert source.occurred_at == T0 and source.received_at == incident.trigger.received_at
    assert source.text.startswith("井盖倾角 25.0°，超过阈值 15°")


def test_a_replay_of_the_same_readings_names_the_same_sources() -> None:
    dev = device(interval_s=3600)
    readings = series(dev, ([20.0] * 5 + [1.0] * 11) * 3, every_s=3600)  # three episodes
    ids = []
    for _ in range(2):
        _, out = run(dev, readings)
        ids.append([case_source(o, rule("water_level"), dev).source_id for o in opened(out)])
    assert ids[0] == ids[1]
    assert len(set(ids[0])) == len(ids[0]) > 1
