"""Silent devices: no reading for ``interval × heartbeat_misses`` is a device fault.

A fault is for the device's maintainer, not a city incident. Liveness is judged on
``received_at`` (the platform's clock when the reading arrived), not on the device's own
``observed_at``: a timer compares it with its own clock, and a device whose clock is wrong is
still heard. Every reading heard from the device, even one later refused as late, proves it
alive; a malformed record proves nothing (its device id cannot be trusted).

The state keeps ``silent_at``, the instant the device becomes overdue, so a timer can index
devices by what is due and call :func:`due` only for those.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from cityops.sensors import Catalogue
from services.sensors.devices import Device
from services.sensors.state import DeviceState


@dataclass(frozen=True, slots=True)
class DeviceFault:
    """The device went silent: tell its maintainer."""

    device_id: str
    number: int  # faults of this device so far, from 1: a stable id for the notification
    last_received_at: datetime | None
    silent_at: datetime
    detected_at: datetime


@dataclass(frozen=True, slots=True)
class DeviceBack:
    """A silent device was heard from again: its fault ``number`` is over."""

    device_id: str
    number: int
    at: datetime


def fresh(device: Device, since: datetime) -> DeviceState:
    """The state of a device registered (or first tracked) at ``since``: it is due to be
    heard from by ``since + silent_after``, so a device that never reports is found too."""
    return DeviceState(device.device_id, silent_at=since + device.silent_after)


def heard(
    state: DeviceState, received_at: datetime, device: Device
) -> tuple[DeviceState, list[DeviceBack]]:
    """The state after hearing from the device at ``received_at``."""
    last = state.last_received_at
    last = received_at if last is None or received_at > last else last
    back = [DeviceBack(state.device_id, state.faults, received_at)] if state.fault_open else []
    new = replace(
        state, last_received_at=last, silent_at=last + device.silent_after, fault_open=False
    )
    return new, back


def due(state: DeviceState, now: datetime) -> tuple[DeviceState, list[DeviceFault]]:
    """At ``now``, a fault if the device is overdue and not already reported silent."""
    if state.fault_open or state.silent_at is None or now < state.silent_at:
        return state, []
    number = state.faults + 1
    fault = DeviceFault(state.device_id, number, state.last_received_at, state.silent_at, now)
    return replace(state, fault_open=True, faults=number), [fault]


def fault_text(fault: DeviceFault, device: Device, catalogue: Catalogue) -> str:
    """The maintainer's notice, e.g. "设备 wl-1（道路积水监测仪）已 5 分钟未上报数据…"."""
    since = fault.last_received_at or fault.silent_at - device.silent_after
    return catalogue.fault_text.format(
        device_id=device.device_id,
        type_name=catalogue.type(device.type).name,
        silent_min=round((fault.detected_at - since).total_seconds() / 60),
        maintainer=device.maintainer,
    )
