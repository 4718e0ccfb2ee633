"""A step's sends stay in the device's state until Kafka has them (services/sensors/outbox.py)."""

from services.sensors import outbox
from services.sensors.state import DeviceState, Unsent, decode, encode

CASE = ("cases.classified", "sensor:wl-1:waterlogging:1", b'{"case": "\xe7\xa7\xaf\xe6\xb0\xb4"}')
SIGNAL = ("cases.commands", "LGABCDEFGHIJKL", b'{"kind": "sensor_signal"}')


def test_a_steps_sends_join_the_outbox_with_the_state_that_decided_them() -> None:
    before = DeviceState("wl-1")
    after = DeviceState("wl-1", faults=1)
    kept, now = outbox.stage(before, after, [CASE], flying=set())
    assert kept == DeviceState("wl-1", faults=1, outbox=(Unsent(*CASE),))
    assert now == [Unsent(*CASE)]
    assert decode(encode(kept)) == kept  # the table's codec keeps them


def test_acknowledged_sends_leave_the_outbox() -> None:
    state = DeviceState("wl-1", outbox=(Unsent(*CASE), Unsent(*SIGNAL)))
    assert outbox.settle(state, {Unsent(*CASE)}).outbox == (Unsent(*SIGNAL),)
    assert outbox.settle(state, {Unsent(*CASE), Unsent(*SIGNAL)}).outbox == ()
    unchanged = DeviceState("wl-1")
    assert outbox.settle(unchanged, {Unsent(*CASE)}) is unchanged


def test_what_a_dead_worker_left_unsent_goes_first_and_once_per_process() -> None:
    left = DeviceState("wl-1", outbox=(Unsent(*CASE),))  # restored after a SIGKILL
    kept, now = outbox.stage(left, left, [SIGNAL], flying=set())
    assert now == [Unsent(*CASE), Unsent(*SIGNAL)]
    assert kept.outbox == (Unsent(*CASE), Unsent(*SIGNAL))
    # another step while both are being sent: neither goes twice, nothing new to send
    again, nothing = outbox.stage(kept, kept, [], flying=set(now))
    assert nothing == [] and again == kept


def test_a_step_with_nothing_to_send_keeps_an_empty_outbox() -> None:
    kept, now = outbox.stage(DeviceState("wl-1"), DeviceState("wl-1", faults=2), [], set())
    assert (kept.outbox, now) == ((), [])
