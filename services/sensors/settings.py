from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from cityops.settings import CommonSettings


class SensorsSettings(CommonSettings):
    sensors_web_port: int = 8004
    sensors_data_dir: Path = Path("var/sensors")
    sensors_store: Literal["rocksdb", "memory"] = Field(
        default="rocksdb",
        description="device state storage: RocksDB on local disk, or memory (re-reads the "
        "changelog on start)",
    )
    sensors_batch_size: int = Field(
        default=500, ge=1, description="readings an agent takes at once, acknowledged together"
    )
    sensors_heartbeat_scan_s: float = Field(
        default=15.0, gt=0, description="how often silent devices are looked for"
    )
    sensors_hotspot_count: int = Field(
        default=3,
        ge=2,
        description="cases of one class at one place within the window that make a hotspot (K)",
    )
    sensors_hotspot_window_days: float = Field(
        default=30.0, gt=0, description="the hotspot window, in days"
    )
    sensors_unknown_wait_s: float = Field(
        default=30.0,
        ge=0,
        description="how long a lately received reading of an unknown device waits for its "
        "registration before it is dead-lettered",
    )
    sensors_ack_timeout_s: float = Field(default=30.0, gt=0)
