"""services/sensors/window.py: placement, order, the run of clear readings."""

from __future__ import annotations

from datetime import timedelta

from cityops import sensors
from services.sensors import window
from services.sensors.window import Placement, Sample, Verdict
from tests.sensors.builders import T0, device, reading

S = timedelta(seconds=1)


def sample(second: int, verdict: Verdict = Verdict.CLEAR) -> Sample:
    at = T0 + second * S
    return Sample(f"r{second}", at, at, 1.0, verdict)


def test_window_size_is_m_or_the_rate_span_capped() -> None:
    water = sensors.load().type("water_level").rules[0]  # 3 of 5, rate over 600 s
    assert window.size(water, 60) == 11
    assert window.size(water, 600) == 5
    assert window.size(water, 5) == sensors.MAX_WINDOW
    smoke = sensors.load().type("smoke_detector").rules[0]
    assert window.size(smoke, 1) == 3


def test_insert_keeps_event_time_order_and_drops_the_oldest() -> None:
    w = (sample(0), sample(10), sample(20))
    assert [s.reading_id for s in window.insert(w, sample(15), 3)] == ["r10", "r15", "r20"]
    assert [s.reading_id for s in window.insert(w, sample(30), 4)] == ["r0", "r10", "r20", "r30"]


def test_place() -> None:
    dev = device()
    w = tuple(sample(s) for s in (100, 110, 120))
    lateness = timedelta(seconds=60)
    assert window.place(w, reading(dev, 1, T0 + 115 * S), 5, lateness) is Placement.INSIDE
    assert window.place(w, reading(dev, 1, T0 + 110 * S), 5, lateness) is Placement.DUPLICATE
    dup_id = reading(dev, 1, T0 + 111 * S, reading_id="r100")
    assert window.place(w, dup_id, 5, lateness) is Placement.DUPLICATE
    assert window.place(w, reading(dev, 1, T0 + 59 * S), 5, lateness) is Placement.LATE
    assert window.place(w, reading(dev, 1, T0 + 60 * S), 5, lateness) is Placement.INSIDE
    assert window.place(w, reading(dev, 1, T0 + 90 * S), 3, lateness) is Placement.BEFORE_WINDOW


def test_normal_since_is_the_start_of_the_trailing_clear_run() -> None:
    b, c, gap = Verdict.BREACH, Verdict.CLEAR, 60 * S
    run = (sample(0, c), sample(10, b), sample(20, c))
    assert window.normal_since(run, None, gap) == T0 + 20 * S
    assert window.normal_since((sample(0, c), sample(10, b)), T0, gap) is None
    full = (sample(0, c), sample(10, c))
    assert window.normal_since(full, None, gap) == T0
    assert window.normal_since(full, T0 - 100 * S, gap) == T0 - 100 * S  # began before
    neutral = (sample(0, Verdict.NEUTRAL), sample(10, c))
    assert window.normal_since(neutral, T0 - 100 * S, gap) == T0 + 10 * S


def test_a_silence_longer_than_the_gap_ends_a_run() -> None:
    c = Verdict.CLEAR
    silent = (sample(0, c), sample(10, c), sample(500, c), sample(510, c))
    assert window.normal_since(silent, T0 - 100 * S, 60 * S) == T0 + 500 * S
