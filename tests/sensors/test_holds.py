"""A device's readings queue behind those waiting for its registration (sensors/holds.py)."""

from services.sensors import holds
from services.sensors.holds import Hold

WAIT_S = 30.0


def test_an_unknown_devices_readings_start_a_hold_that_ends_with_the_newest_wait() -> None:
    hold = holds.unknown(None, first_seen=100.0, wait_s=WAIT_S)
    assert hold == Hold(1, 130.0)
    hold = holds.unknown(hold, first_seen=104.0, wait_s=WAIT_S)
    assert hold == Hold(2, 134.0)
    assert holds.active(hold, now=133.9)
    assert not holds.active(hold, now=134.0)  # a count left over by a replay ends here


def test_a_known_devices_reading_queues_without_moving_the_end() -> None:
    hold = holds.queued(Hold(1, 130.0))
    assert hold == Hold(2, 130.0)


def test_the_hold_ends_when_every_waiting_reading_has_come_back() -> None:
    hold: Hold | None = Hold(2, 130.0)
    hold = holds.returned(hold)
    assert holds.active(hold, now=110.0)
    hold = holds.returned(hold)
    assert hold == Hold(0, 130.0)
    assert not holds.active(hold, now=110.0)
    assert holds.returned(None) is None  # a reading that waited before any hold was kept


def test_a_reading_sent_back_to_wait_counts_once() -> None:
    # it came back (one fewer) and, still unknown, waits again (one more)
    hold = holds.unknown(holds.returned(Hold(1, 130.0)), first_seen=100.0, wait_s=WAIT_S)
    assert hold == Hold(1, 130.0)


def test_the_codec_round_trips_and_reads_nothing_as_no_hold() -> None:
    hold = Hold(3, 1_764_633_600.125)
    assert holds.decode(holds.encode(hold)) == hold
    assert holds.decode(None) is None
    assert holds.decode(b"") is None
