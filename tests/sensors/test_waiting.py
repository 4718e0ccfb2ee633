"""The waiting topic's headers (services/sensors/waiting.py)."""

from services.sensors import waiting


def test_a_waiting_reading_is_due_again_later_and_keeps_when_it_was_first_seen() -> None:
    assert dict(waiting.headers(1_000.5, now=2_000.0)) == {
        waiting.NOT_BEFORE: b"2002.000",
        waiting.FIRST_SEEN: b"1000.500",
    }
    assert dict(waiting.headers(None, now=2_000.0)) == {waiting.NOT_BEFORE: b"2002.000"}
