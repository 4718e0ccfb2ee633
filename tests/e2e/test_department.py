"""The department's view (frontend/department/) in a real browser, against the whole system
as processes: the roads department of Nanhui Xincheng signs in and sees only its own cases
(not water's in its town, not roads' in another town); a case dispatched to it while the
page is open arrives without a reload; it accepts one case, asks for more time, and reports
back with notes and a photo shrunk in the browser to at most 1600 px; it returns a
misrouted case with its reason. Each outcome is shown to the person who clicked; each
screen is saved under tests/e2e/artifacts/."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from cityops.contracts import Role
from tests.e2e.browser import CHROMIUM_ARGS, WAIT_MS, pw
from tests.e2e.conftest import Stack
from tests.e2e.test_console import (
    CHOSEN_GRID,
    headers,
    new_page,
    open_cases,
    shot,
    sign_in_page,
    site_photo,
)
from tests.integration.conftest import eventually
from tests.people import PASSWORD, SEATS, TOWN

pytestmark = pytest.mark.e2e

STREETLIGHT, MANHOLE = "C0109", "C0102"  # roads_infrastructure's, water's
OTHER_TOWN = "nicheng"


async def dispatched(stack: Stack, texts: list[str]) -> dict[str, dict[str, Any]]:
    """The case of each text (by its text), once every one is dispatched."""
    found: dict[str, dict[str, Any]] = {}
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        client.headers.update(headers(stack, Role.DISPATCHER))

        async def all_there() -> bool:
            r = await client.get("/api/v1/cases", params={"state": "dispatched", "size": 100})
            found.update({c["text"]: c for c in r.json()["items"] if c["text"] in texts})
            return len(found) == len(texts)

        await eventually(all_there, timeout=120, interval=1)
    return found


async def not_for_others(page: Any, url: str) -> None:
    """A dispatcher's account is refused here, in words; the form stays."""
    await page.goto(url)
    form = page.locator("main.login form")
    await pw.expect(form).to_contain_text("处置部门")
    await form.locator("input[name=username]").fill(SEATS[Role.DISPATCHER].user_id)
    await form.locator("input[name=password]").fill(PASSWORD)
    await form.locator("button.primary").click()
    await pw.expect(form.locator("p.err")).to_contain_text("此页面仅限处置部门使用")
    await shot(page, "department-login")


async def sees_only_its_own(page: Any, mine: list[str], others: list[str]) -> None:
    expect = pw.expect
    rows = page.locator("#rows li.case")
    await expect(rows).to_have_count(len(mine), timeout=WAIT_MS)
    for case_id in mine:
        await expect(page.locator(f'#rows li[data-id="{case_id}"]')).to_contain_text("已派遣")
    for case_id in others:
        await expect(page.locator(f'#rows li[data-id="{case_id}"]')).to_have_count(0)
    await expect(page.locator("#total")).to_contain_text("建设交通 · 南汇新城镇")


async def accept_and_extend(page: Any, case_id: str) -> None:
    expect = pw.expect
    view = page.locator("section.case")
    await page.locator(f'#rows li[data-id="{case_id}"]').click()
    await expect(view.locator("h2")).to_contain_text(case_id)
    await expect(view.locator(f'.gridmap path[stroke="{CHOSEN_GRID}"]')).to_have_count(1)
    await expect(view.locator("button[data-act=accept] kbd")).to_have_text("A")
    await page.keyboard.press("a")
    await expect(page.locator(".toasts")).to_contain_text("「受理」已执行", timeout=WAIT_MS)
    await expect(view.locator("h2")).to_contain_text("处置中", timeout=WAIT_MS)

    await view.locator("button[data-act=extend]").click()
    form = view.locator("form.actform")
    await form.locator("input[name=hours]").fill("48")
    await form.locator("input[name=reason]").fill("需协调管线单位停电作业")
    await form.locator("button.go").click()
    await expect(page.locator(".toasts")).to_contain_text("「申请延期」已执行", timeout=WAIT_MS)
    timeline = view.locator("section.timeline li")
    await expect(timeline.filter(has_text="申请延期")).to_contain_text("48 小时", timeout=WAIT_MS)


