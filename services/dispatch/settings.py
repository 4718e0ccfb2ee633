from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from cityops.settings import CommonSettings


class DispatchSettings(CommonSettings):
    dispatch_web_port: int = 8002
    dispatch_data_dir: Path = Path("var/dispatch")
    dispatch_producer_max_batch_size: int | None = Field(
        default=None,
        description="set 1 on brokers whose ListOffsets(latest) is wrong (Tansu), see docs",
    )
    dispatch_store: Literal["rocksdb", "memory"] = Field(
        default="rocksdb",
        description="table storage: RocksDB on local disk (recovers from its own files, "
        "reading only the changelog written since), or memory (re-reads the changelog)",
    )
    dispatch_commit_interval_s: float = Field(
        default=0.25,
        gt=0,
        description="how often consumed offsets commit: what a restarted worker reads again",
    )
    dispatch_crash_after_table_write: int | None = Field(
        default=None,
        description="fault drills only: exit the process right after the table write of "
        "every Nth command, before its events are sent",
    )
    dispatch_batch_size: int = Field(
        default=200,
        ge=1,
        description="records an agent takes at once: commands decided together and made durable"
        " in three round trips; sources and candidate updates acknowledged together",
    )
    dispatch_ack_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="longest wait for the broker to acknowledge a batch; past it the worker "
        "exits to be restarted (the batch is finished from the outboxes)",
    )
    sla_warn_share: float = Field(default=0.8, gt=0, lt=1)
    sla_scan_interval_s: float = Field(default=30.0, gt=0)
    supervisor_webhook_url: str | None = None
