from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from cityops.contracts.devices import KeyHash
from cityops.settings import CommonSettings
from services.sensors.keys import MIN_PEPPER_BYTES, Pepper


class ApiSettings(CommonSettings):
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # 413 above this
    admin_token: SecretStr | None = Field(
        default=None, description="X-Admin-Token the device registry routes require; unset: open"
    )
    sensor_key_pepper: SecretStr | None = Field(
        default=None, description="server secret in every device key hash; unset: no keys"
    )
    sensor_key_pepper_id: str = Field(default="p1", min_length=1, max_length=32)
    sensor_gateway_keys: dict[str, KeyHash] = Field(
        default_factory=dict, description="gateway id → key hash (JSON)"
    )
    sensor_rate_per_s: float = Field(default=100.0, gt=0, description="readings per key")
    sensor_burst: int = Field(default=1000, ge=1, description="readings a key may send at once")
    lag_scrape_s: float = Field(default=15.0, gt=0, description="consumer lag read every N s")

    @field_validator("sensor_key_pepper")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_PEPPER_BYTES:
            raise ValueError(f"the key pepper needs at least {MIN_PEPPER_BYTES} bytes")
        return value

    def key_pepper(self) -> Pepper | None:
        if self.sensor_key_pepper is None:
            return None
        return Pepper(self.sensor_key_pepper_id, self.sensor_key_pepper.get_secret_value().encode())
