"""Learning from dispatchers: train a new version with their corrections, compare it with
the current version on the same held-out data, promote it only if it is not worse.

``<models_dir>/CURRENT`` names the promoted version; ``<models_dir>/versions.jsonl`` logs
every version built, its metrics, and whether it was promoted.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cityops import taxonomy
from services.classifier import real_text
from services.classifier.evaluation import measure
from services.classifier.model import artifact
from services.classifier.model.predictor import Predictor
from services.classifier.model.training import Dataset, Progress, read_csv, train


def not_worse(new: dict[str, Any], current: dict[str, Any]) -> bool:
    return all(new["department"][m] >= current["department"][m] for m in ("accuracy", "macro_f1"))


def not_worse_real(new: dict[str, Any], current: dict[str, Any]) -> bool:
    """On every real report half: topic accuracy not lower, and no larger share of messages
    auto-dispatched to the wrong place. (Precision alone would reward a model that
    dispatches fewer messages as much as one that dispatches them better, and the precision
    of a few dozen messages is noise.)"""
    return all(
        new[name]["topic_accuracy"] >= old["topic_accuracy"]
        and new[name]["auto_dispatch"]["misrouted"] <= old["auto_dispatch"]["misrouted"]
        for name, old in current.items()
        if name in new
    )


def retrain(
    base: list[Path],
    corrections: list[Path],
    holdout: list[Path],
    models_dir: Path,
    seed: int,
    progress: Progress,
    real_dir: Path | None = None,
) -> dict[str, Any]:
    """``real_dir`` (default: real_text.real_dir(), skipped when absent) calibrates the
    threshold on its calibration halves and must not get worse on its report halves."""
    tax = taxonomy.load()
    sets, topics = real_text.real_sets(real_dir), real_text.topic_map()
    data = read_csv(base, "text", "category")
    if corrections:
        extra = read_csv(corrections, "text", "label")
        data = Dataset(data.texts + extra.texts, data.labels + extra.labels)
        progress(f"{len(extra)} corrections added to {len(data) - len(extra)} base examples")
    held = read_csv(holdout, "text", "category")
    version = artifact.version_name(artifact.data_hash(data.texts, data.labels), tax.version)
    real = real_text.calibration_check(sets, topics)
    model, manifest = train(data, tax, version, seed, progress, real=real)
    candidate = Predictor(model, manifest, tax)
    new_scores = _summary(measure(candidate, held)[0])
    new_real = real_text.report_measure(candidate, sets, topics)
    current_file = models_dir / "CURRENT"
    current_scores, current_version, current_real = None, None, None
    if current_file.exists():
        current_version = current_file.read_text().strip()
        current = Predictor.load(models_dir / current_version, tax)
        current_scores = _summary(measure(current, held)[0])
        current_real = real_text.report_measure(current, sets, topics)
    promoted = current_scores is None or (
        not_worse(new_scores, current_scores) and not_worse_real(new_real, current_real or {})
    )
    manifest.metrics["holdout"] = new_scores
    if new_real:
        manifest.metrics["real_report"] = new_real
    artifact.save(models_dir / version, model.pipeline, manifest)
    if promoted:
        current_file.write_text(version + "\n")
    entry = {
        "version": version,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_sha256": manifest.data_sha256,
        "train_rows": len(data),
        "holdout": new_scores,
        "compared_with": current_version,
        "compared_holdout": current_scores,
        "real_report": new_real,
        "compared_real_report": current_real,
        "promoted": promoted,
    }
    with (models_dir / "versions.jsonl").open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False) + "\n")
    progress(f"{version}: {'promoted' if promoted else 'kept ' + str(current_version)}")
    return entry


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    return {
        k: report[k] for k in ("examples", "accuracy", "macro_f1", "department", "auto_dispatch")
    }
