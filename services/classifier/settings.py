from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cityops.settings import CommonSettings


class ClassifierSettings(CommonSettings):
    classifier_health_port: int = 8001
    classifier_model_dir: Path | None = Field(
        default=None, description="a model version directory; unset uses the shipped model"
    )
    classifier_keywords_only: bool = Field(
        default=False, description="route by taxonomy keywords instead of the trained model"
    )
    auto_dispatch_threshold: float | None = Field(
        default=None, ge=0, le=1, description="unset uses the threshold chosen at training"
    )
