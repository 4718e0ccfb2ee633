"""docs/sensors.md's generated parts (reading schema, rules table) are current."""

from __future__ import annotations

import json
import re

from services.sensors import schema_doc


def test_the_doc_is_current() -> None:
    assert schema_doc.main(["--check"]) == 0


def test_the_published_schema_is_the_contracts() -> None:
    text = schema_doc.DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- reading-schema:start -->\n```json\n(.*?)\n```", text, re.S)
    assert block is not None
    schema = json.loads(block.group(1))
    assert schema["required"] == [
        "reading_id",
        "device_id",
        "device_type",
        "metric",
        "value",
        "observed_at",
        "received_at",
    ]


def test_a_stale_part_is_replaced() -> None:
    text = "a\n<!-- rules-table:start -->\nold\n<!-- rules-table:end -->\nb\n"
    fresh = schema_doc.render(text, {"rules-table": "new"})
    assert fresh == "a\n<!-- rules-table:start -->\nnew\n<!-- rules-table:end -->\nb\n"
