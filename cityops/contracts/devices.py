"""``sensor.devices``: the device registry, one compacted record per device.

The registry's truth is this topic: the API (registration by hand or from CSV) writes a
:class:`DeviceRegistered` keyed by ``device_id``, and the sensors service and the API's
key check read it back. ``retired`` takes a device out of service; its record stays, so a
reading from it is refused with that reason rather than as an unknown device.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field

from cityops.contracts.common import AwareDatetime, GeoPoint, Wire
from cityops.sensors import Levels

DEVICE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"


class KeyHash(Wire):
    """What the registry stores of a device's (or gateway's) API key: never the key."""

    scheme: Literal["hmac-sha256"] = "hmac-sha256"
    pepper_id: str = Field(min_length=1, max_length=32)
    salt: str = Field(pattern=r"^[0-9a-f]{32}$")
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")


class Asset(Wire):
    """The 部件 a device watches: its taxonomy class and the asset's own id."""

    category: str = Field(min_length=1, max_length=16)
    asset_id: str = Field(min_length=1, max_length=64)


class Device(Wire):
    """A registered device, with every default resolved (the rules read nothing else).

    ``gateway_id`` names the gateway allowed to send this device's readings with its own
    key (a gateway is a key holder, not a device: it has a record of its own only in the
    registry's key store)."""

    device_id: str = Field(pattern=DEVICE_ID_PATTERN)
    type: str
    location: GeoPoint
    town: str
    grid: str | None
    maintainer: str
    asset: Asset | None = None
    thresholds: dict[str, Levels] = Field(default_factory=dict)
    acoustic_zone: str | None = None
    interval_s: int = Field(gt=0)
    heartbeat_misses: int = Field(ge=1)
    api_key: KeyHash | None = None
    gateway_id: str | None = Field(default=None, pattern=DEVICE_ID_PATTERN)

    @property
    def silent_after(self) -> timedelta:
        """No reading for this long means the device has gone silent."""
        return timedelta(seconds=self.interval_s * self.heartbeat_misses)


class DeviceRegistered(Wire):
    """``sensor.devices``, keyed by ``device_id``: the device as registered now."""

    schema_version: Literal[1] = 1
    device: Device
    registered_at: AwareDatetime
    retired: bool = False
