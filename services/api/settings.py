from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from cityops.contracts.devices import KeyHash
from cityops.settings import CommonSettings
from services.sensors.keys import MIN_PEPPER_BYTES, Pepper


class ApiSettings(CommonSettings):
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # 413 above this
    # (photo uploads have their own limit, photo_max_bytes, per file)
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
    auth_secret: SecretStr | None = Field(
        default=None,
        description="signs the API's tokens (≥ 32 bytes); unset: a random one per process",
    )
    access_token_ttl_s: int = Field(default=900, ge=60, description="access token lifetime")
    refresh_token_ttl_s: int = Field(default=12 * 3600, ge=300, description="refresh lifetime")
    login_attempts: int = Field(default=5, ge=1, description="failed logins per account burst")
    login_window_s: float = Field(default=300.0, gt=0, description="…refilled over this time")
    oidc_issuer: str | None = Field(
        default=None, description="an external OpenID provider replaces the local login"
    )
    oidc_audience: str = "cityops-api"
    oidc_jwks_url: str | None = None
    photo_dir: str = Field(default="var/photos", description="local photo store directory")
    photo_max_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, description="per photo")
    photo_s3_endpoint: str | None = Field(
        default=None, description="S3-compatible store (MinIO); unset: the local directory"
    )
    photo_s3_bucket: str = "cityops-photos"
    photo_s3_access_key: str | None = None
    photo_s3_secret_key: SecretStr | None = None
    frontend_dir: str | None = Field(
        default=None,
        description="the screens (frontend/ with node_modules); unset: the repository's",
    )
    map_tile_url: str | None = Field(
        default=None,
        description="map tiles for the screens ({z}/{x}/{y}); unset: grids on a blank map",
    )
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
