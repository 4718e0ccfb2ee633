"""services/sensors/rules.py: thresholds with hysteresis, N of M, rate of change, event time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypeVar

from cityops.contracts import SensorReading
from cityops.sensors import SHANGHAI
from services.sensors.devices import Device
from services.sensors.incidents import IncidentOpened, IncidentRecovered, IncidentRelapsed
from services.sensors.refusals import Reason, Refused, Skipped, SkipReason
from services.sensors.rules import Output
from tests.sensors.builders import T0, device, kinds, reading, run, series

MIN = timedelta(minutes=1)
T = TypeVar("T")


def first(outputs: list[Output], kind: type[T]) -> T:
    """The first output of ``kind`` (the test fails if there is none)."""
    return next(o for o in outputs if isinstance(o, kind))


def reasons(outputs: list[Output]) -> list[Reason]:
    return [o.reason for o in outputs if isinstance(o, Refused)]


def incidents(outputs: list[Output]) -> list[str]:
    return [k for k in kinds(outputs) if k.startswith("Incident")]


# ── thresholds and hysteresis (water level: raise 15 cm, clear 5 cm, 3 of 5) ─────────────


def test_three_breaches_open_one_incident_and_more_breaches_add_none() -> None:
    dev = device()
    state, out = run(dev, series(dev, [16.0] * 200))
    assert incidents(out) == ["IncidentOpened"]
    opened = out[0]
    assert isinstance(opened, IncidentOpened)
    assert (opened.number, opened.occurred_at, opened.trigger.observed_at) == (1, T0, T0 + 2 * MIN)
    assert state.open_incidents() == {"waterlogging": 1}


def test_hysteresis_between_the_levels_neither_opens_nor_clears() -> None:
    dev = device()
    # open, then hover between clear (5) and raise (15) for an hour: 20 minutes at 12 cm,
    # then around the raise level
    hover = [12.0] * 20 + [14.0, 16.0, 6.0, 15.5, 10.0] * 8
    state, out = run(dev, series(dev, [16.0] * 3 + hover))
    assert incidents(out) == ["IncidentOpened"]
    # back under the clear level: recovered after 10 minutes of event time, not before
    later = T0 + (3 + len(hover)) * MIN
    state, out = run(dev, series(dev, [4.0] * 10, start=later), state)
    assert incidents(out) == []
    state, out = run(dev, series(dev, [4.0], start=later + 10 * MIN), state)
    assert incidents(out) == ["IncidentRecovered"]
    recovered = out[0]
    assert isinstance(recovered, IncidentRecovered)
    assert (recovered.normal_since, recovered.at) == (later, later + 10 * MIN)


def test_a_value_at_the_raise_level_breaches_and_at_the_clear_level_clears() -> None:
    dev = device(thresholds={"water_depth_cm": {"raise": 20, "clear": 8}})
    _, out = run(dev, series(dev, [19.9] * 5))
    assert incidents(out) == []
    state, out = run(dev, series(dev, [20.0] * 3))
    assert incidents(out) == ["IncidentOpened"]
    _, out = run(dev, series(dev, [8.0] * 11, start=T0 + 3 * MIN), state)
    assert incidents(out) == ["IncidentRecovered"]


# ── N of M ───────────────────────────────────────────────────────────────────────────────


def test_n_of_m_counts_breaches_among_the_last_m_readings() -> None:
    dev = device()
    _, out = run(dev, series(dev, [16, 0, 0, 16, 0, 0, 16, 0, 0, 16]))
    assert incidents(out) == []  # never 3 breaches among 5 readings
    _, out = run(dev, series(dev, [16, 0, 16, 0, 16]))
    assert incidents(out) == ["IncidentOpened"]


# ── rate of change (water: +10 cm within 10 min; manhole tilt: +10° within 2 min) ────────


def test_a_fast_rise_below_the_raise_level_opens_on_the_rate_rule() -> None:
    dev = device()
    _, out = run(dev, series(dev, [0, 2, 4, 6, 8, 11, 12, 13]))
    assert incidents(out) == ["IncidentOpened"]
    opened = out[0]
    assert isinstance(opened, IncidentOpened)
    assert opened.trigger.cause == "rate" and opened.trigger.value == 13
    assert opened.trigger.change == 13


def test_a_slow_rise_to_the_same_depth_does_not() -> None:
    dev = device()
    _, out = run(dev, series(dev, [0, 2, 4, 6, 8, 11, 12, 13], every_s=180))
    assert incidents(out) == []


def test_a_manhole_cover_lifted_suddenly_opens_before_the_tilt_threshold() -> None:
    dev = device("manhole_cover", "mh-1")
    _, out = run(dev, series(dev, [1, 1, 12, 13], every_s=30))
    assert incidents(out) == ["IncidentOpened"]
    assert first(out, IncidentOpened).trigger.cause == "rate"


def test_the_two_manhole_conditions_are_separate_incidents() -> None:
    dev = device("manhole_cover", "mh-1")
    tilt = series(dev, [20, 20], every_s=30)
    moved = series(dev, [40, 40], every_s=30, metric="displacement_mm")
    state, out = run(dev, tilt + moved)
    assert [(o.condition, o.number) for o in out if isinstance(o, IncidentOpened)] == [
        ("cover_tilted", 1),
        ("cover_displaced", 1),
    ]
    assert state.open_incidents() == {"cover_tilted": 1, "cover_displaced": 1}


# ── recovery, relapse, new incidents ─────────────────────────────────────────────────────


def flood_then_recede(dev: Device, start: datetime) -> list[SensorReading]:
    return series(dev, [20] * 5 + [2] * 11, start=start)


def test_readings_around_a_silence_do_not_make_a_normal_period() -> None:
    dev = device()  # silent after 5 minutes; recovered after 10 minutes of clear readings
    state, out = run(dev, series(dev, [20] * 3 + [2] * 3))
    assert incidents(out) == ["IncidentOpened"]
    back = T0 + timedelta(hours=1)
    state, out = run(dev, series(dev, [2] * 10, start=back), state)
    assert incidents(out) == []  # 9 minutes since the device came back
    state, out = run(dev, series(dev, [2], start=back + 10 * MIN), state)
    assert incidents(out) == ["IncidentRecovered"]
    assert first(out, IncidentRecovered).normal_since == back


def test_a_relapse_within_the_window_reopens_the_same_incident() -> None:
    dev = device()
    state, out = run(dev, flood_then_recede(dev, T0))
    assert incidents(out) == ["IncidentOpened", "IncidentRecovered"]
    state, out = run(dev, series(dev, [20] * 3, start=T0 + timedelta(hours=1)), state)
    assert incidents(out) == ["IncidentRelapsed"]
    assert isinstance(out[0], IncidentRelapsed) and out[0].number == 1
    assert state.open_incidents() == {"waterlogging": 1}


def test_after_the_relapse_window_it_is_a_new_incident() -> None:
    dev = device()
    state, _ = run(dev, flood_then_recede(dev, T0))
    state, out = run(dev, flood_then_recede(dev, T0 + timedelta(hours=7)), state)
    assert incidents(out) == ["IncidentOpened", "IncidentRecovered"]
    assert [o.number for o in out if isinstance(o, IncidentOpened)] == [2]


def test_breaches_before_a_recovery_never_count_again() -> None:
    dev = device("bin_fill", "bin-1")  # 2 of 3, recovered at the first clear reading
    state, out = run(dev, series(dev, [95, 95, 10], every_s=900))
    assert incidents(out) == ["IncidentOpened", "IncidentRecovered"]
    # the window still holds the two old breaches; one new one is not two
    state, out = run(dev, series(dev, [96], start=T0 + 45 * MIN), state)
    assert incidents(out) == []
    state, out = run(dev, series(dev, [97], start=T0 + 50 * MIN), state)
    assert incidents(out) == ["IncidentRelapsed"]


# ── event time: out of order, duplicates, late ───────────────────────────────────────────


def test_an_out_of_order_breach_within_the_window_completes_n_of_m() -> None:
    dev = device()
    a, b, c = series(dev, [16, 16, 16])
    _, out = run(dev, [a, c, b])
    assert incidents(out) == ["IncidentOpened"]
    opened = out[0]
    assert isinstance(opened, IncidentOpened)
    assert opened.occurred_at == a.observed_at and opened.trigger.observed_at == c.observed_at


def test_shuffling_within_the_lateness_bound_gives_the_same_incidents() -> None:
    dev = device()
    values = [0] * 5 + [16, 18, 22, 25, 25, 24, 20, 12, 8, 4] + [2] * 15
    ordered = series(dev, values)
    shuffled = [r for pair in zip(ordered[1::2], ordered[::2], strict=False) for r in pair]
    assert sorted(r.reading_id for r in shuffled) == sorted(r.reading_id for r in ordered)

    def summary(out: list[Output]) -> list[tuple[str, int]]:
        keep = (IncidentOpened, IncidentRecovered)
        return [(type(o).__name__, o.number) for o in out if isinstance(o, keep)]

    _, in_order = run(dev, ordered)
    _, out_of_order = run(dev, shuffled)
    assert (
        summary(in_order)
        == summary(out_of_order)
        == [
            ("IncidentOpened", 1),
            ("IncidentRecovered", 1),
        ]
    )
    assert not any(isinstance(o, Refused | Skipped) for o in out_of_order)


def test_duplicates_are_skipped_and_never_count_as_breaches() -> None:
    dev = device()
    first = reading(dev, 16, T0)
    same_id = reading(dev, 16, T0 + MIN, reading_id=first.reading_id)
    same_time = reading(dev, 16, T0)
    state, out = run(dev, [first, same_id, same_time, first])
    assert kinds(out) == ["Skipped"] * 3
    assert all(isinstance(o, Skipped) and o.reason is SkipReason.DUPLICATE for o in out)
    assert len(state.condition("waterlogging").window) == 1


def test_a_reading_later_than_the_bound_is_refused_and_one_within_it_is_used() -> None:
    dev = device()  # lateness 300 s
    state, _ = run(dev, series(dev, [0] * 11))  # newest at T0 + 10 min
    late = reading(dev, 30, T0 + 10 * MIN - timedelta(seconds=301))
    _, out = run(dev, [late], state)
    assert isinstance(out[0], Refused) and out[0].reason is Reason.LATE
    in_time = reading(dev, 30, T0 + 10 * MIN - timedelta(seconds=270))
    state, out = run(dev, [in_time], state)
    assert out == []
    assert in_time.reading_id in [s.reading_id for s in state.condition("waterlogging").window]


def test_a_reading_older_than_a_full_window_is_skipped_but_can_end_a_normal_run() -> None:
    dev = device()  # window of 11 readings; at 10 s apart it spans 100 s < lateness 300 s
    state, out = run(dev, series(dev, [20] * 3, every_s=10))
    assert incidents(out) == ["IncidentOpened"]
    start = T0 + 30 * timedelta(seconds=1)
    state, _ = run(dev, series(dev, [2] * 15, start=start, every_s=10), state)
    since = state.condition("waterlogging").normal_since
    assert since == start < state.condition("waterlogging").window[0].observed_at
    old = reading(dev, 25, start + timedelta(seconds=5))  # before the window, inside the run
    state, out = run(dev, [old], state)
    assert isinstance(out[0], Skipped) and out[0].reason is SkipReason.BEFORE_WINDOW
    window = state.condition("waterlogging").window
    assert state.condition("waterlogging").normal_since == window[0].observed_at > since


def test_a_reading_for_another_device_type_or_metric_is_refused() -> None:
    dev = device()
    other = reading(device("smoke_detector", "sd-1"), 1, T0)
    wrong_device = reading(dev, 1, T0).model_copy(update={"device_id": "wl-2"})
    _, out = run(dev, [reading(dev, 1, T0, metric="tilt_deg"), wrong_device])
    assert reasons(out) == [Reason.UNKNOWN_METRIC, Reason.WRONG_DEVICE]
    _, out = run(dev, [other.model_copy(update={"device_id": "wl-1"})])
    assert reasons(out) == [Reason.WRONG_TYPE]


def test_a_refused_reading_leaves_the_state_as_it_was() -> None:
    dev = device()
    state, _ = run(dev, series(dev, [16, 16]))
    bad = reading(dev, 999, T0 + 5 * MIN)
    after, out = run(dev, [bad], state)
    assert isinstance(out[0], Refused) and out[0].reason is Reason.OUT_OF_RANGE
    assert after == state


# ── day and night: noise limits by acoustic zone, the streetlight's night ────────────────


def shanghai(hour: int, day: int = 1) -> datetime:
    return datetime(2026, 7, day, hour, 0, tzinfo=SHANGHAI)


def test_55_dba_is_within_zone_2_by_day_and_above_it_by_night() -> None:
    dev = device("noise_meter", "nm-1")  # zone 2: 60 by day, 50 by night; 5 of 10
    _, out = run(dev, series(dev, [55] * 30, start=shanghai(14)))
    assert incidents(out) == []
    _, out = run(dev, series(dev, [55] * 30, start=shanghai(23)))
    assert incidents(out) == ["IncidentOpened"]
    trigger = first(out, IncidentOpened).trigger
    assert trigger.threshold == 50 and trigger.period == "night"


def test_the_same_noise_is_judged_by_the_zone_of_the_device() -> None:
    quiet = device("noise_meter", "nm-0", acoustic_zone="0")  # 50 by day
    road = device("noise_meter", "nm-4", acoustic_zone="4a")  # 70 by day
    assert incidents(run(quiet, series(quiet, [58] * 10, start=shanghai(10)))[1]) == [
        "IncidentOpened"
    ]
    assert incidents(run(road, series(road, [58] * 10, start=shanghai(10)))[1]) == []


def test_noise_clears_below_the_limit_minus_the_hysteresis() -> None:
    dev = device("noise_meter", "nm-1")  # night limit 50, clear at 47, recovered after 30 min
    state, _ = run(dev, series(dev, [55] * 10, start=shanghai(23)))
    _, out = run(dev, series(dev, [48] * 60, start=shanghai(23) + 10 * MIN), state)
    assert incidents(out) == []
    _, out = run(dev, series(dev, [46] * 31, start=shanghai(23) + 10 * MIN), state)
    assert incidents(out) == ["IncidentRecovered"]


def test_a_lamp_off_by_day_is_not_an_incident_and_day_readings_do_not_recover_one() -> None:
    dev = device("streetlight", "sl-1")  # judged 20:00–04:00; out below 5 W, back at 20 W
    _, out = run(dev, series(dev, [0] * 20, start=shanghai(12), every_s=300))
    assert incidents(out) == []
    state, out = run(dev, series(dev, [0] * 4, start=shanghai(21), every_s=300))
    assert incidents(out) == ["IncidentOpened"]
    # by day the lamp is off as it should be: no recovery
    state, out = run(dev, series(dev, [0] * 100, start=shanghai(6, day=2), every_s=300), state)
    assert incidents(out) == []
    # repaired: on for half an hour of the next night
    _, out = run(dev, series(dev, [80] * 7, start=shanghai(20, day=2), every_s=300), state)
    assert incidents(out) == ["IncidentRecovered"]
