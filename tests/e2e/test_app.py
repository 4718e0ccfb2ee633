"""The grid worker's app (临港网格通, frontend/app/) at phone size in a real browser, against
the whole system as processes: installable as a PWA; a report made with no signal (photo
shrunk to 1600 px, pin dragged to the next grid) waits on the phone through a reload and is
sent when the signal returns, and stays one case however often it is sent again; its case
in 我的上报, updated live; an on-site verification sent back, then passed; a 503 waited out
for its Retry-After and a 422 kept, corrected and sent anew. Each screen is saved under
tests/e2e/artifacts/app/."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from cityops import jurisdiction
from cityops.contracts import Role
from tests.e2e.browser import CHROMIUM_ARGS
from tests.e2e.conftest import Stack
from tests.e2e.test_department import site_photo
from tests.integration.conftest import eventually
from tests.people import PASSWORD, SEATS, TOWN, sign_in

pytestmark = pytest.mark.e2e

try:
    import playwright.async_api as pw
except ImportError:  # browser_path turns this into a skip (or a failure in CI)
    pw = None  # type: ignore[assignment]  # unused when browser_path skips

FRONTEND = Path(__file__).resolve().parents[2] / "frontend" / "app"
ARTIFACTS = Path(__file__).parent / "artifacts" / "app"
PHONE = {"width": 390, "height": 844}
SPOT = {"latitude": 30.9655, "longitude": 121.909}  # Nanhui Xincheng, grid 009, 290 m from 008
DEPARTMENT = "roads_infrastructure"  # the seeded department account's
WAIT_MS = 30_000
GRID_NAME = "南汇新城镇第009网格"
DRAGGED_GRID, DRAGGED_GRID_NAME = f"{TOWN}-008", "南汇新城镇第008网格"  # 80 px west
CATEGORY = "人行道破损"
MORE_REPORTS = [
    ("环湖西二路与申港大道路口路灯不亮，夜间行人看不清", (30.9612, 121.9301)),
    ("地铁滴水湖站 2 号口共享单车乱停放，占用盲道", (30.9055, 121.9302)),
]
NEXT = {"registered", "dispatched", "in_progress", "reported_back"}


def test_manifest_has_what_an_install_needs() -> None:
    manifest = json.loads((FRONTEND / "manifest.webmanifest").read_text("utf-8"))
    assert manifest["name"] == "临港网格通"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/app/",
        "/app/",
        "standalone",
    )
    assert manifest["theme_color"].startswith("#")
    sizes = {}
    for icon in manifest["icons"]:
        path = FRONTEND / icon["src"].removeprefix("/app/")
        with Image.open(path) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"], icon
            sizes[icon["sizes"]] = icon.get("purpose", "any")
    assert {"192x192", "512x512"} <= set(sizes)


def photo_file(name: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": site_photo()}


async def phone(playwright: Any, chromium: Path, profile: Path, **options: Any) -> Any:
    """A 390×844 touch phone in Shanghai at SPOT. A persistent profile, because Chromium
    never offers to install an app from an incognito one."""
    return await playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(chromium),
        args=CHROMIUM_ARGS,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        geolocation=SPOT,
        permissions=["geolocation"],
        **options,
    )


async def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


async def drag_pin(page: Any, dx: int) -> None:
    """Drags the map's pin ``dx`` pixels sideways, as a finger would."""
    await page.locator(".map").evaluate("(map) => map.scrollIntoView({block: 'center'})")
    box = await page.locator(".map .pin").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(x, y)
    await page.mouse.down()
    for step in range(1, 11):
        await page.mouse.move(x + dx * step / 10, y)
    await page.mouse.up()
    await pw.expect(page.locator(".hint").first).to_contain_text("已按图钉位置上报")


