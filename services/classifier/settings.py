from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cityops.settings import CommonSettings


class ClassifierSettings(CommonSettings):
    classifier_health_port: int = 8001
    classifier_model_dir: Path | None = Field(
        default=None, description="a trained model version; unset uses the keyword router"
    )
    auto_dispatch_threshold: float = Field(default=0.6, ge=0, le=1)
