"""Bulk registration from CSV: text in, devices and per-row refusals out. Pure.

The header names the columns, in any order (UTF-8, an Excel byte-order mark is fine):

- required: ``device_id, type, lat, lon, maintainer``
- optional: ``asset_class, asset_id`` (both or neither), ``interval_s``, ``acoustic_zone``
  (GB 3096 zone ``0 1 2 3 4a 4b``, noise meters only), ``thresholds`` (overrides of the
  type's levels, ``metric:raise/clear`` separated by ``;``, e.g. ``water_depth_cm:20/8``),
  ``api_key`` (a key the device already has, at least 32 characters; stored hashed; leave
  it blank to issue one later).

An unknown or missing column refuses the whole file (a misspelt ``maintainer`` must not be
dropped in silence). Otherwise every row stands alone: a bad row is refused with all its
reasons and the others are registered. A device id repeated in the file, or already
registered, is refused.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from cityops.sensors import Levels
from services.sensors.devices import (
    Asset,
    Catalogues,
    Device,
    DeviceCreate,
    DeviceRefused,
    register,
)
from services.sensors.keys import SALT_BYTES, KeyHash, Pepper, hash_key

REQUIRED = ("device_id", "type", "lat", "lon", "maintainer")
OPTIONAL = ("asset_class", "asset_id", "interval_s", "acoustic_zone", "thresholds", "api_key")
MAX_ROWS = 10_000
NOWHERE = {"lat": 0.0, "lon": 0.0}  # stands in for an unreadable position while validating


@dataclass(frozen=True)
class RowError:
    """One refused row: its line in the file, its device id if it had one, and why."""

    line: int
    device_id: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Imported:
    devices: tuple[Device, ...]
    errors: tuple[RowError, ...]


class RowInvalid(ValueError):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = tuple(reasons)


def parse_thresholds(text: str) -> dict[str, Levels]:
    """``metric:raise/clear;…`` → levels by metric; ValueError on a malformed entry."""
    found: dict[str, Levels] = {}
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        metric, sep, pair = entry.partition(":")
        high, slash, low = pair.partition("/")
        if not (sep and slash and metric.strip()):
            raise ValueError(f"threshold {entry!r} is not metric:raise/clear")
        try:
            found[metric.strip()] = Levels.model_validate(
                {"raise": float(high), "clear": float(low)}
            )
        except ValueError:
            raise ValueError(f"threshold {entry!r}: raise and clear must be numbers") from None
    return found


def _number(row: dict[str, str], column: str, reasons: list[str]) -> float | None:
    text = row.get(column, "").strip()
    try:
        return float(text)
    except ValueError:
        reasons.append(f"{column} {text!r} is not a number")
        return None


def _optional(row: dict[str, str], column: str) -> str | None:
    return row.get(column, "").strip() or None


def _asset(row: dict[str, str], reasons: list[str]) -> Asset | None:
    category, asset_id = _optional(row, "asset_class"), _optional(row, "asset_id")
    if category is None and asset_id is None:
        return None
    if category is None or asset_id is None:
        reasons.append("asset_class and asset_id go together")
        return None
    return Asset(category=category, asset_id=asset_id)


def _interval(row: dict[str, str], reasons: list[str]) -> int | None:
    text = _optional(row, "interval_s")
    if text is None:
        return None
    if not text.isdigit():
        reasons.append(f"interval_s {text!r} is not a whole number of seconds")
        return None
    return int(text)


def _spec(row: dict[str, str]) -> DeviceCreate:
    reasons: list[str] = []
    lat, lon = _number(row, "lat", reasons), _number(row, "lon", reasons)
    thresholds: dict[str, Levels] = {}
    try:
        thresholds = parse_thresholds(row.get("thresholds", ""))
    except ValueError as exc:
        reasons.append(str(exc))
    fields = {
        "device_id": row.get("device_id", "").strip(),
        "type": row.get("type", "").strip(),
        "maintainer": row.get("maintainer", "").strip(),
        "asset": _asset(row, reasons),
        "interval_s": _interval(row, reasons),
        "acoustic_zone": _optional(row, "acoustic_zone"),
        "thresholds": thresholds,
    }
    # validated even when a cell is already wrong, so that the row's every reason is told
    location = {"lat": lat, "lon": lon} if lat is not None and lon is not None else NOWHERE
    try:
        spec = DeviceCreate.model_validate({**fields, "location": location})
    except ValidationError as exc:
        reasons += [_plain(e) for e in exc.errors()]
    if reasons:
        raise RowInvalid(reasons)
    return spec


def _plain(error: ErrorDetails) -> str:
    """A pydantic error as one line: ``field: message``."""
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def _key(row: dict[str, str], pepper: Pepper | None, salts: Callable[[], bytes]) -> KeyHash | None:
    plain = _optional(row, "api_key")
    if plain is None:
        return None
    if pepper is None:
        raise RowInvalid(["api_key given but no key pepper is configured to hash it"])
    try:
        return hash_key(plain, pepper, salts())
    except ValueError as exc:
        raise RowInvalid([str(exc)]) from None


def _header_error(columns: list[str]) -> RowError | None:
    missing = [c for c in REQUIRED if c not in columns]
    unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    reasons = [f"missing column {c!r}" for c in missing]
    reasons += [f"unknown column {c!r}" for c in unknown]
    reasons += [f"repeated column {c!r}" for c in repeated]
    return RowError(1, None, tuple(reasons)) if reasons else None


def parse_devices(
    text: str,
    refs: Catalogues,
    pepper: Pepper | None = None,
    known_ids: Collection[str] = frozenset(),
    salts: Callable[[], bytes] = lambda: secrets.token_bytes(SALT_BYTES),
) -> Imported:
    """The devices a CSV registers, and a :class:`RowError` for every row it cannot."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")), restkey="\0extra")
    columns = [c.strip() for c in reader.fieldnames or []]
    header = _header_error(columns)
    if header is not None:
        return Imported((), (header,))
    reader.fieldnames = columns
    devices: list[Device] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for number, row in enumerate(reader, start=1):
        line = reader.line_num
        if number > MAX_ROWS:
            errors.append(RowError(line, None, (f"more than {MAX_ROWS} rows: split the file",)))
            break
        device_id = (row.get("device_id") or "").strip() or None
        try:
            device = _row(row, refs, pepper, salts, known_ids, first_line)
        except (RowInvalid, DeviceRefused) as exc:
            errors.append(RowError(line, device_id, exc.reasons))
            continue
        first_line[device.device_id] = line
        devices.append(device)
    return Imported(tuple(devices), tuple(errors))


def _row(
    row: dict[str, str],
    refs: Catalogues,
    pepper: Pepper | None,
    salts: Callable[[], bytes],
    known_ids: Collection[str],
    first_line: dict[str, int],
) -> Device:
    if "\0extra" in row or None in row.values():
        raise RowInvalid(["the row has a different number of cells from the header"])
    spec = _spec(row)
    if spec.device_id in known_ids:
        raise RowInvalid([f"device {spec.device_id} is already registered"])
    if spec.device_id in first_line:
        raise RowInvalid([f"device {spec.device_id} repeats line {first_line[spec.device_id]}"])
    return register(spec, refs, api_key=_key(row, pepper, salts))
