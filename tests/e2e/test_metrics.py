"""Every service's ``/metrics`` answers a real scrape in Prometheus' text format, and the
counters move when a report goes through the pipeline."""

from __future__ import annotations

import functools

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cityctl.simulate import reports
from cityops import jurisdiction, taxonomy
from tests.e2e.conftest import Stack
from tests.integration.conftest import eventually

pytestmark = pytest.mark.e2e


def scrape(port: int) -> dict[str, float]:
    """Sample name (with its labels) → value, parsed by Prometheus' own parser."""
    answer = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        f"{s.name}{sorted(s.labels.items())}": s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def total(samples: dict[str, float], name: str) -> float:
    return sum(v for k, v in samples.items() if k.startswith(f"{name}["))


async def up(port: int) -> bool:
    """The service listens (it may still be starting); its answer is checked by scrape."""
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            await client.get(f"http://127.0.0.1:{port}/healthz")
        return True
    except httpx.TransportError:
        return False


async def test_every_service_serves_metrics_and_they_count_a_report(stack: Stack) -> None:
    for port in stack.ports.values():
        await eventually(functools.partial(up, port), timeout=90)
        scrape(port)
    body = next(reports(taxonomy.load(), jurisdiction.load(), seed=5, repeat_share=0.0))
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        answer = await client.post("/api/v1/reports", json=body)
        assert answer.status_code == 202, answer.text
        report_id = answer.json()["report_id"]

        async def placed() -> bool:
            return (await client.get(f"/api/v1/reports/{report_id}")).status_code == 200

        await eventually(placed, timeout=90)
    assert total(scrape(stack.ports["api"]), "cityops_reports_accepted_total") >= 1
    assert total(scrape(stack.ports["dispatch"]), "cityops_case_events_total") >= 1