class Backoffice:
    """The dispatcher's and the department's side, through the API."""

    def __init__(self, stack: Stack) -> None:
        self.client = httpx.AsyncClient(base_url=stack.api_url, timeout=30)
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:  # waits for accounts
            self.dispatcher = sign_in(client, Role.DISPATCHER)
            self.department = sign_in(client, Role.DEPARTMENT)
            self.worker = sign_in(client, Role.GRID_WORKER)

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.dispatcher)

    async def case(self, case_id: str) -> dict[str, Any]:
        response = await self.get(f"/api/v1/cases/{case_id}")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    async def command(
        self, case_id: str, who: dict[str, str], body: dict[str, Any], **extra: Any
    ) -> None:
        command = {"command_id": f"e2e.{uuid.uuid4().hex}", "body": body, **extra}
        r = await self.client.post(f"/api/v1/cases/{case_id}/commands", json=command, headers=who)
        assert r.status_code == 202, r.text
        url = r.json()["status_url"]

        async def decided() -> bool:
            status = (await self.client.get(url, headers=who)).json()["status"]
            assert status in ("pending", "applied"), status
            return status == "applied"

        await eventually(decided, timeout=60, interval=0.5)

    async def more_reports(self) -> None:
        """Two more reports by the worker (through the API), each waited for until cased."""
        ids = []
        for text, (lat, lon) in MORE_REPORTS:
            body = {
                "idempotency_key": f"e2e.{uuid.uuid4().hex}",
                "text": text,
                "location": {"lat": lat, "lon": lon},
            }
            r = await self.client.post("/api/v1/reports", json=body, headers=self.worker)
            assert r.status_code == 202, r.text
            ids.append(r.json()["report_id"])

        async def cased() -> bool:
            r = await self.client.get("/api/v1/me/reports", headers=self.worker)
            cases = {i["report_id"]: i["case_id"] for i in r.json()["items"]}
            return all(cases.get(i) for i in ids)

        await eventually(cased, timeout=120, interval=1)

    async def wait_state(self, case_id: str, *states: str) -> dict[str, Any]:
        found: dict[str, Any] = {}

        async def reached() -> bool:
            found.update(await self.case(case_id))
            return found["state"] in states

        await eventually(reached, timeout=60, interval=0.5)
        return found

    async def report_back(self, case_id: str) -> None:
        """Moves the case on until the department has reported the work done (待核查)."""
        case = await self.case(case_id)
        for _ in range(6):
            state = case["state"]
            if state == "reported_back":
                return
            if state in ("pending", "registered"):
                await self.command(
                    case_id, self.dispatcher, {"kind": "dispatch", "department": DEPARTMENT}
                )
            elif state in ("dispatched", "in_progress") and case["department"] != DEPARTMENT:
                await self.command(
                    case_id,
                    self.dispatcher,
                    {"kind": "reroute", "department": DEPARTMENT},
                    reason="属道路设施",
                )
            elif state == "dispatched":
                await self.command(case_id, self.department, {"kind": "accept"})
            elif state == "in_progress":
                photo = await self.client.post(
                    "/api/v1/photos",
                    files={"file": ("done.jpg", site_photo(800, 600), "image/jpeg")},
                    headers=self.department,
                )
                assert photo.status_code == 201, photo.text
                evidence = {
                    "notes": "地砖已重新铺设，现场已清理",
                    "photos": [photo.json()["photo_id"]],
                }
                await self.command(
                    case_id, self.department, {"kind": "report_back"}, evidence=evidence
                )
            else:
                raise AssertionError(f"case {case_id} cannot be reported back from {state}")
            case = await self.wait_state(case_id, *(NEXT - {state}))
        raise AssertionError(f"case {case_id} did not reach reported_back")


async def installable(page: Any, context: Any, api_url: str) -> None:
    await page.goto(f"{api_url}/app/")
    state = await page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.state)")
    assert state in ("activating", "activated"), state
    await page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WAIT_MS)
    cdp = await context.new_cdp_session(page)
    manifest = await cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    errors = (await cdp.send("Page.getInstallabilityErrors"))["installabilityErrors"]
    assert errors == [], errors
    await pw.expect(page.get_by_role("button", name="登录")).to_be_visible()
    await shot(page, "login")


