"""Topic names, and how each topic is keyed.

Every record of one case is keyed by its case id, every sensor reading by its
device id, every source record by its own id, so that the events of one entity
stay in order on one partition.
"""

from __future__ import annotations

from dataclasses import dataclass

REPORTS_SUBMITTED = "reports.submitted"
SENSOR_READINGS = "sensor.readings"
SENSOR_DEVICES = "sensor.devices"  # the device registry, compacted: latest record per device
SENSOR_NOTICES = "sensor.notices"  # device faults and returns, for maintainers
PEOPLE_USERS = "people.users"  # user accounts, compacted: latest record per user
CASES_CLASSIFIED = "cases.classified"
CASES_COMMANDS = "cases.commands"
CASES_EVENTS = "cases.events"
CASES_OUTCOMES = "cases.outcomes"

# One dead-letter topic per consumer group: the records that consumer could not process.
CONSUMERS = ("classifier", "dispatch", "indexer", "sensors")

# Topics that keep only the latest record per key (cleanup.policy=compact).
COMPACTED = frozenset({SENSOR_DEVICES, PEOPLE_USERS})

KEYS = {
    REPORTS_SUBMITTED: "report_id",
    SENSOR_READINGS: "device_id",
    SENSOR_DEVICES: "device_id",
    SENSOR_NOTICES: "device_id",
    PEOPLE_USERS: "user_id",
    CASES_CLASSIFIED: "source.source_id",
    CASES_COMMANDS: "case_id",
    CASES_EVENTS: "case_id",
    CASES_OUTCOMES: "case_id",
}


def dead_letter_name(consumer: str) -> str:
    return f"deadletter.{consumer}"


@dataclass(frozen=True)
class Topics:
    """Resolved topic names under an optional prefix (tests isolate themselves with one)."""

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def reports_submitted(self) -> str:
        return self.name(REPORTS_SUBMITTED)

    @property
    def sensor_readings(self) -> str:
        return self.name(SENSOR_READINGS)

    @property
    def sensor_devices(self) -> str:
        return self.name(SENSOR_DEVICES)

    @property
    def sensor_notices(self) -> str:
        return self.name(SENSOR_NOTICES)

    @property
    def people_users(self) -> str:
        return self.name(PEOPLE_USERS)

    @property
    def cases_classified(self) -> str:
        return self.name(CASES_CLASSIFIED)

    @property
    def cases_commands(self) -> str:
        return self.name(CASES_COMMANDS)

    @property
    def cases_events(self) -> str:
        return self.name(CASES_EVENTS)

    @property
    def cases_outcomes(self) -> str:
        return self.name(CASES_OUTCOMES)

    def dead_letter(self, consumer: str) -> str:
        if consumer not in CONSUMERS:
            raise ValueError(f"unknown consumer {consumer!r}")
        return self.name(dead_letter_name(consumer))

    def all(self) -> list[str]:
        base = [
            REPORTS_SUBMITTED,
            SENSOR_READINGS,
            SENSOR_DEVICES,
            SENSOR_NOTICES,
            PEOPLE_USERS,
            CASES_CLASSIFIED,
            CASES_COMMANDS,
            CASES_EVENTS,
            CASES_OUTCOMES,
        ]
        return [self.name(t) for t in base] + [self.dead_letter(c) for c in CONSUMERS]
