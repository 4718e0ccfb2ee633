"""Every PromQL expression of the boards and the rules, against a real Prometheus.

Debian's ``prometheus`` (skips without it) runs on a free loopback port with a generated
configuration: the stack's five services scraped every second, and the rules of
deploy/prometheus/rules evaluated every second. After some traffic (reports, a command,
sensor readings, bad records that are dead-lettered), every panel expression and every
recording rule answers at least one series. An alert's expression only has data under its
condition, so it is checked for parsing and for every metric it names existing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from cityctl import grafana
from cityctl.simulate import reports
from cityops import jurisdiction, standins, taxonomy
from cityops.contracts import Role
from cityops.kafka import encode
from tests.e2e.conftest import Stack
from tests.e2e.test_sensors import devices, grid_points, produce, reading, register_all
from tests.integration.conftest import eventually

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("prometheus") is None, reason="apt-get install prometheus"),
]
ROOT = Path(__file__).resolve().parents[2]
RULES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
METRIC = re.compile(r"\b(up|cityops_[a-z0-9_]+)\b")


def panel_expressions() -> list[str]:
    return [
        target["expr"]
        for model in grafana.dashboards().values()
        for panel in model["panels"]
        for target in panel["targets"]
        if "expr" in target
    ]


def rules() -> list[dict[str, Any]]:
    return [
        r for path in RULES for g in yaml.safe_load(path.read_text())["groups"] for r in g["rules"]
    ]


def write_config(stack: Stack, tmp: Path) -> Path:
    """The stack's services as compose's jobs, scraped and evaluated every second."""
    (tmp / "rules").mkdir(parents=True)
    for path in RULES:
        spec = yaml.safe_load(path.read_text())
        for group in spec["groups"]:
            group.pop("interval", None)  # the global one second
        (tmp / "rules" / path.name).write_text(yaml.safe_dump(spec, allow_unicode=True))
    jobs = [
        {
            "job_name": f"cityops-{name}",
            "static_configs": [{"targets": [f"127.0.0.1:{port}"], "labels": {"service": name}}],
        }
        for name, port in stack.ports.items()
    ]
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp / "rules" / "*.yml")],
        "scrape_configs": jobs,
    }
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def prometheus(stack: Stack, tmp_path: Path) -> Iterator[str]:
    port = standins.free_port()
    config = write_config(stack, tmp_path / "prometheus")
    log = (tmp_path / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            str(shutil.which("prometheus")),
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'prometheus' / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "prometheus.log").read_text()
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


async def traffic(stack: Stack) -> None:
    """Reports, a command on one of their cases, sensor readings (one out of range), and
    records that are not JSON (dead-lettered)."""
    stream = reports(
        taxonomy.load(), jurisdiction.load(), seed=21, repeat_share=0.0, worker_share=0.0
    )
    async with httpx.AsyncClient(
        base_url=stack.api_url, timeout=30, headers=stack.auth(Role.DISPATCHER)
    ) as client:
        for _ in range(6):
            response = await client.post("/api/v1/reports", json=next(stream))
            assert response.status_code == 202, response.text

        async def some_case() -> bool:
            return bool((await client.get("/api/v1/cases", params={"size": 1})).json()["items"])

        await eventually(some_case, timeout=60, interval=1)
        [case] = (await client.get("/api/v1/cases", params={"size": 1})).json()["items"]
        command = {  # applied or refused by the workflow, it counts either way
            "command_id": "prom-dispatch-1",
            "body": {"kind": "dispatch", "department": case["department"] or "water"},
        }
        response = await client.post(f"/api/v1/cases/{case['case_id']}/commands", json=command)
        assert response.status_code == 202, response.text
    (device,) = devices("water_level", grid_points(1, stride=31), "prom")
    await register_all(stack, [device])
    now = datetime.now(UTC).replace(microsecond=0)
    good = reading(device, now, 3.0, "water_depth_cm", "cm")
    out_of_range = reading(device, now + timedelta(seconds=10), 9999.0, "water_depth_cm", "cm")
    await produce(
        stack,
        stack.settings.topics.sensor_readings,
        [(device.device_id, encode(r)) for r in (good, out_of_range)]
        + [(device.device_id, b"{not json")],
    )
    await produce(stack, stack.settings.topics.reports_submitted, [("bad", b"{not json")])


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10)
    body = response.json()
    assert response.status_code == 200 and body["status"] == "success", (expr, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


async def test_every_board_and_rule_expression_answers(stack: Stack, prometheus: str) -> None:
    await traffic(stack)
    expected = panel_expressions() + [r["expr"] for r in rules() if "record" in r]
    alerts = [r["expr"] for r in rules() if "alert" in r]
    empty: list[str] = list(expected)

    async def all_answer() -> bool:
        empty[:] = [expr for expr in expected if not query(prometheus, expr)]
        return not empty

    try:
        await eventually(all_answer, timeout=60, interval=2)
    except AssertionError:
        pytest.fail(f"no series for {empty}\n{stack.logs()}")
    names = set(httpx.get(f"{prometheus}/api/v1/label/__name__/values").json()["data"])
    for expr in alerts:
        query(prometheus, expr)  # parses and runs
        missing = {m for m in METRIC.findall(expr)} - names
        assert not missing, (expr, missing)
    # the board sees each service up
    up = {s["metric"]["service"]: s["value"][1] for s in query(prometheus, 'up{job=~"cityops-.*"}')}
    assert up == dict.fromkeys(stack.ports, "1"), up
