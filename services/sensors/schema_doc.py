"""Keep docs/sensors.md's generated parts current: the JSON schema of a reading and the table
of rules, between ``<!-- name:start -->`` and ``<!-- name:end -->`` markers.

    python -m services.sensors.schema_doc           # rewrite the generated parts
    python -m services.sensors.schema_doc --check   # exit 1 if they are stale

A test runs the check, so the published schema cannot drift from the contract.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from cityops import sensors
from cityops.contracts import SensorReading
from cityops.sensors import Catalogue, Rule

DOC = Path(__file__).resolve().parents[2] / "docs" / "sensors.md"


def reading_schema() -> str:
    schema = json.dumps(SensorReading.model_json_schema(), indent=2, ensure_ascii=False)
    return f"```json\n{schema}\n```"


def _levels(rule: Rule) -> str:
    if rule.levels is not None:
        return f"{rule.levels.raise_:g} / {rule.levels.clear:g}"
    assert rule.zone_levels is not None
    return f"zone limit / limit − {rule.zone_levels.hysteresis:g}"


def _rate(rule: Rule) -> str:
    if rule.rate is None:
        return "—"
    return f"{rule.rate.delta:g} in {rule.rate.within_s:g} s"


def rules_table(catalogue: Catalogue) -> str:
    lines = [
        "| Type | Condition | Metric (unit) | Raise / clear | N of M | Rate | Recover after"
        " | Relapse window | Interval × misses | Class |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in catalogue.types:
        for rule in kind.rules:
            direction = "≥" if rule.direction == "above" else "≤"
            active = f", {rule.active.start:%H:%M}–{rule.active.end:%H:%M}" if rule.active else ""
            lines.append(
                f"| `{kind.code}` {kind.name} | `{rule.condition}` | `{rule.metric}` ({rule.unit})"
                f"{active} | {direction} {_levels(rule)} | {rule.breaches.n} of"
                f" {rule.breaches.of} | {_rate(rule)} | {rule.recover_after_s} s"
                f" | {rule.relapse_window_s} s | {kind.interval_s} s × {kind.heartbeat_misses}"
                f" | {rule.category} |"
            )
    return "\n".join(lines)


def generated() -> dict[str, str]:
    return {"reading-schema": reading_schema(), "rules-table": rules_table(sensors.load())}


def render(text: str, parts: dict[str, str]) -> str:
    for name, body in parts.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        match = pattern.search(text)
        if match is None:
            raise ValueError(f"docs/sensors.md has no {name} markers")
        fresh = match.group(1) + body + "\n" + match.group(2)
        text = text[: match.start()] + fresh + text[match.end() :]
    return text


def main(argv: list[str]) -> int:
    current = DOC.read_text(encoding="utf-8")
    fresh = render(current, generated())
    if "--check" in argv:
        if fresh != current:
            print("docs/sensors.md is stale: run python -m services.sensors.schema_doc")
            return 1
        return 0
    DOC.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
