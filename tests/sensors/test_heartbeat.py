"""services/sensors/heartbeat.py: a silent device is a fault for its maintainer, once."""

from __future__ import annotations

from datetime import timedelta

from cityops import sensors
from services.sensors import heartbeat
from services.sensors.heartbeat import DeviceBack, DeviceFault
from tests.sensors.builders import T0, device, reading, run, series

SECOND = timedelta(seconds=1)


def test_a_device_that_never_reports_is_due_after_its_silence_period() -> None:
    dev = device()  # every 60 s, 5 misses: silent after 5 minutes
    state = heartbeat.fresh(dev, T0)
    assert heartbeat.due(state, T0 + 5 * 60 * SECOND - SECOND) == (state, [])
    state, faults = heartbeat.due(state, T0 + 5 * 60 * SECOND)
    assert faults == [DeviceFault(dev.device_id, 1, None, T0 + 300 * SECOND, T0 + 300 * SECOND)]


def test_silence_is_counted_from_the_last_reading_received_and_reported_once() -> None:
    dev = device(interval_s=600)  # silent after 50 minutes
    state, _ = run(dev, series(dev, [1, 1, 1]))
    last = T0 + 2 * 60 * SECOND + SECOND  # received one second after observed
    assert state.silent_at == last + timedelta(minutes=50)
    assert heartbeat.due(state, last + timedelta(minutes=49))[1] == []
    state, faults = heartbeat.due(state, last + timedelta(minutes=51))
    assert [f.number for f in faults] == [1] and faults[0].last_received_at == last
    assert heartbeat.due(state, last + timedelta(hours=5))[1] == []  # no repeat


def test_a_reading_ends_the_fault_and_the_next_silence_is_a_new_fault() -> None:
    dev = device()
    state, _ = run(dev, series(dev, [1]))
    state, _ = heartbeat.due(state, T0 + timedelta(hours=1))
    back_at = T0 + timedelta(hours=2)
    state, out = run(dev, [reading(dev, 1, back_at, received_at=back_at)], state)
    assert out == [DeviceBack(dev.device_id, 1, back_at)]
    assert heartbeat.due(state, back_at + timedelta(minutes=4))[1] == []
    state, faults = heartbeat.due(state, back_at + timedelta(minutes=6))
    assert [f.number for f in faults] == [2]


def test_a_late_reading_still_proves_the_device_alive_but_a_malformed_one_does_not() -> None:
    dev = device()
    state, _ = run(dev, series(dev, [1] * 11))
    now = T0 + timedelta(hours=1)
    late = reading(dev, 1, T0 + 30 * SECOND, received_at=now)  # 9.5 minutes behind: late
    after, out = run(dev, [late], state)
    assert [type(o).__name__ for o in out] == ["Refused"]
    assert after.last_received_at == now
    wrong_unit = reading(dev, 1, now, received_at=now, unit="mm")
    after, _ = run(dev, [wrong_unit], state)
    assert after.last_received_at == state.last_received_at


def test_the_maintainer_notice_names_the_device_and_the_silence() -> None:
    dev = device()
    state, _ = run(dev, [reading(dev, 1, T0, received_at=T0)])
    _, faults = heartbeat.due(state, T0 + timedelta(minutes=7))
    text = heartbeat.fault_text(faults[0], dev, sensors.load())
    assert text == "设备 wl-1（道路积水监测仪）已 7 分钟未上报数据，请维护单位 临港水务 检修"
