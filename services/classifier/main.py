"""``cityops serve classifier``: consume reports, publish classified sources."""

from __future__ import annotations

import asyncio

from cityops import jurisdiction, logs, runtime, taxonomy
from cityops.kafka import per_record
from services.classifier.handler import ClassifyReports
from services.classifier.routing import KeywordScorer, Scorer
from services.classifier.settings import ClassifierSettings


def load_scorer(settings: ClassifierSettings) -> Scorer:
    return KeywordScorer(taxonomy.load())


def build(settings: ClassifierSettings) -> runtime.ConsumerService:
    handler = ClassifyReports(
        topics=settings.topics,
        scorer=load_scorer(settings),
        taxonomy=taxonomy.load(),
        places=jurisdiction.load(),
        threshold=settings.auto_dispatch_threshold,
    )
    return runtime.ConsumerService(
        name="classifier",
        settings=settings,
        topics=[settings.topics.reports_submitted],
        handler=per_record(handler),
        health_port=settings.classifier_health_port,
    )


def main(settings: ClassifierSettings | None = None) -> None:
    settings = settings or ClassifierSettings()
    logs.setup("classifier", settings.log_level)
    asyncio.run(runtime.run(build(settings)))
