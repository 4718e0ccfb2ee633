"""services/sensors/registry_csv.py: bulk registration, with a reason for every refused row."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from services.sensors import keys
from services.sensors.keys import Pepper
from services.sensors.registry_csv import OPTIONAL, REQUIRED, parse_devices, parse_thresholds
from tests.sensors.builders import refs

PEPPER = Pepper("p1", b"s" * 32)
HEADER = ",".join((*REQUIRED, *OPTIONAL)) + "\n"
KEY = "k" * 40


def salts() -> Callable[[], bytes]:
    counter = itertools.count()
    return lambda: next(counter).to_bytes(16, "big")


def test_good_rows_register_with_town_grid_overrides_and_hashed_keys() -> None:
    text = (
        HEADER
        + "wl-1,water_level,30.895,121.8756,临港水务,,,30,,water_depth_cm:20/8,\n"
        + f"mh-1,manhole_cover,30.94293,121.804,城投管网,C0102,MH-1,,,,{KEY}\n"
        + "nm-1,noise_meter,30.97362,121.864,生态环境局,,,,4a,,\n"
    )
    result = parse_devices(text, refs(), PEPPER, salts=salts())
    assert result.errors == ()
    wl, mh, nm = result.devices
    assert (wl.town, wl.grid, wl.interval_s) == ("lingang_industrial", "lingang_industrial-010", 30)
    assert (wl.thresholds["water_depth_cm"].raise_, wl.thresholds["water_depth_cm"].clear) == (
        20,
        8,
    )
    assert (mh.grid, mh.asset and mh.asset.asset_id, mh.interval_s) == ("nicheng-005", "MH-1", 300)
    assert mh.api_key is not None and keys.verify(KEY, mh.api_key, {"p1": PEPPER.secret})
    assert KEY not in mh.model_dump_json()
    assert wl.api_key is None and nm.acoustic_zone == "4a" and nm.grid == "shuyuan-003"


def test_each_bad_row_is_refused_with_its_line_and_reasons_and_the_rest_register() -> None:
    text = (
        HEADER
        + "wl-1,water_level,30.895,121.8756,临港水务,,,,,,\n"  # line 2: good
        + "wl-2,water_level,north,121.8756,临港水务,,,,,,\n"  # 3: lat
        + "wl-3,water_level,31.23,121.47,临港水务,,,,,,\n"  # 4: outside
        + "mh-2,manhole_cover,30.895,121.8756,城投管网,,,,,,\n"  # 5: no asset
        + "wl-1,water_level,30.895,121.8756,临港水务,,,,,,\n"  # 6: repeats line 2
        + "wl-4,water_level,30.895,121.8756,临港水务,,,ten,,depth,\n"  # 7: two reasons
        + "wl-5,water_level,30.895,121.8756\n"  # 8: short row
        + "bad id,water_level,30.895,121.8756,临港水务,,,,,,\n"  # 9: id pattern
        + "wl-6,water_level,30.895,121.8756,临港水务,,,,,,short-key\n"  # 10: key too short
        + "wl-7,water_level,30.895,121.8756,,C0102,,,,,\n"  # 11: maintainer, half an asset
        + "wl-8,sonar,30.895,121.8756,临港水务,,,,,,\n"  # 12: unknown type
        + "wl-9,water_level,30.895,121.8756,临港水务,,,,,,\n"  # 13: already registered
        + "wl-10,water_level,95,121.8756,临港水务,,,,,,\n"  # 14: latitude beyond 90
    )
    result = parse_devices(text, refs(), PEPPER, known_ids={"wl-9"}, salts=salts())
    assert [d.device_id for d in result.devices] == ["wl-1"]
    errors = {e.line: e for e in result.errors}
    assert sorted(errors) == list(range(3, 15))
    expect = {
        3: "lat 'north' is not a number",
        4: "outside Lingang",
        5: "watches an asset",
        6: "repeats line 2",
        8: "different number of cells",
        9: "device_id",
        10: "at least 32 characters",
        12: "unknown device type 'sonar'",
        13: "already registered",
        14: "location.lat",
    }
    for line, words in expect.items():
        assert any(words in r for r in errors[line].reasons), (line, errors[line])
    assert len(errors[7].reasons) == 2  # interval and thresholds, both reported
    assert any("asset_class and asset_id" in r for r in errors[11].reasons)
    assert any(r.startswith("maintainer") for r in errors[11].reasons)
    assert errors[4].device_id == "wl-3"


def test_a_missing_or_unknown_column_refuses_the_file() -> None:
    text = "device_id,type,lat,lon,maintaner\nwl-1,water_level,30.895,121.8756,x\n"
    result = parse_devices(text, refs(), PEPPER)
    assert result.devices == ()
    (error,) = result.errors
    assert error.line == 1
    assert set(error.reasons) == {"missing column 'maintainer'", "unknown column 'maintaner'"}


def test_an_excel_bom_and_column_order_do_not_matter() -> None:
    text = "\ufefflon,lat,type,device_id,maintainer\n121.8756,30.895,water_level,wl-1,x\n"
    result = parse_devices(text, refs())
    assert [d.device_id for d in result.devices] == ["wl-1"] and result.errors == ()


def test_a_key_without_a_pepper_is_refused_not_stored_in_the_clear() -> None:
    text = HEADER + f"wl-1,water_level,30.895,121.8756,临港水务,,,,,,{KEY}\n"
    result = parse_devices(text, refs(), pepper=None)
    assert result.devices == () and "no key pepper" in result.errors[0].reasons[0]


def test_threshold_cells() -> None:
    levels = parse_thresholds(" tilt_deg:20/4 ; displacement_mm:40/10 ;")
    assert {m: (v.raise_, v.clear) for m, v in levels.items()} == {
        "tilt_deg": (20, 4),
        "displacement_mm": (40, 10),
    }
    for bad in ("tilt_deg=20/4", "tilt_deg:20", "tilt_deg:a/b", ":1/2"):
        try:
            parse_thresholds(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")
