"""services/sensors/state.py: the state round-trips and never grows with the readings."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cityops import sensors
from services.sensors import rules, state
from services.sensors.incidents import IncidentOpened, IncidentRecovered, IncidentRelapsed
from services.sensors.state import DeviceState
from tests.sensors.builders import T0, device, reading, run, series

DEVICES = {t: device(t, f"{t}-1") for t in ("water_level", "manhole_cover")}
LIMIT_BYTES = 10_000


def test_the_state_round_trips_through_its_codec() -> None:
    dev = DEVICES["water_level"]
    s, _ = run(dev, series(dev, [20.0] * 5 + [1.0] * 3))
    assert state.decode(state.encode(s)) == s


def test_the_largest_state_stays_under_ten_kilobytes() -> None:
    dev = DEVICES["manhole_cover"]
    long_id = "r" * 120
    readings = []
    for i in range(500):  # both conditions, longest reading ids
        at = T0 + timedelta(seconds=10 * i)
        readings.append(reading(dev, 20.0, at, reading_id=f"{long_id}{i:04d}"[-128:]))
        readings.append(
            reading(dev, 40.0, at, metric="displacement_mm", reading_id=f"{long_id}d{i:04d}"[-128:])
        )
    s, _ = run(dev, readings)
    assert all(len(c.window) <= sensors.MAX_WINDOW for c in s.conditions.values())
    assert len(state.encode(s)) < LIMIT_BYTES


values = st.floats(min_value=0, max_value=60, allow_nan=False)
steps = st.lists(
    st.tuples(values, st.integers(min_value=-40, max_value=120), st.booleans()),
    min_size=1,
    max_size=300,
)


@settings(max_examples=60, deadline=None)
@given(steps)
def test_any_stream_keeps_one_open_incident_at_most_and_a_bounded_window(
    stream: list[tuple[float, int, bool]],
) -> None:
    """Random depths, arrival jitter (seconds back or forth) and resends: open and recovered
    incidents alternate per condition, and the window never passes its size."""
    dev = DEVICES["water_level"]
    s = DeviceState(dev.device_id)
    clock = T0
    open_now = False
    keep = 11
    for i, (value, jitter, resend) in enumerate(stream):
        clock += timedelta(seconds=30)
        r = reading(dev, value, clock + timedelta(seconds=jitter), reading_id=f"r{i}")
        for _ in range(2 if resend else 1):
            s, out = rules.process(s, r, dev, sensors.load())
            for o in out:
                if isinstance(o, IncidentOpened | IncidentRelapsed):
                    assert not open_now
                    open_now = True
                elif isinstance(o, IncidentRecovered):
                    assert open_now
                    open_now = False
        assert s.condition("waterlogging").open is open_now
        assert len(s.condition("waterlogging").window) <= keep
