"""One reading of a batch, judged on what the API can know. Pure.

The API refuses a reading that does not fit the contract, is for a device it does not know
or has retired, is not one the key may send, or names another type than the device's.
Duplicates, lateness and ranges are the stream processor's (``services/sensors/refusals.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from cityops.contracts import SensorReading
from cityops.contracts.devices import Device
from services.api.sensors.directory import Entry


class Refusal(StrEnum):
    """Why the API refuses a reading (a bounded set: it labels a metric)."""

    MALFORMED = "malformed"
    UNKNOWN_DEVICE = "unknown_device"
    NOT_AUTHORISED = "not_authorised"
    DEVICE_RETIRED = "device_retired"
    WRONG_TYPE = "wrong_type"


@dataclass(frozen=True, slots=True)
class Verdict:
    index: int
    reading_id: str | None
    reading: SensorReading | None  # None when refused
    authorised: bool  # the key may send for the device this item names
    reason: Refusal | None = None
    detail: str | None = None


def _text(item: dict[str, Any], field: str) -> str | None:
    value = item.get(field)
    return value if isinstance(value, str) else None


def _parse(item: dict[str, Any], now: datetime) -> SensorReading | str:
    """The reading, with ``received_at`` now if absent, or why it does not parse."""
    if item.get("received_at") is None:
        item = {**item, "received_at": now}
    try:
        return SensorReading.model_validate(item)
    except ValidationError as exc:
        parts = [f"{'.'.join(map(str, e['loc'])) or 'reading'}: {e['msg']}" for e in exc.errors()]
        return "; ".join(parts[:3])


def judge(
    index: int,
    item: dict[str, Any],
    now: datetime,
    find: Callable[[str], Entry | None],
    authorises: Callable[[Device], bool],
) -> Verdict:
    """Accept or refuse one item of a batch; ``authorised`` is told either way."""
    device_id, reading_id = _text(item, "device_id"), _text(item, "reading_id")
    entry = find(device_id) if device_id is not None else None
    allowed = entry is not None and authorises(entry.device)

    def refuse(reason: Refusal, detail: str) -> Verdict:
        return Verdict(index, reading_id, None, allowed, reason, detail)

    parsed = _parse(item, now)
    if isinstance(parsed, str):
        return refuse(Refusal.MALFORMED, parsed)
    if entry is None:
        return refuse(Refusal.UNKNOWN_DEVICE, f"未登记的设备 {parsed.device_id}")
    if not allowed:
        return refuse(Refusal.NOT_AUTHORISED, f"该密钥无权发送设备 {parsed.device_id} 的读数")
    if entry.retired:
        return refuse(Refusal.DEVICE_RETIRED, f"设备 {parsed.device_id} 已退役")
    if parsed.device_type != entry.device.type:
        detail = f"设备 {parsed.device_id} 登记为 {entry.device.type}，不是 {parsed.device_type}"
        return refuse(Refusal.WRONG_TYPE, detail)
    return Verdict(index, reading_id, parsed, allowed)
