from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cityops.settings import CommonSettings


class DispatchSettings(CommonSettings):
    dispatch_web_port: int = 8002
    dispatch_data_dir: Path = Path("var/dispatch")
    dispatch_producer_max_batch_size: int | None = Field(
        default=None,
        description="set 1 on brokers whose ListOffsets(latest) is wrong (Tansu), see docs",
    )
    sla_warn_share: float = Field(default=0.8, gt=0, lt=1)
    sla_scan_interval_s: float = Field(default=30.0, gt=0)
    supervisor_webhook_url: str | None = None
