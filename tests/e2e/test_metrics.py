"""Every service's ``/metrics`` answers a real scrape in Prometheus' text format, each
service exposes the metrics the boards and alert rules use (docs/architecture.md,
"Metrics"), and they move when a report (and two unusable records) go through."""

from __future__ import annotations

import functools

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from cityctl.simulate import reports
from cityops import jurisdiction, taxonomy
from cityops.contracts import Role
from tests.e2e.conftest import Stack
from tests.integration.conftest import eventually

pytestmark = pytest.mark.e2e

EXPECTED: dict[str, list[str]] = {
    "api": [
        "cityops_http_requests_total",
        "cityops_http_request_duration_seconds",
        "cityops_reports_accepted_total",
        "cityops_sensor_readings_received_total",
        "cityops_consumer_lag_records",
        "cityops_consumer_lag_scrape_errors_total",
    ],
    "classifier": [
        "cityops_classifier_latency_seconds",
        "cityops_classifier_confidence",
        "cityops_classifier_decisions_total",
        "cityops_dead_letters_total",
    ],
    "dispatch": [
        "cityops_commands_total",
        "cityops_case_events_total",
        "cityops_cases_open",
        "cityops_deadline_alerts_total",
        "cityops_dead_letters_total",
        "cityops_report_to_case_seconds",
    ],
    "indexer": ["cityops_dead_letters_total"],
    "sensors": [
        "cityops_sensor_readings_processed_total",
        "cityops_sensor_readings_refused_total",
        "cityops_sensor_incidents_total",
        "cityops_device_notices_total",
        "cityops_hotspots_total",
        "cityops_dead_letters_total",
    ],
}


def scrape_text(port: int) -> str:
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text[:300]
    media_type, *params = (p.strip() for p in answer.headers["content-type"].split(";"))
    assert media_type == "text/plain" and any(p.startswith("version=") for p in params), params
    return answer.text


def samples_of(port: int) -> list[Sample]:
    """Every sample, parsed by Prometheus' own parser."""
    return [s for f in text_string_to_metric_families(scrape_text(port)) for s in f.samples]


def names_of(port: int) -> set[str]:
    """Every metric name the scrape declares (``# TYPE``), with or without samples."""
    return {
        line.split()[2] for line in scrape_text(port).splitlines() if line.startswith("# TYPE ")
    }


def total(samples: list[Sample], name: str, **labels: str) -> float:
    return sum(
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


async def up(port: int) -> bool:
    """The service listens (it may still be starting); its answer is checked by scrape."""
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await client.get(f"http://127.0.0.1:{port}/healthz")
        return True
    except httpx.TransportError:
        return False


async def send_garbage(stack: Stack) -> None:
    """One record the classifier cannot read and one dispatch cannot: two dead letters."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.settings.kafka_bootstrap)
    await producer.start()
    try:
        topics = stack.settings.topics
        await producer.send_and_wait(topics.reports_submitted, b"not json", key=b"bad-1")
        await producer.send_and_wait(topics.cases_commands, b"not json", key=b"bad-2")
    finally:
        await producer.stop()


async def test_every_service_serves_metrics_and_they_count_a_report(stack: Stack) -> None:
    for service, port in stack.ports.items():
        await eventually(functools.partial(up, port), timeout=90)
        missing = [name for name in EXPECTED[service] if name not in names_of(port)]
        assert not missing, f"{service} lacks {missing}"
    body = next(
        reports(taxonomy.load(), jurisdiction.load(), seed=5, repeat_share=0.0, worker_share=0.0)
    )
    async with httpx.AsyncClient(
        base_url=stack.api_url, timeout=30, headers=stack.auth(Role.DISPATCHER)
    ) as client:
        answer = await client.post("/api/v1/reports", json=body)
        assert answer.status_code == 202, answer.text
        report_id = answer.json()["report_id"]

        async def placed() -> bool:
            return (await client.get(f"/api/v1/reports/{report_id}")).status_code == 200

        await eventually(placed, timeout=90)
    await send_garbage(stack)

    api = samples_of(stack.ports["api"])
    assert total(api, "cityops_reports_accepted_total", channel="http") >= 1
    route, method = "/api/v1/reports/{report_id}", "GET"
    assert total(api, "cityops_http_requests_total", route=route, method=method) >= 1
    assert total(api, "cityops_http_requests_total", route="/api/v1/reports", status="202") == 1
    assert total(api, "cityops_http_request_duration_seconds_count", route=route) >= 1
    assert not any(report_id in str(s.labels) for s in api)  # ids are never labels

    classifier = samples_of(stack.ports["classifier"])
    assert total(classifier, "cityops_classifier_latency_seconds_count") >= 1
    assert total(classifier, "cityops_classifier_confidence_count") >= 1
    assert total(classifier, "cityops_classifier_decisions_total") >= 1

    dispatch = samples_of(stack.ports["dispatch"])
    assert total(dispatch, "cityops_case_events_total") >= 1
    assert total(dispatch, "cityops_commands_total", command="open", result="applied") >= 1
    assert total(dispatch, "cityops_cases_open") >= 1
    assert total(dispatch, "cityops_report_to_case_seconds_count") >= 1
    assert {s.labels["level"] for s in dispatch if s.name == "cityops_deadline_alerts_total"} == {
        "warning",
        "breach",
    }

    async def dead_lettered() -> bool:
        by = {
            service: total(
                samples_of(stack.ports[service]), "cityops_dead_letters_total", consumer=service
            )
            for service in ("classifier", "dispatch")
        }
        return all(n >= 1 for n in by.values())

    await eventually(dead_lettered, timeout=60)

    prefix = stack.settings.topic_prefix

    async def lag_read() -> bool:
        lags = [
            s
            for s in samples_of(stack.ports["api"])
            if s.name == "cityops_consumer_lag_records" and s.labels["topic"].startswith(prefix)
        ]
        groups = {s.labels["group"] for s in lags}
        caught_up = all(s.value == 0 for s in lags if s.labels["group"] == "cityops-classifier")
        return {"cityops-classifier", f"{prefix}cityops-dispatch"} <= groups and caught_up

    await eventually(lag_read, timeout=90)  # the exporter reads every 15 s by default
