"""The manager overview (管理总览) in a real browser, against the whole stack: the five
dimensions, the per-town table and the map show the numbers the API's JSON holds for the
same windows, and a hotspot is drawn on the map."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from cityctl.simulate import reports
from cityops import jurisdiction, taxonomy
from cityops.contracts import Role
from tests.e2e.browser import CHROMIUM_ARGS, WAIT_MS, pw
from tests.e2e.conftest import Stack
from tests.e2e.test_console import cases_of, post_reports
from tests.e2e.test_console_sensors import raise_hotspot
from tests.e2e.test_sensors import devices, grid_points
from tests.integration.conftest import eventually
from tests.people import PASSWORD, SEATS

pytestmark = pytest.mark.e2e

SCREENSHOT = Path("/tmp/cityops-overview.png")
DIMENSIONS = ["净", "畅", "宁", "和", "美"]
DONE = {"closed", "invalid", "merged"}


def open_cases(group: dict[str, Any] | None) -> int:
    states = group["states"] if group else {}
    return sum(n for state, n in states.items() if state not in DONE)


def value(raw: str | None) -> float | None:
    return None if raw in (None, "") else float(raw)


async def wait_for_hotspot(client: httpx.AsyncClient, case_id: str | None = None) -> str:
    found: list[str] = []

    async def listed() -> bool:
        found[:] = [h["case_id"] for h in (await client.get("/api/v1/hotspots")).json()["items"]]
        return bool(found)

    await eventually(listed, timeout=120, interval=1)
    return found[0]


async def stats(client: httpx.AsyncClient, group_by: str, start: str, end: str) -> dict[str, Any]:
    params = {"group_by": group_by, "from": start, "to": end}
    answer: dict[str, Any] = (await client.get("/api/v1/stats", params=params)).json()
    return {g["key"]: g for g in answer["groups"]}


async def check_dimensions(page: Any, today: dict[str, Any], counts: dict[str, Any]) -> None:
    open_by_dim = {d["dimension"]: d["open"] for d in counts["dimensions"]}
    for dim in DIMENSIONS:
        card, group = page.locator(f'.dim[data-dim="{dim}"]'), today.get(dim)
        shown = {
            k: await card.locator(f'[data-k="{k}"]').get_attribute("data-value")
            for k in ("open", "registered", "closed", "on_time_rate")
        }
        assert int(shown["open"]) == open_cases(group) == open_by_dim[dim], (dim, shown)
        assert int(shown["registered"]) == (group["registered"] if group else 0), (dim, shown)
        assert int(shown["closed"]) == (group["closed"] if group else 0), (dim, shown)
        assert value(shown["on_time_rate"]) == (group["on_time_rate"] if group else None)
        due = await card.locator('[data-k="on_time_rate"]').get_attribute("data-due")
        assert int(due) == (group["due"] if group else 0)
        assert await card.locator("svg.trend").count() == 1


async def check_towns(page: Any, towns: dict[str, Any]) -> None:
    rows = page.locator("#townrows tr.town:not(.none)")  # .none: a town without cases
    assert await rows.count() == len(towns)
    places = jurisdiction.load().towns
    assert await page.locator("#townrows tr.town").count() == len(set(places) | set(towns))
    for key, group in towns.items():
        row = page.locator(f'#townrows tr.town[data-town="{key or ""}"]')
        await pw.expect(row).to_contain_text(group["key_name"])
        assert (
            int(await row.locator('[data-k="registered"]').get_attribute("data-value"))
            == (group["registered"])
        )
        for rate in ("close_rate", "on_time_rate", "rework_rate", "return_rate"):
            shown = await row.locator(f'[data-k="{rate}"]').get_attribute("data-value")
            assert value(shown) == group[rate], (key, rate, shown)
        await pw.expect(row.locator('[data-k="close_rate"]')).to_contain_text(
            f"{group['closed']}/{group['due']}"
        )


async def check_map(page: Any, grids: dict[str, Any], counts: dict[str, Any], hotspot: str) -> None:
    svg = page.locator("#map svg")
    grid_count = sum(1 for f in grids["features"] if f["properties"]["kind"] == "grid")
    await pw.expect(svg.locator("path.grid")).to_have_count(grid_count)
    shaded = await svg.locator("path.grid").evaluate_all(
        "ps => Object.fromEntries(ps.filter(p => p.dataset.open !== '0')"
        ".map(p => [p.dataset.grid, Number(p.dataset.open)]))"
    )
    assert shaded == counts["grids"] and shaded
    await pw.expect(svg.locator(f'circle.hotspot[data-case="{hotspot}"]')).to_have_count(1)
    await pw.expect(page.locator("#hotlist")).to_contain_text("近30天第3次")


async def test_overview_shows_the_apis_figures(
    browser_path: Path, stack: Stack, tmp_path: Path
) -> None:
    stream = reports(
        taxonomy.load(), jurisdiction.load(), seed=31, repeat_share=0.0, worker_share=0.0
    )
    bodies = [{k: v for k, v in next(stream).items() if k != "reporter"} for _ in range(12)]
    await cases_of(stack, await post_reports(stack, bodies))
    (spot,) = devices("water_level", grid_points(1, stride=17), "overview")
    await raise_hotspot(stack, spot)
    async with httpx.AsyncClient(
        base_url=stack.api_url, timeout=30, headers=stack.auth(Role.DISPATCHER)
    ) as client:
        hotspot = await wait_for_hotspot(client)
        await asyncio.sleep(2)  # the hotspot's dispatch reaches the index before the page reads
        async with pw.async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(browser_path), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page(
                    viewport={"width": 1600, "height": 1000},
                    locale="zh-CN",
                    timezone_id="Asia/Shanghai",
                )
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                await page.goto(f"{stack.api_url}/overview")
                login = page.locator("#login")  # a manager signs in on the page itself
                await login.locator("input[name=username]").fill(SEATS[Role.MANAGER].user_id)
                await login.locator("input[name=password]").fill(PASSWORD)
                await login.locator("button[type=submit]").click()
                await pw.expect(page.locator("body[data-rounds]")).to_have_count(1, timeout=WAIT_MS)
                await pw.expect(page.locator("#status")).to_contain_text("更新于")
                window = await page.evaluate("({...document.body.dataset})")
                counts = (await client.get("/api/v1/overview/open-cases")).json()
                today = await stats(client, "dimension", window["todayFrom"], window["to"])
                towns = await stats(client, "town", window["townFrom"], window["to"])
                grids = (await client.get("/api/v1/geo/grids")).json()
                await check_dimensions(page, today, counts)
                await check_towns(page, towns)
                await check_map(page, grids, counts, hotspot)
                queue = (await client.get("/api/v1/cases", params={"size": 1})).json()
                assert (
                    counts["total"] == queue["total"] == sum(open_cases(g) for g in today.values())
                )
                await page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
                await page.screenshot(path=str(SCREENSHOT), full_page=True)
                assert not errors, errors
            finally:
                await browser.close()
