"""The registry and intake API's own shapes; the wire models stay in ``cityops.contracts``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from cityops.contracts.devices import DEVICE_ID_PATTERN, Device, KeyHash
from services.sensors.devices import DeviceCreate

MAX_BATCH = 1000


class DeviceRegister(DeviceCreate):
    """``DeviceCreate`` and whether to issue a key: by default a new device gets one and a
    replaced device keeps its own."""

    issue_key: bool | None = None

    def spec(self) -> DeviceCreate:
        return DeviceCreate.model_validate(self.model_dump(exclude={"issue_key"}))


class DevicePublic(BaseModel):
    """A device as the API shows it: never its key hash, only whether it has a key."""

    device: dict[str, Any]
    has_key: bool
    retired: bool
    fault_open: bool
    registered_at: datetime

    @classmethod
    def of(
        cls, device: Device, *, retired: bool, fault_open: bool, registered_at: datetime
    ) -> DevicePublic:
        return cls(
            device=device.model_dump(mode="json", exclude={"api_key"}),
            has_key=device.api_key is not None,
            retired=retired,
            fault_open=fault_open,
            registered_at=registered_at,
        )


class DeviceIssued(BaseModel):
    """The answer to a registration: ``api_key`` is shown this once, never again."""

    device: DevicePublic
    api_key: str | None = None


class ImportRow(BaseModel):
    line: int
    device_id: str | None
    status: Literal["registered", "refused"]
    reasons: list[str] = Field(default_factory=list)
    api_key: str | None = None  # a key issued for this row, shown this once


class ImportAnswer(BaseModel):
    registered: int
    refused: int
    results: list[ImportRow]


class GatewayCreate(BaseModel):
    gateway_id: str = Field(pattern=DEVICE_ID_PATTERN)


class GatewayIssued(BaseModel):
    """A new gateway key: ``api_key`` for the gateway, ``key_hash`` for the configuration."""

    gateway_id: str
    api_key: str
    key_hash: KeyHash
    setting: str


class ReadingBatch(BaseModel):
    """Readings are checked one by one (a bad one refuses only itself), so they arrive as
    plain objects here."""

    readings: list[dict[str, Any]] = Field(min_length=1)


class ReadingResult(BaseModel):
    index: int
    reading_id: str | None
    status: Literal["accepted", "refused"]
    reason: str | None = None
    detail: str | None = None


class BatchAnswer(BaseModel):
    accepted: int
    refused: int
    results: list[ReadingResult]
