"""Pure intake rules: ids, normalisation and acceptance checks. No I/O here."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from cityops.contracts import Actor, GeoPoint, ReportSubmitted, Role, SourceType
from cityops.errors import InvalidMessage
from services.ingest.models import ReportCreate

# uuid5 namespace of cityops report ids; fixed forever, or ids would change.
REPORT_NAMESPACE = uuid.UUID("6d1f8f5e-2f4b-4a43-9a0e-3c1b7c2d9e11")

# A generous box around Shanghai: catches (0, 0) and swapped lat/lon, not town borders.
SERVICE_BOX = (30.6, 31.95, 120.85, 122.25)  # lat_min, lat_max, lon_min, lon_max
MAX_CLOCK_SKEW = timedelta(minutes=10)
MAX_AGE = timedelta(days=30)

_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_ROLE_SOURCE = {Role.GRID_WORKER: SourceType.GRID_WORKER, Role.DISPATCHER: SourceType.HOTLINE_12345}


class RejectedReport(InvalidMessage):
    """The report breaks an intake rule; ``field`` names what to fix."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


def report_id_for(reporter_id: str, idempotency_key: str) -> str:
    """The same reporter sending the same key always gets the same report id."""
    return str(uuid.uuid5(REPORT_NAMESPACE, f"{reporter_id}\x1f{idempotency_key}"))


def clean_text(text: str) -> str:
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


def check_location(lat: float, lon: float) -> None:
    lat_min, lat_max, lon_min, lon_max = SERVICE_BOX
    if not (lat_min <= lat <= lat_max and lon_min <= lon <= lon_max):
        raise RejectedReport("location", f"位置 ({lat}, {lon}) 不在上海市服务范围内，请检查定位")


def check_time(occurred_at: datetime, now: datetime) -> datetime:
    if occurred_at.tzinfo is None:
        raise RejectedReport(
            "occurred_at", "occurred_at 必须带时区，例如 2026-11-28T10:00:00+08:00"
        )
    if occurred_at > now + MAX_CLOCK_SKEW:
        raise RejectedReport("occurred_at", "发生时间晚于当前时间")
    if occurred_at < now - MAX_AGE:
        raise RejectedReport("occurred_at", "发生时间早于 30 天前，请走历史工单导入")
    return occurred_at


def to_event(report: ReportCreate, now: datetime) -> ReportSubmitted:
    """Validate beyond the schema and build the wire record; raises :class:`RejectedReport`."""
    text = clean_text(report.text)
    if not text:
        raise RejectedReport("text", "问题描述不能为空")
    check_location(report.location.lat, report.location.lon)
    occurred = check_time(report.occurred_at, now) if report.occurred_at else now
    reporter = Actor(id=report.who().id, role=report.who().role, name=report.who().name)
    source = report.source_type or _ROLE_SOURCE.get(report.who().role, SourceType.CITIZEN_APP)
    return ReportSubmitted(
        report_id=report_id_for(reporter.id, report.idempotency_key),
        idempotency_key=report.idempotency_key,
        source_type=source,
        text=text,
        location=GeoPoint(lat=report.location.lat, lon=report.location.lon),
        address=clean_text(report.address) if report.address else None,
        category_hint=report.category_hint,
        photos=tuple(str(p) for p in report.photos),
        reporter=reporter,
        occurred_at=occurred,
        received_at=now,
    )
