"""Evaluating a model version on labelled data: scores, per-class report, confusion matrix,
and the precision and coverage of auto-dispatch at the model's threshold."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sklearn.metrics import classification_report, confusion_matrix

from services.classifier.model.metrics import per_class, scores
from services.classifier.model.predictor import Predictor
from services.classifier.model.threshold import at_threshold
from services.classifier.model.training import DataError, Dataset, Progress


def evaluate(
    predictor: Predictor, data: Dataset, report_dir: Path, progress: Progress
) -> dict[str, Any]:
    report, truth_departments, predicted_departments, predicted = measure(predictor, data)
    report_dir.mkdir(parents=True, exist_ok=True)
    plot = report_dir / "confusion_departments.png"
    plot_confusion(truth_departments, predicted_departments, plot)
    report["confusion_matrix_png"] = str(plot)
    (report_dir / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    progress(f"report written to {report_dir}")
    report["text_report"] = classification_report(data.labels, predicted, zero_division=0)
    return report


def measure(
    predictor: Predictor, data: Dataset
) -> tuple[dict[str, Any], list[str], list[str], list[str]]:
    """Scores at the data's label level and at the department level, and auto-dispatch."""
    decisions = predictor.decide(data.texts)
    known_labels, departments = set(predictor.manifest.labels), set(predictor.mapping.values())
    if set(data.labels) <= known_labels:
        level, predicted = "label", [d.category for d in decisions]
        truth_departments = [predictor.mapping[label] for label in data.labels]
    elif set(data.labels) <= departments:
        level, predicted = "department", [d.department for d in decisions]
        truth_departments = list(data.labels)
    else:
        unknown = sorted(set(data.labels) - known_labels - departments)[:10]
        raise DataError(f"labels the model does not know: {unknown}")
    correct = [d.department == t for d, t in zip(decisions, truth_departments, strict=True)]
    auto = at_threshold([d.confidence for d in decisions], correct, predictor.threshold)
    report: dict[str, Any] = {
        "model_version": predictor.version,
        "examples": len(data),
        "level": level,
        **scores(data.labels, predicted),
        "department": scores(truth_departments, [d.department for d in decisions]),
        "auto_dispatch": {
            "threshold": predictor.threshold,
            "precision": round(auto.precision, 4),
            "coverage": round(auto.coverage, 4),
        },
        "per_class": per_class(data.labels, predicted),
    }
    return report, truth_departments, [d.department for d in decisions], predicted


def plot_confusion(truth: Sequence[str], predicted: Sequence[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted(set(truth) | set(predicted))
    matrix = confusion_matrix(truth, predicted, labels=labels)
    size = max(6.0, len(labels) * 0.42)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    for i in range(len(labels)):
        for j in range(len(labels)):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(matrix[i, j]),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black",
                )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
