"""The settings base every service extends.

Each service declares one ``Settings`` subclass, builds it once in ``main`` and passes
it down. Nothing here reads the environment at import time: values are read when a
settings object is constructed. All variables share the ``CITYOPS_`` prefix so that one
environment configures every service (see README, Configuration).
"""

from __future__ import annotations

import socket

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from cityops.contracts.topics import Topics


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYOPS_", extra="ignore")

    kafka_bootstrap: str = Field(default="127.0.0.1:19092", description="host:port[,host:port]")
    kafka_session_timeout_ms: int = Field(default=10_000, ge=6_000)
    kafka_heartbeat_interval_ms: int = Field(default=2_000, ge=100)
    kafka_idempotence: bool = Field(
        default=True, description="idempotent producer; turn off for brokers without it"
    )
    topic_prefix: str = ""
    topic_partitions: int = Field(default=3, ge=1)
    topic_replication: int = Field(default=1, ge=1)

    es_url: str = "http://127.0.0.1:19200"
    es_username: str | None = None
    es_password: SecretStr | None = None
    index_prefix: str = "cityops"

    log_level: str = "INFO"
    health_host: str = "127.0.0.1"
    instance_id: str = Field(
        default_factory=socket.gethostname,
        description="stable per worker process: Kafka static membership, so a restarted "
        "worker takes its partitions back at once instead of waiting for a rebalance",
    )

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)
