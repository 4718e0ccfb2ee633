"""A loaded model version, answering with departments and classes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cityops.taxonomy import Taxonomy
from services.classifier.model import artifact
from services.classifier.model.artifact import ArtifactError, Manifest
from services.classifier.model.familiarity import gate
from services.classifier.model.model import RouterModel
from services.classifier.routing import Decision, Ranked, apply_hint, decide

SHIPPED = Path(__file__).resolve().parent.parent / "models"


def shipped_dir() -> Path:
    """The model version named in ``services/classifier/models/CURRENT``."""
    current = SHIPPED / "CURRENT"
    if not current.exists():
        raise ArtifactError(f"no shipped model: {current} is missing")
    return SHIPPED / current.read_text().strip()


class Predictor:
    def __init__(self, model: RouterModel, manifest: Manifest, taxonomy: Taxonomy) -> None:
        self.model, self.manifest = model, manifest
        if manifest.label_kind == "taxonomy":
            unknown = [c for c in manifest.labels if not taxonomy.has_leaf(c)]
            if unknown:
                raise ArtifactError(
                    f"model {manifest.version} knows classes the taxonomy does not: {unknown[:5]}"
                )
            self.mapping = {c: taxonomy.leaf(c).department for c in manifest.labels}
        else:
            self.mapping = {label: label for label in manifest.labels}

    @classmethod
    def load(cls, directory: Path | None, taxonomy: Taxonomy) -> Predictor:
        pipeline, manifest = artifact.load(directory or shipped_dir())
        return cls(RouterModel(pipeline), manifest, taxonomy)  # type: ignore[arg-type]

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def threshold(self) -> float:
        return self.manifest.threshold

    def rank(self, text: str) -> Ranked:
        return self.rank_many([text])[0]

    def rank_many(self, texts: Sequence[str]) -> list[Ranked]:
        """Ranked classes, scaled down for text unlike the training data (familiarity.py)."""
        if not texts:
            return []
        ranked, floor = self.model.rank(texts), self.manifest.familiarity_floor
        if floor <= 0:
            return ranked
        familiar = self.model.familiarity(texts)
        return [gate(r, float(f), floor) for r, f in zip(ranked, familiar, strict=True)]

    def decide(
        self, texts: Sequence[str], hints: Sequence[str | None] | None = None
    ) -> list[Decision]:
        ranked = self.rank_many(texts)
        hints = hints or [None] * len(texts)
        return [decide(apply_hint(r, h), self.mapping) for r, h in zip(ranked, hints, strict=True)]