async def sign_in_app(page: Any) -> None:
    await page.fill("input[name=username]", SEATS[Role.GRID_WORKER].user_id)
    await page.fill("input[name=password]", PASSWORD)
    await page.get_by_role("button", name="登录").click()
    await pw.expect(page.get_by_role("heading", name="新上报")).to_be_visible(timeout=WAIT_MS)
    await pw.expect(page.locator(".map .leaflet-overlay-pane path").first).to_be_attached(
        timeout=WAIT_MS
    )
    await pw.expect(page.locator(".hint").first).to_contain_text("已定位")
    await pw.expect(page.locator(".grid-name")).to_have_text(f"所在网格：{GRID_NAME}")


async def report_offline(page: Any, context: Any, text: str) -> str:
    """Makes a report with no signal; returns its idempotency key once it waits (待发送)."""
    await context.set_offline(True)
    await page.fill("textarea[name=text]", text)
    await page.fill("input[name=address]", "环湖西二路 888 号附近")
    await page.set_input_files("input[name=photos]", [photo_file("site.jpg")])
    await pw.expect(page.locator(".photos .photo img")).to_have_count(1, timeout=WAIT_MS)
    await page.select_option("select[name=category]", label=CATEGORY)
    await drag_pin(page, dx=-80)
    await pw.expect(page.locator(".grid-name")).to_have_text(f"所在网格：{DRAGGED_GRID_NAME}")
    await page.evaluate("window.scrollTo(0, 0)")
    await shot(page, "report")
    await page.get_by_role("button", name="提交上报").click()
    draft = page.locator(".card.draft").first
    await pw.expect(draft.locator(".tag")).to_have_text("待发送", timeout=WAIT_MS)
    await shot(page, "outbox")
    # with no signal: the shell comes from the service worker, the draft from IndexedDB
    await page.reload()
    await pw.expect(draft.locator(".tag")).to_have_text("待发送", timeout=WAIT_MS)
    await pw.expect(page.locator(".tabs .badge")).to_have_text("1")
    sides = await page.evaluate(
        """import('/app/outbox.js').then(async (m) => {
             const [draft] = await m.list();
             const image = await createImageBitmap(draft.photos[0].blob);
             return [draft.photos[0].blob.type, image.width, image.height];
           })"""
    )
    assert sides == ["image/jpeg", 1600, 1200], sides
    return str(await draft.get_attribute("data-key"))


async def back_online(page: Any, context: Any, key: str) -> str:
    await context.set_offline(False)
    draft = page.locator(f'.card.draft[data-key="{key}"]')
    await pw.expect(draft.locator(".tag")).to_have_text("已提交", timeout=WAIT_MS)
    return str(await draft.locator(".report-id").inner_text())


async def sent_again(page: Any, key: str) -> list[str]:
    """The same draft sent three more times (two at once): the API's answers."""
    return list(
        await page.evaluate(
            """(key) => import('/app/outbox.js').then(async (m) => {
                 const ids = [];
                 const again = async () => {
                   await m.resend(key);
                   const draft = (await m.list()).find((r) => r.key === key);
                   ids.push(`${draft.state} ${draft.report_id}`);
                 };
                 await Promise.all([again(), again()]);
                 await again();
                 return ids;
               })""",
            key,
        )
    )


