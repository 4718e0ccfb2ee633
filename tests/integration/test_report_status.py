"""A reporter asking after a merge or a split is told the case their report belongs to now,
read by id (sources index, then the case), never by search."""

from __future__ import annotations

import asyncio

import pytest

from cityops import taxonomy
from cityops.contracts.events import MergeCase
from services.api.settings import ApiSettings
from services.dispatch.case_ids import open_command
from services.dispatch.workflow import decide
from tests.conftest import Infra
from tests.dispatch.builders import cmd
from tests.dispatch.test_workflow import classified
from tests.indexer.builders import event, opened, source
from tests.integration.conftest import index_items
from tests.people import api_client

pytestmark = pytest.mark.integration


def test_report_of_a_merged_case_points_to_the_surviving_case(infra: Infra, prefix: str) -> None:
    settings = ApiSettings(**infra.settings(prefix))  # type: ignore[arg-type]
    tax = taxonomy.load()
    a = decide(None, open_command(classified(source_id="rep-a")), tax)
    b = decide(None, open_command(classified(source_id="rep-b")), tax)
    assert a.case and b.case
    merged = decide(a.case, cmd(a.case.case_id, MergeCase(target_case_id=b.case.case_id)), tax)
    attached = decide(b.case, merged.followups[0], tax)
    asyncio.run(index_items(settings, a.events + merged.events + b.events + attached.events))
    with api_client(settings) as client:
        answer = client.get("/api/v1/reports/rep-a").json()
    assert answer["case_id"] == b.case.case_id and answer["state"] == "dispatched"


def test_merged_cases_are_followed_when_the_source_did_not_move(infra: Infra, prefix: str) -> None:
    """The target refused the attach (or its event is late): the source still names the
    merged case, whose merged_into leads on, across two merges."""
    settings = ApiSettings(**infra.settings(prefix))  # type: ignore[arg-type]
    items = [
        opened("LGAAAAAAAAAAAA", "rep-x"),
        event("LGAAAAAAAAAAAA", 2, "merged_into", "merged", 5, target_case_id="LGBBBBBBBBBBBB"),
        opened("LGBBBBBBBBBBBB", "rep-y"),
        event("LGBBBBBBBBBBBB", 2, "merged_into", "merged", 6, target_case_id="LGCCCCCCCCCCCC"),
        opened("LGCCCCCCCCCCCC", "rep-z"),
    ]
    asyncio.run(index_items(settings, items))
    with api_client(settings) as client:
        answer = client.get("/api/v1/reports/rep-x").json()
    assert (answer["case_id"], answer["state"]) == ("LGCCCCCCCCCCCC", "pending")


def test_a_split_report_points_to_its_new_case(infra: Infra, prefix: str) -> None:
    settings = ApiSettings(**infra.settings(prefix))  # type: ignore[arg-type]
    old, new = "LGAAAAAAAAAAAA", "LGDDDDDDDDDDDD"
    items = [
        opened(old, "rep-1"),
        event(old, 2, "source_attached", "pending", 1, source=source("rep-2"), report_count=2),
        event(old, 3, "source_detached", "pending", 9, source_id="rep-2", new_case_id=new),
        opened(new, "rep-2", 9),
    ]
    # delivered out of order: the new case's opening before the attach it undoes
    asyncio.run(index_items(settings, [items[3], items[0]]))
    asyncio.run(index_items(settings, items[1:3]))
    with api_client(settings) as client:
        moved = client.get("/api/v1/reports/rep-2").json()
        stayed = client.get("/api/v1/reports/rep-1").json()
        case = client.get(f"/api/v1/cases/{old}").json()
    assert moved["case_id"] == new and stayed["case_id"] == old
    assert case["report_count"] == 1 and [s["source_id"] for s in case["sources"]] == ["rep-1"]
