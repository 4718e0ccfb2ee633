"""The live feed's pure parts: who receives a change, the cursor, and slow clients."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from cityops.contracts import Role
from services.api.auth.principal import Principal
from services.api.live.audience import Subscriber, fan_out
from services.api.live.cursor import PAGE, ChangeCursor, sort_after
from services.api.live.mailbox import PING, RESYNC, Frame, Mailbox, frame

WATER_T1 = {"case_id": "LGA", "seq": 3, "state": "dispatched", "department": "water",
            "town": "t1", "grid": "t1-001"}  # fmt: skip
VERIFYING = {"case_id": "LGB", "seq": 7, "state": "reported_back", "department": "roads",
             "town": "t1", "grid": "t1-002"}  # fmt: skip
MINE = {"case_id": "LGC", "seq": 1, "state": "pending", "department": None, "town": "t2",
        "grid": "t2-009"}  # fmt: skip


def rendered(doc: dict[str, Any]) -> Frame:
    return Frame("case", json.dumps({"case_id": doc["case_id"]}))


def received(subscriber: Subscriber) -> list[str]:
    return [json.loads(f.data)["case_id"] for f in subscriber.mailbox.drain()]


def test_each_role_receives_the_cases_it_may_see() -> None:
    people = {
        "dispatcher": Subscriber(Principal("d", Role.DISPATCHER)),
        "manager": Subscriber(Principal("m", Role.MANAGER)),
        "water_t1": Subscriber(Principal("w", Role.DEPARTMENT, department="water", town="t1")),
        "water_t2": Subscriber(Principal("w2", Role.DEPARTMENT, department="water", town="t2")),
        "worker": Subscriber(
            Principal("g", Role.GRID_WORKER, grids=("t1-002",)), own_cases=frozenset({"LGC"})
        ),
        "other_worker": Subscriber(Principal("g2", Role.GRID_WORKER, grids=("t9-001",))),
        "citizen": Subscriber(Principal("c", Role.CITIZEN)),
    }
    offered = fan_out([WATER_T1, VERIFYING, MINE], people.values(), rendered)
    got = {name: received(s) for name, s in people.items()}
    assert got == {
        "dispatcher": ["LGA", "LGB", "LGC"],
        "manager": ["LGA", "LGB", "LGC"],
        "water_t1": ["LGA"],
        "water_t2": [],
        "worker": ["LGB", "LGC"],  # a task to verify in their grid, and their own report
        "other_worker": [],
        "citizen": [],
    }
    assert offered == sum(len(v) for v in got.values())


def test_a_change_nobody_may_see_is_not_even_rendered() -> None:
    calls: list[str] = []

    def counting(doc: dict[str, Any]) -> Frame:
        calls.append(doc["case_id"])
        return rendered(doc)

    crowd = [Subscriber(Principal(f"d{i}", Role.DISPATCHER)) for i in range(50)]
    lonely = Subscriber(Principal("w", Role.DEPARTMENT, department="parks", town="t1"))
    fan_out([WATER_T1, VERIFYING], [*crowd, lonely], counting)
    assert calls == ["LGA", "LGB"]  # once per change, not once per subscriber
    fan_out([WATER_T1], [lonely], counting)
    assert calls == ["LGA", "LGB"] and received(lonely) == []


def test_a_grid_worker_is_due_a_refresh_of_their_own_cases() -> None:
    worker = Subscriber(Principal("g", Role.GRID_WORKER))
    assert worker.own_cases_due(now=100.0)
    worker.own_cases_at = 100.0
    assert not worker.own_cases_due(now=105.0) and worker.own_cases_due(now=110.0)
    assert not Subscriber(Principal("d", Role.DISPATCHER)).own_cases_due(now=0.0)


def hit(case_id: str, seq: int, at_ms: int) -> dict[str, Any]:
    return {"_source": {"case_id": case_id, "seq": seq}, "sort": [at_ms, case_id]}


def ids(docs: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(d["case_id"], d["seq"]) for d in docs]


def test_the_cursor_starts_at_the_end_of_the_index_and_looks_back() -> None:
    cursor = ChangeCursor(lookback_ms=5_000)
    # an empty index: from the start (every document the indexer has stamped)
    assert cursor.search()["query"] == {"exists": {"field": "indexed_at"}}
    cursor.start_at([hit("LGA", 4, 1_000_000)])
    assert cursor.since_ms == 995_000
    request = cursor.search(after=[995_100, "LGA"])
    assert request["query"]["range"]["indexed_at"]["gte"] == 995_000
    assert request["sort"] == [{"indexed_at": "asc"}, {"case_id": "asc"}]
    assert request["search_after"] == [995_100, "LGA"] and request["size"] == PAGE


def test_a_change_at_the_cursor_boundary_is_sent_once() -> None:
    cursor = ChangeCursor(lookback_ms=5_000)
    first = cursor.take([hit("LGA", 1, 10_000), hit("LGB", 1, 12_000)])
    cursor.settle()
    assert ids(first) == [("LGA", 1), ("LGB", 1)] and cursor.since_ms == 7_000
    # the next poll reads the look-back window again, and a late arrival within it
    again = cursor.take([hit("LGZ", 1, 9_000), hit("LGA", 1, 10_000), hit("LGB", 1, 12_000)])
    cursor.settle()
    assert ids(again) == [("LGZ", 1)]  # older than the newest read, but not lost
    newer = cursor.take([hit("LGA", 2, 20_000)])
    cursor.settle()
    assert ids(newer) == [("LGA", 2)]  # the same case again, a new seq: sent
    # only what can still come back is remembered
    assert cursor.since_ms == 15_000 and set(cursor.sent) == {("LGA", 2)}


def test_the_cursor_never_moves_back_and_a_cut_short_poll_moves_on() -> None:
    cursor = ChangeCursor(lookback_ms=5_000)
    cursor.take([hit("LGA", 1, 50_000)])
    cursor.settle()
    cursor.take([hit("LGB", 1, 46_000)])  # the look back finds an older one
    cursor.settle()
    assert cursor.since_ms == 45_000
    cursor.take([hit("LGC", 1, 60_000)])
    cursor.settle(complete=False)  # stopped at MAX_PAGES: no look back this time
    assert cursor.since_ms == 60_000 and not cursor.caught_up
    assert sort_after([hit("LGC", 1, 60_000)]) == [60_000, "LGC"] and sort_after([]) is None


def test_a_slow_client_loses_its_backlog_and_is_told_to_resync() -> None:
    box = Mailbox(capacity=3)
    for n in range(5):
        box.offer(frame("case", n=n))
    assert box.overflowed and len(box.frames) == 3
    assert box.drain() == [RESYNC]
    box.offer(frame("case", n=9))
    assert box.drain() == [frame("case", n=9)]  # then it goes on as before
    assert json.loads(RESYNC.data)["reason"]


def test_a_mailbox_wakes_its_stream_or_pings_when_idle() -> None:
    async def scenario() -> None:
        box = Mailbox()
        assert await box.wait(ping_s=0.01) == [PING]
        waiting = asyncio.create_task(box.wait(ping_s=5))
        await asyncio.sleep(0)
        box.offer(frame("case", n=1))
        assert await waiting == [frame("case", n=1)]
        box.close()
        assert [f.event for f in await box.wait(ping_s=5)] == ["bye"]
        box.offer(frame("case", n=2))  # nothing after bye
        assert box.frames == type(box.frames)()

    asyncio.run(scenario())
