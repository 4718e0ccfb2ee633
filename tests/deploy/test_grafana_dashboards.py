"""The Grafana boards (cityctl/grafana.py): committed as generated, valid against Grafana's
own dashboard schema, and every reference resolves (data sources, uids, grid, variables).

The schema is built from the npm package ``@grafana/schema`` of the compose image's
version by ``make grafana-schema`` (into ``.cache/grafana-schema``); the schema test skips
while it is missing (no node/npm)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml

from cityctl import grafana

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
SCHEMA = ROOT / ".cache" / "grafana-schema" / "dashboard.schema.json"
BUILT = grafana.dashboards()
BUILT_IN_VARIABLES = {"__interval", "__interval_ms", "__range", "__rate_interval", "__all"}


def provisioned_datasources() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((PROVISIONING / "datasources").glob("*.yml")):
        for source in yaml.safe_load(path.read_text())["datasources"]:
            assert source["uid"] not in found, f"{source['uid']} provisioned twice"
            found[source["uid"]] = source
    return found


def panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    flat = []
    for panel in model["panels"]:
        flat.append(panel)
        flat.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return flat


def test_the_committed_dashboards_are_what_build_generates(tmp_path: Path) -> None:
    written = grafana.build(tmp_path)
    assert {p.name for p in written} == {p.name for p in DASHBOARDS.glob("*.json")}
    for path in written:
        committed = (DASHBOARDS / path.name).read_text(encoding="utf-8")
        assert committed == path.read_text(encoding="utf-8"), (
            f"{path.name} differs: run `cityops grafana build` and commit the result"
        )


def test_the_command_line_builds_them(tmp_path: Path) -> None:
    from cityctl.cli import main

    assert main(["grafana", "build", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(BUILT)


@pytest.mark.skipif(not SCHEMA.exists(), reason="no Grafana schema: make grafana-schema (npm)")
def test_every_dashboard_validates_against_grafanas_schema() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    binary = str(checker) if checker.exists() else shutil.which("check-jsonschema")
    assert binary, "pip install check-jsonschema"
    files = sorted(str(p) for p in DASHBOARDS.glob("*.json"))
    done = subprocess.run(
        [binary, "--schemafile", str(SCHEMA), *files], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(not SCHEMA.exists(), reason="no Grafana schema: make grafana-schema (npm)")
def test_the_schema_is_strict_enough_to_catch_a_legacy_field(tmp_path: Path) -> None:
    """grafanalib's ``rows`` (Grafana's pre-5 layout) is refused: the check has teeth."""
    legacy = {**BUILT["cityops-pipeline.json"], "rows": []}
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps(legacy))
    checker = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run(
        [str(checker), "--schemafile", str(SCHEMA), str(path)], capture_output=True, text=True
    )
    assert done.returncode != 0 and "rows" in done.stdout


def test_every_panel_uses_a_provisioned_data_source() -> None:
    sources = provisioned_datasources()
    for name, model in BUILT.items():
        for panel in panels(model):
            refs = [panel.get("datasource")] + [t.get("datasource") for t in panel["targets"]]
            for ref in filter(None, refs):
                assert ref["uid"] in sources, (name, panel["title"], ref)
                assert ref["type"] == sources[ref["uid"]]["type"], (name, panel["title"])


def test_each_elasticsearch_source_filters_on_the_time_field_the_panels_name() -> None:
    sources = provisioned_datasources()
    for model in BUILT.values():
        for panel in panels(model):
            for target in panel["targets"]:
                uid = target.get("datasource", panel["datasource"])["uid"]
                if sources[uid]["type"] == "elasticsearch":
                    assert target["timeField"] == sources[uid]["jsonData"]["timeField"]


def test_dashboard_and_panel_ids_are_unique() -> None:
    uids = [model["uid"] for model in BUILT.values()]
    assert len(set(uids)) == len(uids)
    for model in BUILT.values():
        ids = [p["id"] for p in panels(model)]
        assert len(set(ids)) == len(ids), model["uid"]
        for panel in panels(model):
            refs = [t["refId"] for t in panel["targets"]]
            assert len(set(refs)) == len(refs), panel["title"]


def overlap(a: dict[str, int], b: dict[str, int]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def test_no_panel_overlaps_another_or_leaves_the_grid() -> None:
    for model in BUILT.values():
        grid = [p["gridPos"] for p in panels(model)]
        for pos in grid:
            assert pos["x"] >= 0 and pos["w"] > 0 and pos["h"] > 0
            assert pos["x"] + pos["w"] <= grafana.GRID_WIDTH, (model["uid"], pos)
        for a, b in combinations(grid, 2):
            assert not overlap(a, b), (model["uid"], a, b)


def referenced_variables(model: dict[str, Any]) -> set[str]:
    text = json.dumps([p["targets"] for p in panels(model)], ensure_ascii=False)
    return set(re.findall(r"\$\{?(\w+)", text)) - BUILT_IN_VARIABLES


def test_every_template_variable_resolves() -> None:
    for model in BUILT.values():
        variables = {v["name"]: v for v in model["templating"]["list"]}
        assert referenced_variables(model) <= set(variables), model["uid"]
        for variable in variables.values():
            assert variable["type"] == "custom"
            options = [o.split(" : ")[1] for o in variable["query"].split(", ")]
            assert options and all(options), variable["name"]
            assert variable["includeAll"] and variable["allValue"] == "*"


def test_variables_list_the_codes_the_documents_carry() -> None:
    from cityops import jurisdiction, taxonomy

    city = {v["name"]: v for v in BUILT["cityops-city.json"]["templating"]["list"]}
    towns = {o.split(" : ")[1] for o in city["town"]["query"].split(", ")}
    assert towns == set(jurisdiction.load().towns)
    ops = {v["name"]: v for v in BUILT["cityops-operations.json"]["templating"]["list"]}
    departments = {o.split(" : ")[1] for o in ops["department"]["query"].split(", ")}
    assert departments == {d.code for d in taxonomy.load().departments}


def test_rates_name_their_denominator() -> None:
    """结案率 and 按期结案率 read 应结案数 as their denominator, on the panel itself."""
    titles = [p["title"] for m in BUILT.values() for p in panels(m)]
    on_time = [t for t in titles if "按期结案率" in t]
    assert on_time and all("应结案数" in t for t in on_time)


def test_compose_mounts_what_provisioning_reads() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["grafana"]["volumes"]
    mounts = dict(v.rsplit(":", 2)[:2] for v in volumes if v.startswith("./"))
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    [provider] = yaml.safe_load((PROVISIONING / "dashboards" / "cityops.yml").read_text())[
        "providers"
    ]
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    # not inside the grafana-data volume's mount point
    assert not provider["options"]["path"].startswith("/var/lib/grafana")


def test_sync_posts_every_dashboard_into_its_folder() -> None:
    """A unit test of what ``cityops grafana sync`` sends (no Grafana server runs here)."""
    bodies = grafana.sync_payloads("cityops")
    assert [b["dashboard"]["uid"] for b in bodies] == [m["uid"] for m in BUILT.values()]
    for body in bodies:
        assert body["folderUid"] == "cityops" and body["overwrite"] is True
        assert body["dashboard"]["id"] is None  # matched by uid on the server
