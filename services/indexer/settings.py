from __future__ import annotations

from cityops.settings import CommonSettings


class IndexerSettings(CommonSettings):
    indexer_health_port: int = 8003