async def refused_then_retried(
    playwright: Any, chromium: Path, api_url: str, profile: Path
) -> None:
    """A 503 with Retry-After is waited out and retried; a 422 is final and keeps the draft.
    (Its own profile with the service worker blocked, so that routes see every request.)"""
    context = await phone(playwright, chromium, profile, service_workers="block")
    try:
        page = context.pages[0] if context.pages else await context.new_page()
        calls: list[float] = []
        answers = [
            {
                "status": 503,
                "headers": {"Retry-After": "2"},
                "json": {"detail": "消息队列暂不可用"},
            },
            None,  # the API's own answer
            {"status": 422, "json": {"detail": "上报位置不在服务范围内"}},
            None,
        ]

        async def intake(route: Any) -> None:
            calls.append(asyncio.get_running_loop().time())
            answer = answers[len(calls) - 1]
            await (route.continue_() if answer is None else route.fulfill(**answer))

        await page.route("**/api/v1/reports", intake)
        await page.goto(f"{api_url}/app/")
        await sign_in_app(page)
        for n in (1, 2):
            await page.goto(f"{api_url}/app/#/report")
            await page.fill("textarea[name=text]", f"绿化带内堆放建筑垃圾（第 {n} 条）")
            await page.set_input_files("input[name=photos]", [photo_file(f"pile{n}.jpg")])
            await pw.expect(page.locator(".photos .photo img")).to_have_count(1, timeout=WAIT_MS)
            await page.get_by_role("button", name="提交上报").click()
            if n == 1:
                draft = page.locator(".card.draft").first
                await pw.expect(draft).to_contain_text("服务暂时不可用", timeout=WAIT_MS)
                await pw.expect(draft.locator(".tag")).to_have_text("已提交", timeout=WAIT_MS)
        refused = page.locator(".card.draft.failed")
        await pw.expect(refused).to_contain_text(
            "未能提交：上报位置不在服务范围内", timeout=WAIT_MS
        )
        assert len(calls) == 3 and calls[1] - calls[0] >= 1.9, calls  # Retry-After: 2
        await pw.expect(refused.get_by_role("button", name="删除")).to_be_visible()
        await pw.expect(page.locator(".tabs .badge")).to_have_text("1")
        await shot(page, "outbox-refused")
        await refused.get_by_role("button", name="修改").click()  # corrected, sent as a new one
        await pw.expect(page.get_by_role("heading", name="修改后重新提交")).to_be_visible()
        await pw.expect(page.locator(".photos .photo img")).to_have_count(1)
        await page.fill("textarea[name=text]", "绿化带内堆放建筑垃圾（第 2 条，已改正）")
        await page.get_by_role("button", name="提交上报").click()
        await pw.expect(page.locator(".card.draft.sent")).to_have_count(2, timeout=WAIT_MS)
        await pw.expect(page.locator(".card.draft")).to_have_count(2)
    finally:
        await context.close()


async def one_case(office: Backoffice, report_id: str, token: str) -> str:
    async def cased() -> bool:
        return (await office.get(f"/api/v1/reports/{report_id}")).status_code == 200

    await eventually(cased, timeout=120, interval=1)
    case_id = str((await office.get(f"/api/v1/reports/{report_id}")).json()["case_id"])
    found: list[str] = []

    async def searchable() -> bool:  # the queue's index may trail the report's
        states = ["pending", "registered", "dispatched", "in_progress"]
        page = (await office.get("/api/v1/cases", q=token, state=states)).json()
        found[:] = [c["case_id"] for c in page["items"]]
        return bool(found)

    await eventually(searchable, timeout=30, interval=0.5)
    assert found == [case_id], found
    case = await office.case(case_id)
    assert (case["report_count"], case["grid"]) == (1, DRAGGED_GRID), case
    return case_id


async def my_reports(page: Any, report_id: str, case_id: str) -> None:
    await page.get_by_role("link", name="我的上报").click()
    card = page.locator(f'.card.report[data-report="{report_id}"]')
    await pw.expect(card.locator(".case-id")).to_have_text(case_id, timeout=WAIT_MS)
    await pw.expect(page.locator(".card.report")).to_have_count(1)
    await shot(page, "mine")


async def open_task(page: Any, case_id: str) -> None:
    await page.get_by_role("link", name="核查任务").click()
    card = page.locator(f'.card.task[data-case="{case_id}"]')
    if not await card.count():
        await page.get_by_role("button", name="刷新").click()
    await pw.expect(card).to_be_visible(timeout=WAIT_MS)
    await shot(page, "tasks")
    await card.click()
    feedback = page.locator(".feedback")
    await pw.expect(feedback).to_contain_text("处置反馈", timeout=WAIT_MS)
    await pw.expect(feedback.locator("img.thumb")).to_be_visible(timeout=WAIT_MS)
    await feedback.locator("img.thumb").click()  # the department's photo, full size
    await pw.expect(page.locator(".viewer img")).to_be_visible(timeout=WAIT_MS)
    await page.locator(".viewer").click()
    await pw.expect(page.locator(".viewer")).to_have_count(0)


