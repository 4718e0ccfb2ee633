"""Sensors: the device registry and the rules that turn readings into incidents.

Pure code for now (docs/sensors.md says what is built and what is not yet wired):

- :mod:`keys` — device API keys, stored hashed;
- :mod:`devices` — a device as registered, resolved against the catalogues;
- :mod:`registry_csv` — bulk registration from CSV, with a reason for every refused row;
- :mod:`refusals` — why a reading is refused (dead-lettered) or skipped;
- :mod:`thresholds` — the levels in force for a device at an instant (zone, day/night);
- :mod:`window` — one condition's bounded event-time window of readings;
- :mod:`state` — a device's bounded state, and its codec;
- :mod:`incidents` — incident outputs, their Chinese texts and case sources;
- :mod:`heartbeat` — silent devices (device faults for the maintainer);
- :mod:`rules` — ``step``: one reading through one rule.
"""
