"""Demo traffic: grid workers and citizens posting reports to the intake API.

A small share of posts repeat an earlier idempotency key, as a phone retrying on a bad
network does; each must still make one case.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from shapely.geometry import Point

from cityctl.session import DISPATCHER, HOTLINE, Session, SignInFailed, SimPeople
from cityops.jurisdiction import Jurisdictions
from cityops.taxonomy import Taxonomy

log = logging.getLogger(__name__)

ROADS = [
    "环湖西一路",
    "环湖西二路",
    "申港大道",
    "古棕路",
    "海港大道",
    "临港大道",
    "沪城环路",
    "水芸路",
    "橄榄路",
    "云鹃路",
    "芦茂路",
    "银飞路",
    "新元南路",
    "江山路",
    "东大公路",
]
OPENERS = [
    "",
    "你好，",
    "麻烦处理一下：",
    "市民反映：",
    "巡查发现",
    "紧急！",
    "网格巡查：",
    "打扰了，",
]
CLOSERS = [
    "",
    "，请尽快处理",
    "，已经好几天了",
    "，影响出行",
    "，谢谢！",
    "，希望有人来看看",
    "。",
    "，太危险了",
]


@dataclass(frozen=True)
class DemoReport:
    body: dict[str, object]


def _point_in(polygon, rng: random.Random) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    minx, miny, maxx, maxy = polygon.bounds
    for _ in range(100):
        lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if polygon.contains(Point(lon, lat)):
            return round(lat, 6), round(lon, 6)
    centre = polygon.representative_point()
    return round(centre.y, 6), round(centre.x, 6)


def reports(
    taxonomy: Taxonomy,
    places: Jurisdictions,
    seed: int = 7,
    repeat_share: float = 0.1,
    worker_share: float = 0.6,
) -> Iterator[dict[str, object]]:
    """An endless stream of report bodies for ``POST /api/v1/reports``."""
    rng = random.Random(seed)
    towns = list(places.towns.values())
    sent: list[dict[str, object]] = []
    while True:
        if sent and rng.random() < repeat_share:
            yield rng.choice(sent)
            continue
        leaf = rng.choice(taxonomy.leaves)
        town = rng.choice(towns)
        lat, lon = _point_in(town.polygon, rng)
        road = rng.choice(ROADS)
        address = f"{town.name}{road}{rng.randint(1, 2000)}号附近"
        keyword = rng.choice(leaf.keywords) if leaf.keywords else leaf.name
        text = f"{rng.choice(OPENERS)}{road}这边{keyword}{rng.choice(CLOSERS)}"
        worker = rng.random() < worker_share
        body: dict[str, object] = {
            "idempotency_key": uuid.UUID(int=rng.getrandbits(128)).hex,
            "text": text,
            "location": {"lat": lat, "lon": lon},
            "address": address,
            # a grid worker reports as the town's simulated worker (their token says so);
            # a citizen's call is entered by the 12345 hotline's simulated operator
            "reporter": {"id": f"sim-gw.{town.code}", "role": "grid_worker"}
            if worker
            else {"id": f"citizen-{rng.randint(1, 5000)}", "role": "citizen"},
        }
        sent.append(body)
        yield body


def reporter_session(people: SimPeople, places: Jurisdictions, body: dict[str, Any]) -> Session:
    """Who posts ``body``: its town's simulated grid worker, or the hotline operator."""
    reporter = body["reporter"]
    if reporter["role"] != "grid_worker":
        return people.session(HOTLINE)
    town = reporter["id"].removeprefix("sim-gw.")
    grids = tuple(code for code, grid in places.grids.items() if grid.town == town)
    return people.grid_worker(town, grids)


def run(
    api_url: str,
    admin_token: str,
    taxonomy: Taxonomy,
    places: Jurisdictions,
    rate: float,
    count: int | None,
    seed: int = 7,
    stop: threading.Event | None = None,
) -> int:
    """Post reports at ``rate`` per second as simulated people; stop after ``count``, or
    when ``stop`` is set. Return the number of posts made."""
    made = 0
    interval = 1.0 / rate if rate > 0 else 0.0
    with httpx.Client(base_url=api_url, timeout=10) as client:
        people = SimPeople(client, admin_token)
        for body in reports(taxonomy, places, seed):
            if (count is not None and made >= count) or (stop is not None and stop.is_set()):
                break
            try:
                session = reporter_session(people, places, body)
                response = session.request("POST", "/api/v1/reports", json=body)
                if response.status_code != 202:
                    log.warning(
                        "report refused",
                        extra={"status": response.status_code, "body": response.text[:300]},
                    )
            except (httpx.HTTPError, SignInFailed) as exc:
                log.warning("api unreachable", extra={"error": str(exc)})
            made += 1
            if interval:
                time.sleep(interval)
    return made


# What simulated people do next with a case in each state: (role, command body).
NEXT_STEP: dict[str, tuple[str, dict[str, object]]] = {
    "pending": ("dispatcher", {"kind": "dispatch"}),
    "dispatched": ("department", {"kind": "accept"}),
    "in_progress": ("department", {"kind": "report_back"}),
    "reported_back": ("dispatcher", {"kind": "verify", "passed": True}),
    "verified": ("dispatcher", {"kind": "close"}),
}


def next_command(
    case: dict[str, object], rng: random.Random
) -> tuple[str, dict[str, object]] | None:
    """Who would act next on ``case`` (a role) and the command they would send, or None."""
    step = NEXT_STEP.get(str(case["state"]))
    if step is None:
        return None
    role, body = step
    body = dict(body)
    if body["kind"] == "dispatch":
        body["department"] = case["department"]
    if body["kind"] == "verify" and rng.random() < 0.15:
        body["passed"] = False  # 返工
    return role, {
        # no ':' in a person's command id: the API keeps those for the system's own commands
        "command_id": f"sim.{case['case_id']}.{case['state']}.{case.get('rework_count', 0)}",
        "reason": "演示处置" if body["kind"] != "verify" or body["passed"] else "现场仍未修复",
        "body": body,
    }


def work_cases(
    api_url: str, admin_token: str, stop: threading.Event, interval: float = 3.0, seed: int = 5
) -> None:
    """Move a few cases a step along the lifecycle every ``interval`` seconds, each step
    sent by a simulated person of the right role (a department's by that department)."""
    rng = random.Random(seed)
    with httpx.Client(base_url=api_url, timeout=10) as client:
        people = SimPeople(client, admin_token)
        while not stop.wait(interval):
            try:
                queue = people.session(DISPATCHER).request(
                    "GET", "/api/v1/cases", params={"size": 50, "sort": "oldest"}
                )
                cases = queue.json()
            except (httpx.HTTPError, ValueError, SignInFailed):
                continue
            for case in rng.sample(cases.get("items", []), k=min(4, len(cases.get("items", [])))):
                step = next_command(case, rng)
                if step is None:
                    continue
                role, command = step
                with contextlib.suppress(httpx.HTTPError, SignInFailed):
                    if role == "department" and case.get("department") and case.get("town"):
                        actor = people.department(str(case["department"]), str(case["town"]))
                    else:
                        actor = people.session(DISPATCHER)
                    answer = actor.request(
                        "POST", f"/api/v1/cases/{case['case_id']}/commands", json=command
                    )
                    if answer.status_code >= 400 and answer.status_code != 409:
                        refused = f"{answer.status_code} {answer.text[:200]}"
                        log.warning("simulated worker's command refused: %s", refused)
