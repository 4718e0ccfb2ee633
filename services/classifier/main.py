"""``cityops serve classifier``: consume reports, publish classified sources."""

from __future__ import annotations

import asyncio
import logging

from cityops import jurisdiction, logs, runtime, taxonomy
from services.classifier.handler import ClassifyReports, Router
from services.classifier.model.artifact import ArtifactError
from services.classifier.model.predictor import Predictor
from services.classifier.routing import KeywordScorer, Scorer
from services.classifier.settings import ClassifierSettings

log = logging.getLogger(__name__)


def load_scorer(settings: ClassifierSettings) -> tuple[Scorer, float]:
    """The scorer and its auto-dispatch threshold. A model that cannot load stops the
    service at start, with the reason, rather than routing with something else."""
    if settings.classifier_keywords_only:
        return KeywordScorer(taxonomy.load()), settings.auto_dispatch_threshold or 0.6
    predictor = Predictor.load(settings.classifier_model_dir, taxonomy.load())
    if predictor.manifest.label_kind != "taxonomy":
        raise ArtifactError(
            f"{predictor.version} is not a taxonomy model; the service "
            "needs one whose labels are taxonomy classes"
        )
    log.info(
        "model loaded", extra={"model_version": predictor.version, "threshold": predictor.threshold}
    )
    return predictor, settings.auto_dispatch_threshold or predictor.threshold


def build(settings: ClassifierSettings) -> runtime.ConsumerService:
    scorer, threshold = load_scorer(settings)
    router = Router(scorer, taxonomy.load(), jurisdiction.load(), threshold)
    return runtime.ConsumerService(
        name="classifier",
        settings=settings,
        topics=[settings.topics.reports_submitted],
        handler=ClassifyReports(settings.topics, router),
        health_port=settings.classifier_health_port,
    )


def main(settings: ClassifierSettings | None = None) -> None:
    settings = settings or ClassifierSettings()
    logs.setup("classifier", settings.log_level)
    asyncio.run(runtime.run(build(settings)))
