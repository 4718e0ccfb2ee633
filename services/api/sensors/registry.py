"""Registering, importing and retiring devices: checked, keyed, written to ``sensor.devices``.

Errors::

    RegistryError
    ├── DeviceExists      409: the id is taken and replacing was not asked for
    ├── DeviceNotFound    404
    └── KeysUnavailable   503: no key pepper is configured, so no key can be issued
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime

from cityops.contracts import Topics
from cityops.contracts.devices import Device, DeviceRegistered, KeyHash
from cityops.errors import CityopsError, DependencyUnavailable
from cityops.kafka import BackgroundProducer, encode
from services.api.sensors.directory import Directory, Entry
from services.api.sensors.models import (
    DeviceRegister,
    GatewayIssued,
    ImportAnswer,
    ImportRow,
)
from services.sensors import keys
from services.sensors.devices import Catalogues, register
from services.sensors.keys import Pepper
from services.sensors.registry_csv import RowError, parse_devices


class RegistryError(CityopsError):
    pass


class DeviceExists(RegistryError):
    pass


class DeviceNotFound(RegistryError):
    pass


class KeysUnavailable(RegistryError):
    pass


class FileRefused(RegistryError):
    def __init__(self, reasons: tuple[str, ...]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class RegistryService:
    def __init__(
        self,
        producer: BackgroundProducer,
        topics: Topics,
        directory: Directory,
        loaded: asyncio.Event,
        refs: Catalogues,
        pepper: Pepper | None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.producer, self.topics, self.directory = producer, topics, directory
        self.loaded, self.refs, self.pepper, self.now = loaded, refs, pepper, now

    def get(self, device_id: str) -> Entry:
        entry = self.directory.get(device_id)
        if entry is None:
            raise DeviceNotFound(f"未找到设备 {device_id}")
        return entry

    async def register(self, body: DeviceRegister, replace: bool) -> tuple[Entry, str | None]:
        """Register (or replace) one device; the clear key if one was issued.

        Raises :class:`DeviceRefused` with every reason, :class:`DeviceExists`,
        :class:`KeysUnavailable` and :class:`DependencyUnavailable`."""
        self._check_loaded()
        old = self.directory.get(body.device_id)
        if old is not None and not replace:
            raise DeviceExists(f"设备 {body.device_id} 已登记；要替换请加 ?replace=true")
        device = register(body.spec(), self.refs)
        wants_key = body.issue_key if body.issue_key is not None else old is None
        plain, key = self._issue() if wants_key else (None, old.device.api_key if old else None)
        entry = await self._write(device.model_copy(update={"api_key": key}), retired=False)
        return entry, plain

    async def import_csv(self, text: str) -> ImportAnswer:
        """Register every good row of a CSV file; every bad one is told with its line."""
        self._check_loaded()
        imported = parse_devices(text, self.refs, self.pepper, known_ids=self.directory.ids())
        if any(e.line == 1 for e in imported.errors):  # the header: the whole file is refused
            raise FileRefused(tuple(r for e in imported.errors for r in e.reasons))
        refused = [_refused_row(e) for e in imported.errors]
        lines = _lines(text, {e.line for e in imported.errors})
        rows = []
        for device in imported.devices:
            plain = None
            if device.api_key is None and self.pepper is not None:
                plain, key = self._issue()
                device = device.model_copy(update={"api_key": key})
            await self._write(device, retired=False)
            line = lines.get(device.device_id, 0)
            rows.append(
                ImportRow(line=line, device_id=device.device_id, status="registered", api_key=plain)
            )
        results = sorted(rows + refused, key=lambda r: r.line)
        return ImportAnswer(registered=len(rows), refused=len(refused), results=results)

    async def retire(self, device_id: str) -> Entry:
        self._check_loaded()
        entry = self.get(device_id)
        return entry if entry.retired else await self._write(entry.device, retired=True)

    def issue_gateway(self, gateway_id: str) -> GatewayIssued:
        plain, key = self._issue()
        entry = json.dumps({gateway_id: key.model_dump(mode="json")}, separators=(",", ":"))
        setting = f"CITYOPS_SENSOR_GATEWAY_KEYS={entry}"
        return GatewayIssued(gateway_id=gateway_id, api_key=plain, key_hash=key, setting=setting)

    def _check_loaded(self) -> None:
        if not self.loaded.is_set():
            raise DependencyUnavailable("设备目录尚在加载")

    def _issue(self) -> tuple[str, KeyHash]:
        if self.pepper is None:
            raise KeysUnavailable("未配置设备密钥 pepper（CITYOPS_SENSOR_KEY_PEPPER），无法签发")
        return keys.issue(self.pepper)

    async def _write(self, device: Device, retired: bool) -> Entry:
        record = DeviceRegistered(device=device, registered_at=self.now(), retired=retired)
        await self.producer.send_and_wait(
            self.topics.sensor_devices, encode(record), key=device.device_id.encode()
        )
        self.directory.apply_written(record)
        return Entry(device, retired, record.registered_at)


def _refused_row(error: RowError) -> ImportRow:
    return ImportRow(
        line=error.line, device_id=error.device_id, status="refused", reasons=list(error.reasons)
    )


def _lines(text: str, refused: set[int]) -> dict[str, int]:
    """The line each registered device came from: its id's first row not refused."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    reader.fieldnames = [c.strip() for c in reader.fieldnames or []]
    found: dict[str, int] = {}
    for row in reader:
        device_id = (row.get("device_id") or "").strip()
        if reader.line_num not in refused:
            found.setdefault(device_id, reader.line_num)
    return found
