"""The console shows what the sensors saw, in a real browser against the whole stack: two
water-level sensors flood (one drains again and its case closes itself), the queue's
source-type filter finds the open sensor case, its page draws the readings with the
threshold, and the closed case's timeline draws the readings of its recovery. A hotspot (the
record the sensors service writes after K cases at one place) shows on the 热点 board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cityops import taxonomy
from cityops.contracts import Role
from cityops.contracts.devices import Device
from cityops.kafka import encode
from services.sensors import alarms, hotspots
from tests.e2e.browser import CHROMIUM_ARGS, WAIT_MS, pw
from tests.e2e.conftest import Stack
from tests.e2e.test_console import headers, new_page, shot, sign_in_page
from tests.e2e.test_sensors import devices, grid_points, produce, reading, register_all
from tests.integration.conftest import eventually

pytestmark = pytest.mark.e2e


def depth(minute: int, drains: bool) -> float:
    """Dry, rising from minute 10 to 30 cm at minute 16, held; drained from minute 35."""
    if minute < 10:
        return 2.0
    if drains and minute >= 35:
        return 1.0
    return min(30.0, 2.0 + (minute - 10) * 5.0)


async def flood(stack: Stack, wet: Device, dry: Device) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=60)
    records = [
        (d.device_id, encode(reading(d, start + timedelta(minutes=m), depth(m, d is dry),
                                     "water_depth_cm", "cm")))
        for m in range(60)
        for d in (wet, dry)
    ]  # fmt: skip
    await produce(stack, stack.settings.topics.sensor_readings, records)


async def raise_hotspot(stack: Stack, spot: Device) -> str:
    """A hotspot at ``spot``'s grid as the sensors service raises it; returns its source id."""
    place, label = f"E0503|grid:{spot.grid}", f"网格 {spot.grid}"
    now = datetime.now(UTC)
    opening = hotspots.Opening(
        place=place, case_id="LGAAAAAAAAAAAA", category="E0503", at=now,
        location=spot.location, town=spot.town, grid=spot.grid, label=label,
    )  # fmt: skip
    cls = alarms.classification_of("E0503", spot.town, spot.grid, taxonomy.load(), "hotspot")
    hot = hotspots.Hotspot(place, 1, 3, now, opening)
    item = hotspots.proactive_case(hot, cls, timedelta(days=30), now)
    topic = stack.settings.topics.cases_classified
    await produce(stack, topic, [(item.source.source_id, encode(item))])
    return item.source.source_id


async def sensor_case(client: httpx.AsyncClient, state: str | None) -> dict[str, Any]:
    """The one sensor case in ``state`` (the queue's work to do when ``None``)."""
    params: dict[str, str] = {"source_type": "sensor", **({"state": state} if state else {})}
    found: list[dict[str, Any]] = []

    async def one() -> bool:
        found[:] = (await client.get("/api/v1/cases", params=params)).json()["items"]
        return len(found) == 1

    await eventually(one, timeout=180, interval=1)
    case: dict[str, Any] = (await client.get(f"/api/v1/cases/{found[0]['case_id']}")).json()
    return case


async def check_open_case(page: Any, case: dict[str, Any], device: str) -> None:
    expect = pw.expect
    view = page.locator("section.case")
    await page.locator("form.filters select[name=source_type]").select_option(label="传感器")
    rows = page.locator("#rows tr.case")
    await expect(rows).to_have_count(1, timeout=WAIT_MS)
    await rows.first.click()
    await expect(view.locator("h2")).to_contain_text(case["case_id"])
    chart = view.locator(f'svg.readings[data-device="{device}"]')
    await expect(chart).to_have_count(1)
    await expect(chart.locator("line.threshold")).to_have_attribute("stroke-dasharray", "5 3")
    await expect(chart.locator("line.clear")).to_have_count(1)
    await expect(chart.locator("circle.alarm")).to_have_count(1)
    caption = view.locator("figure.chart figcaption")
    await expect(caption).to_have_text(f"设备 {device} 读数（阈值 15 cm）")
    await expect(view.locator("ol.sources")).to_contain_text(f"传感器 设备 {device}")
    await expect(page.locator("#faults")).to_contain_text("设备故障")


async def check_hotspot(page: Any, hotspot: dict[str, Any]) -> None:
    expect = pw.expect
    board = page.locator("#hotspots")
    await expect(board).to_contain_text(hotspot["case_id"], timeout=WAIT_MS)
    await expect(board).to_contain_text(f"{hotspot['place']} 近30天第 3 次")
    await page.locator("form.filters select[name=source_type]").select_option(label="主动发现")
    rows = page.locator("#rows tr.case")
    await expect(rows).to_have_count(1, timeout=WAIT_MS)
    await board.locator(f'a[data-open="{hotspot["case_id"]}"]').click()
    await expect(page.locator("section.case ol.sources")).to_contain_text("主动发现 系统")


async def check_recovered_case(page: Any, case: dict[str, Any], device: str) -> None:
    expect = pw.expect
    await page.goto(f"{page.url.split('#')[0]}#{case['case_id']}")
    await page.reload()  # the session outlives a reload; the case comes from the address
    verified = page.locator("section.timeline li").filter(has_text="传感器核查")
    await expect(verified).to_have_count(1, timeout=WAIT_MS)
    await expect(verified.locator("svg.readings line.threshold")).to_have_count(1)
    await expect(verified.locator("svg.readings polyline.series")).to_have_count(1)
    await expect(verified).to_contain_text(f"设备 {device}")
    await verified.scroll_into_view_if_needed()


async def test_the_console_draws_a_sensor_cases_readings(
    browser_path: Path,
    stack: Stack,
) -> None:
    wet, dry, spot = devices("water_level", grid_points(3, stride=13), "chart")
    await register_all(stack, [wet, dry])
    await flood(stack, wet, dry)
    await raise_hotspot(stack, spot)
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        client.headers.update(headers(stack, Role.DISPATCHER))
        still_wet = await sensor_case(client, None)
        drained = await sensor_case(client, "closed")
        found: list[dict[str, Any]] = []

        async def listed() -> bool:
            found[:] = (await client.get("/api/v1/hotspots")).json()["items"]
            return len(found) == 1

        await eventually(listed, timeout=120, interval=1)
    assert any(t["kind"] == "sensor_verified" for t in drained["timeline"]), drained["timeline"]
    async with pw.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(browser_path), args=CHROMIUM_ARGS
        )
        try:
            errors: list[str] = []
            page = await new_page(browser, errors)
            # an admin: the 设备故障 board is theirs to see
            await sign_in_page(page, f"{stack.api_url}/", Role.ADMIN)
            await check_open_case(page, still_wet, wet.device_id)
            await shot(page, "console-sensor-case")
            await check_recovered_case(page, drained, dry.device_id)
            await shot(page, "console-sensor-recovered")
            await check_hotspot(page, found[0])
            await shot(page, "console-hotspot")
            assert not errors, errors
        finally:
            await browser.close()