async def report_back(page: Any, case_id: str) -> None:
    expect = pw.expect
    view = page.locator("section.case")
    await page.keyboard.press("f")
    form = view.locator("form.actform")
    await form.locator("button.go").click()
    await expect(form.locator(".formerr")).to_have_text("请填写处置说明或添加照片")
    await form.locator("textarea[name=notes]").fill("已更换灯具，夜间照明恢复")
    await form.locator("input[type=file]").set_input_files(
        files=[{"name": "site.jpg", "mimeType": "image/jpeg", "buffer": site_photo()}]
    )
    await expect(form.locator(".picker .thumb.done")).to_have_count(1, timeout=WAIT_MS)
    await shot(page, "department-report-back")
    await form.locator("button.go").click()
    await expect(page.locator(".toasts")).to_contain_text("「处理反馈」已执行", timeout=WAIT_MS)
    entry = view.locator("section.timeline li").filter(has_text="处理反馈")
    await expect(entry).to_contain_text("已更换灯具", timeout=WAIT_MS)
    await expect(entry.locator(".photos img")).to_have_count(1, timeout=WAIT_MS)
    await expect(page.locator(f'#rows li[data-id="{case_id}"]')).to_contain_text(
        "待核查", timeout=WAIT_MS
    )


async def photo_was_shrunk(stack: Stack, case_id: str) -> None:
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        client.headers.update(headers(stack, Role.DEPARTMENT))
        case = (await client.get(f"/api/v1/cases/{case_id}")).json()
        (entry,) = [t for t in case["timeline"] if t["kind"] == "reported_back"]
        (photo,) = entry["evidence"]["photos"]
        r = await client.get(f"/api/v1/photos/{photo}")
        assert r.status_code == 200, r.text
        with Image.open(io.BytesIO(r.content)) as image:
            assert max(image.size) <= 1600, image.size
            assert image.format == "JPEG"


async def give_back(page: Any, case_id: str) -> None:
    expect = pw.expect
    view = page.locator("section.case")
    await page.locator(f'#rows li[data-id="{case_id}"]').click()
    await expect(view.locator("h2")).to_contain_text(case_id)
    await page.keyboard.press("t")
    form = view.locator("form.actform")
    await expect(form.locator("input[name=reason]")).to_be_focused()
    await page.keyboard.press("Enter")  # still empty
    await expect(form.locator(".formerr")).to_have_text("请填写「退单」的原因")
    await form.locator("input[name=reason]").fill("路灯杆属电力公司产权，非本部门职责")
    await page.keyboard.press("Enter")
    await expect(page.locator(".toasts")).to_contain_text("「退单」已执行", timeout=WAIT_MS)
    await expect(view.locator("section.timeline li").filter(has_text="退单")).to_contain_text(
        "路灯杆属电力公司产权", timeout=WAIT_MS
    )


async def test_department_works_its_own_cases(browser_path: Path, stack: Stack) -> None:
    texts = {
        "light": "申港大道路灯不亮，晚上一片漆黑",
        "pole": "环湖西一路路灯杆歪斜，存在倒伏风险",
        "water": "小区门口污水井盖破损",
        "elsewhere": "泥城镇路灯不亮",
        "live": "海港大道路灯闪烁",
    }
    await open_cases(
        stack,
        [
            (STREETLIGHT, TOWN, 10, texts["light"]),
            (STREETLIGHT, TOWN, 30, texts["pole"]),
            (MANHOLE, TOWN, 50, texts["water"]),
            (STREETLIGHT, OTHER_TOWN, 5, texts["elsewhere"]),
        ],
    )
    cases = await dispatched(stack, [texts[k] for k in ("light", "pole", "water", "elsewhere")])
    light, pole = cases[texts["light"]]["case_id"], cases[texts["pole"]]["case_id"]
    others = [cases[texts["water"]]["case_id"], cases[texts["elsewhere"]]["case_id"]]
    async with pw.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(browser_path), args=CHROMIUM_ARGS
        )
        try:
            errors: list[str] = []
            page = await new_page(browser, errors)
            await not_for_others(page, f"{stack.api_url}/department/")
            await sign_in_page(page, f"{stack.api_url}/department/", Role.DEPARTMENT)
            await sees_only_its_own(page, [light, pole], others)
            await page.evaluate("window.__same_page = true")
            await open_cases(stack, [(STREETLIGHT, TOWN, 70, texts["live"])])
            await pw.expect(page.locator("#rows li.case")).to_have_count(3, timeout=WAIT_MS)
            assert await page.evaluate("window.__same_page") is True
            await shot(page, "department-queue")
            await accept_and_extend(page, light)
            await report_back(page, light)
            await shot(page, "department-reported")
            await give_back(page, pole)
            await shot(page, "department-returned")
            assert not errors, errors
        finally:
            await browser.close()
    await photo_was_shrunk(stack, light)
