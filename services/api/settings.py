from __future__ import annotations

from pydantic import Field

from cityops.settings import CommonSettings


class ApiSettings(CommonSettings):
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # 413 above this
