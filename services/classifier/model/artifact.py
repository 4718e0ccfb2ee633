"""Model artifacts on disk: ``<dir>/model.joblib`` and ``<dir>/manifest.json``.

The manifest names the version, the label kind, the training data's SHA-256, the chosen
threshold and the metrics, so every case can say which model routed it and every model
can say what it was trained on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import joblib

MODEL_FILE, MANIFEST_FILE = "model.joblib", "manifest.json"
# Bump when the model code changes what a trained artifact means (features, calibration).
MODEL_FORMAT = "3"


class ArtifactError(RuntimeError):
    """A model directory is missing, incomplete or from an incompatible build."""


@dataclass
class Manifest:
    version: str
    label_kind: Literal["taxonomy", "custom"]
    labels: list[str]
    data_sha256: str
    train_rows: int
    created_at: str
    threshold: float
    threshold_target: float
    sklearn: str
    taxonomy_version: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    # min(1, familiarity / floor) scales the probabilities (model/familiarity.py); 0 = off
    familiarity_floor: float = 0.0
    # where the threshold and the floor came from (model/calibration.py)
    calibration: dict[str, Any] = field(default_factory=dict)


def data_hash(texts: Sequence[str], labels: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(text.encode())
        digest.update(b"\x1f")
        digest.update(label.encode())
        digest.update(b"\x1e")
    return digest.hexdigest()


def save(directory: Path, pipeline: object, manifest: Manifest) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, directory / MODEL_FILE, compress=3)
    (directory / MANIFEST_FILE).write_text(
        json.dumps(asdict(manifest), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def load(directory: Path) -> tuple[object, Manifest]:
    model_path, manifest_path = directory / MODEL_FILE, directory / MANIFEST_FILE
    if not model_path.exists() or not manifest_path.exists():
        raise ArtifactError(
            f"{directory} is not a model directory (needs {MODEL_FILE} and "
            f"{MANIFEST_FILE}); build one with `cityops router train`"
        )
    try:
        manifest = Manifest(**json.loads(manifest_path.read_text(encoding="utf-8")))
        return joblib.load(model_path), manifest
    except Exception as exc:  # unpickling runs foreign code paths: any failure means the same
        raise ArtifactError(
            f"{directory} cannot be loaded by this build ({type(exc).__name__}: {exc}); "
            "retrain it with `cityops router train` or `cityops router retrain`"
        ) from exc


def version_name(data_sha256: str, taxonomy_version: str | None) -> str:
    """A version names its data, the taxonomy it was trained against and the model code."""
    digest = hashlib.sha256(f"{data_sha256}|{taxonomy_version}|{MODEL_FORMAT}".encode()).hexdigest()
    return f"router-{digest[:10]}"
