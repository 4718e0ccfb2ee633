"""Floors only go down (HOUSE_STYLE habit 13), read from the source with ``ast``.

- ``cityops/`` is the ground floor: it imports no service and not the top floor.
- ``services/<name>/`` import the ground floor, never the top floor, and another service
  only where listed in ``CROSS_SERVICE`` below (each entry is a debt with its reason).
- ``cityctl/`` is the top floor: the one package that stands on every service.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("api", "classifier", "dispatch", "indexer", "sensors")

# (importer, imported) service pairs that exist today. Do not add to it: move the shared
# figure down to cityops instead.
CROSS_SERVICE = {
    # services/ingest is the intake module the api process hosts (it has no process).
    ("api", "ingest"),
    # The api hosts the device registry and the HTTP reading intake; the registration rules,
    # the CSV import and the key hashing live with the sensors service that reads the
    # registry. Debt: they could move to cityops beside the sensor catalogue.
    ("api", "sensors"),
}


def imported_modules(path: Path) -> Iterator[str]:
    """Every module a source file imports, including ``importlib.import_module("x.y")``
    and ``import_module(f"services.{name}...")`` (the literal head of an f-string)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
        ):
            yield _literal_head(node.args[0])


def _literal_head(arg: ast.expr) -> str:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values:
        first = arg.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return ""


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def top(module: str) -> str:
    return module.split(".")[0]


def service_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "services" and len(parts) > 1 else None


def test_the_walk_sees_every_kind_of_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import services.api.main\n"
        "from services.indexer import replay\n"
        "from . import sibling\n"
        "import importlib\n"
        "def f(name):\n"
        "    importlib.import_module(f'services.{name}.main')\n"
        "    importlib.import_module('cityctl.cli')\n"
    )
    assert list(imported_modules(sample)) == [
        "services.api.main",
        "services.indexer",
        "importlib",
        "services.",
        "cityctl.cli",
    ]


@pytest.mark.parametrize("path", sources("cityops"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_ground_floor_imports_nothing_above_it(path: Path) -> None:
    above = [m for m in imported_modules(path) if top(m) in {"services", "cityctl"}]
    assert above == [], f"{path.relative_to(ROOT)} imports {above}: floors only go down"


def test_services_never_import_the_top_floor() -> None:
    found = [
        (str(path.relative_to(ROOT)), module)
        for path in sources("services")
        for module in imported_modules(path)
        if top(module) == "cityctl"
    ]
    assert found == []


def test_a_service_imports_another_only_where_listed() -> None:
    found: set[tuple[str, str]] = set()
    for path in sources("services"):
        importer = path.relative_to(ROOT / "services").parts[0]
        for module in imported_modules(path):
            imported = service_of(module)
            if imported and imported != importer:
                found.add((importer, imported))
    assert found <= CROSS_SERVICE, f"new cross-service imports: {found - CROSS_SERVICE}"


def test_only_the_top_floor_stands_on_every_service() -> None:
    def services_seen(package: str) -> set[str]:
        return {
            service
            for path in sources(package)
            for module in imported_modules(path)
            if (service := service_of(module))
        }

    for package in ("cityops", *(f"services/{name}" for name in SERVICES)):
        assert not set(SERVICES) <= services_seen(package), package
    # The top floor runs each service (`cityops serve NAME` imports services.NAME.main).
    from cityctl.cli import build_parser
    from cityctl.processes import SERVICES as RUNS

    assert set(RUNS) == set(SERVICES)
    for name in SERVICES:
        assert build_parser().parse_args(["serve", name]).service == name
