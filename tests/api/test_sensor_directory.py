"""services/api/sensors/directory.py: latest record wins, retired kept, faults, gateways."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta

from cityops.contracts.devices import Device, DeviceRegistered, KeyHash
from cityops.contracts.events import DeviceNotice, NoticeKind
from cityops.kafka import decode, encode
from services.api.sensors.directory import Directory
from services.sensors import keys
from services.sensors.keys import Pepper
from tests.sensors.builders import device

T0 = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)


def notice(kind: NoticeKind, device_id: str = "wl-1") -> DeviceNotice:
    return DeviceNotice.model_validate(
        {
            "notice_id": f"{device_id}:{kind.value}:1",
            "kind": kind,
            "device_id": device_id,
            "device_type": "water_level",
            "maintainer": "临港水务",
            "number": 1,
            "text": "设备离线",
            "at": T0,
        }
    )


def keyed(stored: KeyHash, device_id: str = "wl-1") -> Device:
    return device(device_id=device_id).model_copy(update={"api_key": stored})


def test_the_latest_record_wins_and_a_retired_device_stays() -> None:
    known = Directory()
    known.apply(DeviceRegistered(device=device(maintainer="甲"), registered_at=T0))
    known.apply(DeviceRegistered(device=device(maintainer="乙"), registered_at=T0, retired=True))
    entry = known.get("wl-1")
    assert entry is not None and entry.device.maintainer == "乙" and entry.retired
    assert [e.device.device_id for e in known.select(retired=False)] == []


def test_a_written_record_does_not_undo_a_later_one_from_the_topic() -> None:
    known = Directory()
    known.apply(DeviceRegistered(device=device(maintainer="新"), registered_at=T0))
    earlier = DeviceRegistered(device=device(maintainer="旧"), registered_at=T0 - timedelta(1))
    known.apply_written(earlier)
    entry = known.get("wl-1")
    assert entry is not None and entry.device.maintainer == "新"


def test_gateways_index_their_devices_and_follow_moves() -> None:
    known = Directory()
    known.apply(DeviceRegistered(device=device(gateway_id="gw-1"), registered_at=T0))
    known.apply(DeviceRegistered(device=device("water_level", "wl-2", gateway_id="gw-1"),
                                 registered_at=T0))  # fmt: skip
    assert known.on_gateway("gw-1") == {"wl-1", "wl-2"}
    known.apply(DeviceRegistered(device=device(gateway_id="gw-2"), registered_at=T0))
    assert known.on_gateway("gw-1") == {"wl-2"} and known.on_gateway("gw-2") == {"wl-1"}


def test_the_last_notice_tells_whether_a_fault_is_open_and_filters_select() -> None:
    known = Directory()
    known.apply(DeviceRegistered(device=device(), registered_at=T0))
    known.apply(DeviceRegistered(device=device(device_id="wl-2"), registered_at=T0))
    known.apply_notice(notice(NoticeKind.FAULT))
    assert known.fault_open("wl-1") and not known.fault_open("wl-2")
    assert [e.device.device_id for e in known.select(fault=True)] == ["wl-1"]
    assert [e.device.device_id for e in known.select(device_type="water_level")] == ["wl-1", "wl-2"]
    assert list(known.select(town="nowhere")) == []
    known.apply_notice(notice(NoticeKind.BACK))
    assert not known.fault_open("wl-1")


def test_a_device_takes_a_few_kilobytes() -> None:
    _, stored = keys.issue(Pepper("p1", b"x" * 32))
    records = [
        encode(DeviceRegistered(device=keyed(stored, f"wl-{i:05d}"), registered_at=T0))
        for i in range(2000)
    ]
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    known = Directory()
    for raw in records:  # decoded inside the measure, as the feed does
        known.apply(decode(DeviceRegistered, raw))
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    per_device = sum(s.size_diff for s in after.compare_to(before, "filename")) / len(records)
    print(f"directory: {per_device:.0f} bytes per device")
    assert 500 < per_device < 8192
