"""The dispatcher console in a real browser, against the whole system as processes: the
queue in Chinese, today's figures, and a case dispatched and accepted from its page, with
the resulting events arriving on its timeline."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from cityctl.simulate import reports
from cityops import jurisdiction, taxonomy
from cityops.contracts.states import STATE_LABELS
from tests.e2e.conftest import Stack
from tests.integration.conftest import eventually

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Inside Shanghai (intake accepts it) but outside Lingang: no town, so the router
# abstains and the case waits for a dispatcher as 待立案.
PEOPLES_SQUARE = {"lat": 31.2304, "lon": 121.4737}
HOSTILE = '<img src=x onerror="window.__xss=1">路灯不亮'
WAIT_MS = 30_000

pytestmark = pytest.mark.e2e

try:
    import playwright.async_api as pw
except ImportError:  # reported by the browser fixture: a skip here, a failure in CI
    pw = None  # type: ignore[assignment]  # the fixture below turns this into a skip or a failure


@pytest.fixture(scope="session")  # session: checked before the servers start
def browser_path() -> Path:
    """Debian's chromium, driven by Playwright. Outside CI a machine without them skips this
    test; in CI (``CI=true``, where ``make install`` installs chromium) it fails instead,
    so a broken install can never pass as a skip."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} is missing (apt-get install chromium fonts-wqy-zenhei)")
    if pw is None:
        missing.append("playwright is not importable (make install adds it)")
    if missing:
        reason = "; ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but the console's browser test cannot run: {reason}")
        pytest.skip(reason)
    return CHROMIUM


def report_bodies() -> list[dict[str, Any]]:
    """Four ordinary reports, one the router must leave pending, one with markup in it."""
    stream = reports(taxonomy.load(), jurisdiction.load(), seed=23, repeat_share=0.0)
    bodies = [next(stream) for _ in range(4)]
    outside = {**next(stream), "location": PEOPLES_SQUARE, "address": "黄浦区人民广场附近"}
    hostile = {**next(stream), "text": HOSTILE}
    for body in (outside, hostile):
        body["idempotency_key"] = uuid.uuid4().hex
    return [*bodies, outside, hostile]


async def post_and_wait(api_url: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Post the reports; return the case of each once the queue holds it."""
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        report_ids = []
        for body in bodies:
            response = await client.post("/api/v1/reports", json=body)
            assert response.status_code == 202, response.text
            report_ids.append(response.json()["report_id"])

        async def all_cased() -> bool:
            found = [(await client.get(f"/api/v1/reports/{r}")).status_code for r in report_ids]
            return all(status == 200 for status in found)

        await eventually(all_cased, timeout=120, interval=1)
        cases = []
        for report_id in report_ids:
            case_id = (await client.get(f"/api/v1/reports/{report_id}")).json()["case_id"]
            cases.append((await client.get(f"/api/v1/cases/{case_id}")).json())
        return cases


async def check_queue(page: Any, cases: list[dict[str, Any]], pending: str) -> None:
    expect = pw.expect
    rows = page.locator("#rows tr.case")
    await expect(rows).to_have_count(len({c["case_id"] for c in cases}), timeout=WAIT_MS)
    labels = await page.locator("#rows tr.case .tag").all_inner_texts()
    assert set(labels) <= set(STATE_LABELS.values()), labels
    await expect(page.locator(f'#rows tr[data-id="{pending}"]')).to_contain_text("待立案")
    await expect(page.locator("#rows")).to_contain_text("<img src=x")  # shown, not run
    assert await page.evaluate("window.__xss") is None
    await expect(page.locator("#tiles")).to_contain_text("按期结案率")
    await expect(page.locator("#tiles")).to_contain_text("自动派遣占比")
    await expect(page.locator("#dims button")).to_have_count(5)


async def dispatch_then_accept(page: Any, case: dict[str, Any]) -> None:
    expect = pw.expect
    head, timeline = page.locator("#casehead h2"), page.locator("#timeline li b.kind")
    await page.locator(f'#rows tr[data-id="{case["case_id"]}"]').click()
    await expect(head).to_contain_text(case["case_id"])
    await expect(head).to_contain_text("待立案")

    await page.get_by_role("button", name="派遣", exact=True).click()
    route = page.locator("#actform select[name=route]")
    assert (await route.input_value()).startswith(f"{case['department']}|")
    await page.get_by_role("button", name="确认派遣").click()
    await expect(timeline.filter(has_text=re.compile("^派遣$"))).to_have_count(1, timeout=WAIT_MS)
    await expect(head).to_contain_text("已派遣")
    await expect(page.locator("#actstatus")).to_contain_text("已生效")

    department = page.locator(".actions.dept")
    await department.get_by_role("button", name="受理", exact=True).click()
    await expect(timeline.filter(has_text=re.compile("^受理$"))).to_have_count(1, timeout=WAIT_MS)
    await expect(head).to_contain_text("处置中")


async def check_refusals(page: Any) -> None:
    """A missing reason is caught in the page; an invalid command shows the API's detail."""
    expect = pw.expect
    department, status = page.locator(".actions.dept"), page.locator("#actstatus")
    await department.get_by_role("button", name="退单").click()
    await page.get_by_role("button", name="确认退单").click()
    await expect(status).to_contain_text("请填写「退单」的原因")

    await department.get_by_role("button", name="申请延期").click()
    await page.locator("#actform input[name=hours]").fill("5000")
    await page.locator("#actform input[name=reason]").fill("需协调管线单位")
    await page.get_by_role("button", name="确认申请延期").click()
    await expect(status).to_contain_text("请求内容不符合要求")


async def test_console_queue_and_case_actions(
    browser_path: Path, stack: Stack, tmp_path: Path
) -> None:
    cases = await post_and_wait(stack.api_url, report_bodies())
    pending = cases[4]
    assert pending["state"] == "pending", pending
    async with pw.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(browser_path), args=CHROMIUM_ARGS
        )
        try:
            page = await browser.new_page(
                viewport={"width": 1440, "height": 900},
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
            )
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(f"{stack.api_url}/")
            await check_queue(page, cases, pending["case_id"])
            await dispatch_then_accept(page, pending)
            await check_refusals(page)
            await page.screenshot(path=str(tmp_path / "console.png"), full_page=True)
            assert not errors, errors
        finally:
            await browser.close()