async def verify(page: Any, passed: bool, name: str, context: Any = None) -> None:
    """The on-site verdict through the form; with ``context``, made with no signal: it
    waits on the phone (待发送) and goes when the signal comes back."""
    if context is not None:
        await context.set_offline(True)
    await page.get_by_role("radio", name="核查通过" if passed else "核查不通过", exact=True).click()
    if not passed:
        await page.get_by_role("button", name="提交核查结果").click()
        await pw.expect(page.locator(".verify .notice.error")).to_contain_text(
            "请填写核查不通过的原因"
        )
        await page.fill("textarea[name=notes]", "人行道仍有两块地砖松动，未按要求修复")
    await page.set_input_files("input[name=verify-photos]", [photo_file("check.jpg")])
    await pw.expect(page.locator(".verify .photo img")).to_have_count(1, timeout=WAIT_MS)
    await shot(page, f"{name}-form")
    await page.get_by_role("button", name="提交核查结果").click()
    outcome = page.locator(".outcome.ok")
    if context is not None:
        await pw.expect(outcome).to_contain_text("核查结果已保存在本机", timeout=WAIT_MS)
        await pw.expect(page.locator("form.verify")).to_have_count(0)
        await pw.expect(page.locator(".tabs .badge")).to_have_text("1")
        await shot(page, f"{name}-saved")
        await context.set_offline(False)
        await pw.expect(outcome).to_contain_text("保存在本机的核查结果已提交", timeout=WAIT_MS)
        await pw.expect(page.locator(".tabs .badge")).to_have_count(0)
        return
    expected = "核查通过，已生效" if passed else "核查不通过，已退回处置部门返工"
    await pw.expect(outcome).to_contain_text(expected, timeout=WAIT_MS)
    await shot(page, name)


async def verifications(page: Any, context: Any, office: Backoffice, case_id: str) -> None:
    """Sent back (核查不通过) once, with no signal on site, then passed after the
    department's second report. The first 待核查 reaches 我的上报 live, with no reload."""
    await office.report_back(case_id)
    mine = page.locator(".card.report", has=page.locator(f'.case-id:text-is("{case_id}")'))
    await pw.expect(mine.locator(".tag")).to_have_text("待核查", timeout=WAIT_MS)
    await open_task(page, case_id)
    await verify(page, passed=False, name="task-failed", context=context)
    await office.wait_state(case_id, "in_progress")
    await office.report_back(case_id)
    await page.get_by_role("button", name="‹ 返回任务列表").click()
    await open_task(page, case_id)
    await page.evaluate("window.scrollTo(0, 0)")
    await shot(page, "task")
    await verify(page, passed=True, name="task-passed")
    await office.wait_state(case_id, "verified")


async def all_my_reports(page: Any, report_id: str) -> None:
    await page.get_by_role("link", name="我的上报").click()
    await page.get_by_role("button", name="刷新").click()
    await pw.expect(page.locator(".card.report .case-id")).to_have_count(3, timeout=WAIT_MS)
    mine = page.locator(f'.card.report[data-report="{report_id}"] .tag')
    await pw.expect(mine).to_have_text("核查通过", timeout=WAIT_MS)
    await shot(page, "mine-verified")


async def test_app_offline_report_and_verification(
    browser_path: Path,
    stack: Stack,
    tmp_path: Path,
) -> None:
    place = jurisdiction.load().locate(SPOT["latitude"], SPOT["longitude"])
    assert place is not None and place.grid is not None and place.town.code == TOWN
    token = f"e2e{uuid.uuid4().hex[:8]}"
    text = f"临港大道人行道地砖破损翘起，行人容易绊倒（{token}）"
    office = Backoffice(stack)
    async with pw.async_playwright() as playwright:
        context = await phone(playwright, browser_path, tmp_path / "profile")
        try:
            page = context.pages[0] if context.pages else await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await installable(page, context, stack.api_url)
            await sign_in_app(page)
            key = await report_offline(page, context, text)
            report_id = await back_online(page, context, key)
            assert await sent_again(page, key) == [f"sent {report_id}"] * 3
            case_id = await one_case(office, report_id, token)
            await my_reports(page, report_id, case_id)

            await verifications(page, context, office, case_id)
            await office.more_reports()
            await all_my_reports(page, report_id)
            assert not errors, errors
            await refused_then_retried(playwright, browser_path, stack.api_url, tmp_path / "p2")
        finally:
            await context.close()
            await office.client.aclose()
