"""deploy/prometheus: the rules and the configuration pass ``promtool check`` (Debian's
``prometheus`` package; the tests skip without it), compose mounts the rules where the
configuration looks, and every recording rule a board reads is defined."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cityctl import grafana

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
promtool = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(promtool is None, reason="promtool: apt-get install prometheus")


def rules() -> list[dict[str, str]]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


@needs_promtool
def test_promtool_checks_the_rules() -> None:
    done = subprocess.run(
        [str(promtool), "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_checks_the_configuration_with_its_rules() -> None:
    done = subprocess.run(
        [str(promtool), "check", "config", str(PROMETHEUS / "prometheus.yml")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(RULE_FILES)} rule files found" in done.stdout


def test_compose_mounts_the_rules_beside_the_configuration() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/rules:/etc/prometheus/rules:ro" in volumes
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["rules/*.yml"]  # relative to /etc/prometheus/prometheus.yml


def test_compose_scrapes_every_service() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    services = {"api", "classifier", "dispatch", "indexer", "sensors"}
    assert {f"cityops-{name}" for name in services} <= jobs


def test_the_alerts_the_issue_asks_for_exist() -> None:
    alerts = {rule["alert"]: rule["expr"] for rule in rules() if "alert" in rule}
    assert "up{" in alerts["CityopsServiceDown"] and "== 0" in alerts["CityopsServiceDown"]
    assert "cityops_consumer_lag_records" in alerts["CityopsConsumerLagHigh"]
    assert "cityops_dead_letters_total" in alerts["CityopsDeadLettersGrowing"]
    assert 'level="breach"' in alerts["CityopsDeadlineBreaches"]


def test_every_recorded_series_a_board_reads_is_recorded() -> None:
    recorded = {rule["record"] for rule in rules() if "record" in rule}
    used = {
        name
        for _, expr, _, _ in grafana.PIPELINE
        for name in re.findall(r"cityops:[a-z0-9_:]+", expr)
    }
    assert used and used <= recorded
