"""The device registry API and the HTTP intake of sensor readings (docs/sensors.md)."""
