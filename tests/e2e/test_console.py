"""The dispatcher's console (frontend/console/) in a real browser, against the whole system
as processes: sign-in; the queue in Chinese with markup shown as text, never run; a report
made while the page is open arriving in the queue without a reload (SSE); a pending case
opened with its grid map and the classifier's suggestions, dispatched with two keystrokes,
its events arriving on its timeline and the outcome shown; a refusal shown with the
workflow's reason; a manager's read-only view. Each screen is saved under
tests/e2e/artifacts/."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from cityctl.simulate import reports
from cityops import jurisdiction, taxonomy
from cityops.contracts import Role, Suggestion
from cityops.contracts.states import STATE_LABELS
from cityops.kafka import encode
from tests.e2e.browser import CHROMIUM_ARGS, WAIT_MS, pw
from tests.e2e.conftest import Stack
from tests.e2e.drill import classified
from tests.e2e.test_sensors import produce
from tests.integration.conftest import eventually
from tests.people import PASSWORD, SEATS, TOWN, sign_in

ARTIFACTS = Path(__file__).parent / "artifacts"
SCREEN = {"width": 1440, "height": 900}
# Inside Shanghai (intake accepts it) but outside Lingang: no town, so the router
# abstains and the case waits for a dispatcher as 待立案.
PEOPLES_SQUARE = {"lat": 31.2304, "lon": 121.4737}
HOSTILE = '<img src=x onerror="window.__xss=1">路灯不亮'
CHOSEN_GRID, MARKER = "#c2410c", "#b91c1c"  # the case's grid and location (shared/map.js)

pytestmark = pytest.mark.e2e


async def new_page(browser: Any, errors: list[str]) -> Any:
    page = await browser.new_page(viewport=SCREEN, locale="zh-CN", timezone_id="Asia/Shanghai")
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page


async def sign_in_page(page: Any, url: str, who: Role) -> None:
    """Opens ``url`` and signs in through the form as the seeded account of ``who``."""
    await page.goto(url)
    form = page.locator("main.login form")
    await pw.expect(form).to_contain_text("临港新片区 一网统管")
    await form.locator("input[name=username]").fill(SEATS[who].user_id)
    await form.locator("input[name=password]").fill(PASSWORD)
    await form.locator("button.primary").click()
    await pw.expect(page.locator("header.top .user")).to_contain_text(SEATS[who].name)


async def wrong_password(page: Any, url: str) -> None:
    await page.goto(url)
    form = page.locator("main.login form")
    await form.locator("input[name=username]").fill(SEATS[Role.DISPATCHER].user_id)
    await form.locator("input[name=password]").fill("not-the-password")
    await form.locator("button.primary").click()
    await pw.expect(form.locator("p.err")).to_contain_text("用户名或密码不正确")


async def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def report_bodies(n: int = 4, seed: int = 23) -> list[dict[str, Any]]:
    """``n`` ordinary reports, then one the router must leave pending and one with markup."""
    stream = reports(taxonomy.load(), jurisdiction.load(), seed=seed, repeat_share=0.0)
    bodies = [next(stream) for _ in range(n)]
    outside = {**next(stream), "location": PEOPLES_SQUARE, "address": "黄浦区人民广场附近"}
    hostile = {**next(stream), "text": HOSTILE}
    for body in (outside, hostile):
        body["idempotency_key"] = uuid.uuid4().hex
    for body in (*bodies, outside, hostile):
        body.pop("reporter", None)  # the reporter is the signed-in grid worker
    return [*bodies, outside, hostile]


def site_photo(width: int = 2400, height: int = 1800) -> bytes:
    """A JPEG larger than the screens keep (the department's page shrinks it to 1600 px)."""
    image = Image.new("RGB", (width, height), (120, 130, 140))
    pen = ImageDraw.Draw(image)
    for x in range(0, width, 150):
        pen.rectangle([x, height // 2, x + 120, height], fill=(90 + x % 120, 90, 80))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


async def with_photo(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    """The report with a photo the grid worker uploaded first."""
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        client.headers.update(headers(stack, Role.GRID_WORKER))
        files = {"file": ("site.jpg", site_photo(800, 600), "image/jpeg")}
        r = await client.post("/api/v1/photos", files=files)
        assert r.status_code == 201, r.text
        return {**body, "photos": [r.json()["photo_id"]]}


def headers(stack: Stack, who: Role) -> dict[str, str]:
    """Signs ``who`` in, waiting while the API is still reading the accounts."""
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        return sign_in(client, who, timeout_s=60)


async def post_reports(stack: Stack, bodies: list[dict[str, Any]]) -> list[str]:
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        client.headers.update(headers(stack, Role.GRID_WORKER))
        ids = []
        for body in bodies:
            response = await client.post("/api/v1/reports", json=body)
            assert response.status_code == 202, response.text
            ids.append(response.json()["report_id"])
        return ids


async def cases_of(stack: Stack, report_ids: list[str]) -> list[dict[str, Any]]:
    """The case of each report, once the queue holds them all."""
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        client.headers.update(headers(stack, Role.DISPATCHER))
        found: dict[str, str] = {}

        async def all_cased() -> bool:
            for report_id in report_ids:
                if report_id not in found:
                    r = await client.get(f"/api/v1/reports/{report_id}")
                    if r.status_code == 200 and r.json()["case_id"]:
                        found[report_id] = r.json()["case_id"]
            return len(found) == len(report_ids)

        await eventually(all_cased, timeout=120, interval=1)
        return [(await client.get(f"/api/v1/cases/{found[r]}")).json() for r in report_ids]


def place(town: str, n: int, north_m: float = 0.0) -> tuple[float, float, str]:
    """The representative point of ``town``'s n-th unit grid (moved ``north_m`` metres
    north), and that grid's code."""
    grid = [g for g in jurisdiction.load().grids.values() if g.town == town][n]
    point = grid.polygon.representative_point()
    return point.y + north_m / 111_000, point.x, grid.code


def suggestions(category: str) -> tuple[Suggestion, ...]:
    """A sure router's top three: the class, then two others of its department and another's."""
    leaves = taxonomy.load().leaves
    leaf = taxonomy.load().leaf(category)
    kin = next(x for x in leaves if x.department == leaf.department and x.code != leaf.code)
    other = next(x for x in leaves if x.department != leaf.department)
    return tuple(
        Suggestion(category=x.code, category_name=x.name, department=x.department, confidence=p)
        for x, p in ((leaf, 0.91), (kin, 0.04), (other, 0.03))
    )


async def open_cases(
    stack: Stack, specs: list[tuple[str, str, int, str]], north_m: float = 0.0
) -> list[str]:
    """Routed sources (category, town, grid index, text) straight onto cases.classified, as
    the classifier sends them when it is sure of the department: each opens a case that is
    dispatched at once. Returns their source ids."""
    items, ids = [], []
    for category, town, n, text in specs:
        lat, lon, grid = place(town, n, north_m)
        source_id = f"e2e-{uuid.uuid4().hex[:12]}"
        item = classified(source_id, lat, lon, text, category)
        update = {"town": town, "grid": grid, "top": suggestions(category), "model_version": "e2e"}
        routed = item.classification.model_copy(update=update)
        items.append((source_id, encode(item.model_copy(update={"classification": routed}))))
        ids.append(source_id)
    await produce(stack, stack.settings.topics.cases_classified, items)
    return ids


async def case_with_text(stack: Stack, text: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        client.headers.update(headers(stack, Role.DISPATCHER))

        async def there() -> bool:
            r = await client.get("/api/v1/cases", params={"q": text, "state": "dispatched"})
            found[:] = [c for c in r.json()["items"] if c["text"] == text]
            return len(found) == 1

        await eventually(there, timeout=120, interval=1)
    return found[0]


async def look_alikes(stack: Stack) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two reports of one broken street light 150 m apart (beyond the 50 m that merges them
    by themselves), the second made after the first became a case."""
    first, second = "临港大道路灯整排不亮", "临港大道这边好几盏路灯都不亮了"
    await open_cases(stack, [("C0109", TOWN, 40, first)])
    older = await case_with_text(stack, first)
    await open_cases(stack, [("C0109", TOWN, 40, second)], north_m=150)
    return older, await case_with_text(stack, second)


async def check_queue(page: Any, cases: list[dict[str, Any]], pending: str) -> None:
    expect = pw.expect
    rows = page.locator("#rows tr.case")
    await expect(rows).to_have_count(len({c["case_id"] for c in cases}), timeout=WAIT_MS)
    labels = await page.locator("#rows tr.case .tag").all_inner_texts()
    assert set(labels) <= set(STATE_LABELS.values()), labels
    await expect(page.locator(f'#rows tr[data-id="{pending}"]')).to_contain_text("待立案")
    await expect(page.locator(f'#rows tr[data-id="{pending}"] .countdown')).to_contain_text("剩")
    await expect(page.locator("#rows")).to_contain_text("<img src=x")  # shown, not run
    await expect(page.locator("#tiles")).to_contain_text("按期结案率")
    await expect(page.locator("#tiles")).to_contain_text("自动派遣占比")
    await expect(page.locator("#dims button")).to_have_count(5)
    await expect(page.locator(".livedot")).to_have_text("实时")
    first, second = await page.locator("#rows tr.case").evaluate_all(
        "rows => rows.slice(0, 2).map(r => r.dataset.id)"
    )
    await page.keyboard.press("j")  # J / K walk the queue
    await expect(page.locator("section.case h2")).to_contain_text(first)
    await page.keyboard.press("j")
    await expect(page.locator("section.case h2")).to_contain_text(second)
    await page.keyboard.press("k")
    await expect(page.locator("section.case h2")).to_contain_text(first)
    await page.locator("#rows tr.case").filter(has_text="<img src=x").click()
    await expect(page.locator("section.case p.text")).to_have_text(HOSTILE)
    await expect(page.locator("section.case ol.sources")).to_contain_text(HOSTILE)
    assert await page.evaluate("window.__xss") is None


async def check_photo(page: Any, case_id: str) -> None:
    """A report's photo, fetched with the token, shows as a thumbnail among the sources."""
    await page.locator(f'#rows tr[data-id="{case_id}"]').click()
    photo = page.locator("section.case ol.sources .photos img")
    await pw.expect(photo).to_have_count(1, timeout=WAIT_MS)
    assert (await photo.get_attribute("src") or "").startswith("blob:")
    loaded = "img => img.complete && img.naturalWidth > 0"
    await page.wait_for_function(loaded, arg=await photo.element_handle(), timeout=WAIT_MS)


async def check_live_arrival(page: Any, stack: Stack, count: int) -> None:
    """A report made now reaches the open page's queue over SSE, without a reload."""
    await page.evaluate("window.__same_page = true")
    (body,) = report_bodies(n=1, seed=91)[:1]
    await post_reports(stack, [body])
    await pw.expect(page.locator("#rows tr.case")).to_have_count(count + 1, timeout=WAIT_MS)
    assert await page.evaluate("window.__same_page") is True


async def open_pending(page: Any, case: dict[str, Any]) -> None:
    expect = pw.expect
    view = page.locator("section.case")
    await page.locator(f'#rows tr[data-id="{case["case_id"]}"]').click()
    await expect(view.locator("h2")).to_contain_text(case["case_id"])
    await expect(view.locator("h2")).to_contain_text("待立案")
    suggestions = view.locator(".suggestions")
    await expect(suggestions).to_contain_text("部门置信度")
    await expect(suggestions.locator("ol.top3 li").first).to_contain_text("类别置信度")
    await expect(view.locator(".gridmap path")).not_to_have_count(0)  # the grids, drawn
    await expect(view.locator(f'.gridmap path[fill="{MARKER}"]')).to_have_count(1)
    await expect(view.locator(".mapbox p.outside")).to_contain_text("辖区外")
    await expect(view.locator(".gridmap .leaflet-tile")).to_have_count(0)  # no tiles offline
    await expect(view.locator(".similar")).to_contain_text("相似案件")
    await expect(view.locator("button[data-act=dispatch] kbd")).to_have_text("D")


async def dispatch_by_keys(page: Any, case: dict[str, Any]) -> None:
    """D opens 派遣 with the router's department chosen; Enter confirms it."""
    expect = pw.expect
    view = page.locator("section.case")
    await page.keyboard.press("d")
    route = view.locator("form.actform select[name=route]")
    await pw.expect(view.locator("form.actform button.go")).to_be_focused()
    assert (await route.input_value()).startswith(f"{case['department']}|")
    await page.keyboard.press("Enter")
    await expect(page.locator(".toasts")).to_contain_text("「派遣」已执行", timeout=WAIT_MS)
    timeline = view.locator("section.timeline li")
    await expect(timeline.filter(has_text="派遣 →")).to_have_count(1, timeout=WAIT_MS)
    await expect(timeline.filter(has_text="派遣员甲")).not_to_have_count(0)
    await expect(view.locator("h2")).to_contain_text("已派遣")
    await expect(page.locator(f'#rows tr[data-id="{case["case_id"]}"]')).to_contain_text(
        "已派遣", timeout=WAIT_MS
    )


async def check_refusals(page: Any, case: dict[str, Any]) -> None:
    """A missing reason is caught in the page; the workflow's refusal is shown with its reason."""
    expect = pw.expect
    form = page.locator("section.case form.actform")
    await page.locator("section.case button[data-act=reroute]").click()
    await form.locator("button.go").click()
    await expect(form.locator(".formerr")).to_have_text("请填写「改派」的原因")
    await form.locator("select[name=route]").select_option(f"{case['department']}|")
    await form.locator("input[name=reason]").fill("核对责任部门")
    await form.locator("button.go").click()
    await expect(page.locator(".toasts .toast.bad")).to_contain_text(
        "「改派」被拒绝：改派的部门和类别与现在相同", timeout=WAIT_MS
    )


async def merge_look_alike(page: Any, older: dict[str, Any], newer: dict[str, Any]) -> None:
    """The newer case lists the older among its look-alikes; one click merges it there."""
    expect = pw.expect
    view = page.locator("section.case")
    await page.locator(f'#rows tr[data-id="{newer["case_id"]}"]').click()
    await expect(view.locator("h2")).to_contain_text(newer["case_id"])
    await expect(view.locator(f'.gridmap path[stroke="{CHOSEN_GRID}"]')).to_have_count(1)
    candidate = view.locator(f'.similar li[data-similar="{older["case_id"]}"]')
    await expect(candidate).to_contain_text("路灯", timeout=WAIT_MS)
    await expect(candidate).to_contain_text("米")
    await shot(page, "console-similar")
    await candidate.locator("button.merge").click()
    await expect(page.locator(".toasts")).to_contain_text(
        f"「合并 {newer['case_id']} → {older['case_id']}」已执行", timeout=WAIT_MS
    )
    await expect(view.locator("h2")).to_contain_text("已合并", timeout=WAIT_MS)
    await expect(page.locator(f'#rows tr[data-id="{newer["case_id"]}"]')).to_have_count(
        0, timeout=WAIT_MS
    )


async def split_off(page: Any, older: dict[str, Any]) -> str:
    """The merged case holds two reports; S splits the second off again as a case of its own
    (returned), which then shows among the open case's look-alikes."""
    expect = pw.expect
    view = page.locator("section.case")
    await page.locator(f'#rows tr[data-id="{older["case_id"]}"]').click()
    await expect(view.locator("h2")).to_contain_text(older["case_id"])
    await expect(view.locator("section.sources ol.sources li")).to_have_count(2, timeout=WAIT_MS)
    await page.keyboard.press("s")
    form = view.locator("form.actform")
    await expect(form.locator("select[name=source] option")).to_have_count(1)
    await form.locator("button.go").click()
    await expect(page.locator(".toasts")).to_contain_text("「拆分」已执行", timeout=WAIT_MS)
    detached = view.locator("section.timeline li").filter(has_text="拆分来源")
    await expect(detached).to_contain_text("新案件", timeout=WAIT_MS)
    split = str(await detached.locator("a.caselink").inner_text())
    # the new case is 150 m away: the feed's frame for it brings it among the look-alikes
    # of the case still open, without a reload
    look_alike = view.locator(f'.similar li[data-similar="{split}"]')
    await expect(look_alike).to_have_count(1, timeout=WAIT_MS)
    return split


async def register_then_reject(page: Any, case_id: str) -> None:
    """The split-off case waits as 待立案: R registers it, X with a reason rejects it, and it
    leaves the queue of work to do."""
    expect = pw.expect
    view = page.locator("section.case")
    await page.goto(f"{page.url.split('#')[0]}#{case_id}")
    await expect(view.locator("h2")).to_contain_text("待立案", timeout=WAIT_MS)
    await page.keyboard.press("r")
    await expect(page.locator(".toasts")).to_contain_text("「立案」已执行", timeout=WAIT_MS)
    await expect(view.locator("h2")).to_contain_text("已立案", timeout=WAIT_MS)
    await page.keyboard.press("x")
    reason = view.locator("form.actform input[name=reason]")
    await expect(reason).to_be_focused()
    await reason.fill("与已结案件为同一问题")
    await page.keyboard.press("Enter")
    await expect(page.locator(".toasts")).to_contain_text("「不予立案」已执行", timeout=WAIT_MS)
    await expect(view.locator("h2")).to_contain_text("不予立案", timeout=WAIT_MS)
    await expect(page.locator(f'#rows tr[data-id="{case_id}"]')).to_have_count(0, timeout=WAIT_MS)


async def page_back_the_timeline(page: Any, case_id: str) -> None:
    """The case page shows the latest entries; 更早的记录 pages back through the API. The
    case's answer is cut to its last entry here, as a case with a long history sends it."""

    async def latest_only(route: Any) -> None:
        response = await route.fetch()
        case = await response.json()
        case["timeline_before_seq"] = case["timeline"][-1]["seq"]
        case["timeline"] = case["timeline"][-1:]
        await route.fulfill(response=response, json=case)

    await page.route(f"**/api/v1/cases/{case_id}", latest_only)
    await page.goto(f"{page.url.split('#')[0]}#{case_id}")
    await page.reload()
    view = page.locator("section.case")
    entries = view.locator("section.timeline li")
    await pw.expect(entries).to_have_count(1, timeout=WAIT_MS)
    await view.locator("section.timeline button.older").click()
    await pw.expect(entries.first).to_contain_text("建案", timeout=WAIT_MS)
    await pw.expect(view.locator("section.timeline button.older")).to_have_count(0)
    assert await entries.count() > 2
    await page.unroute(f"**/api/v1/cases/{case_id}")


async def docs_shot(page: Any, case_id: str) -> None:
    """The screen as the docs show it: a case with its map and look-alikes, no toasts."""
    for toast in await page.locator(".toasts .toast").all():
        await toast.click()
    await page.goto(f"{page.url.split('#')[0]}#{case_id}")
    await page.reload()
    view = page.locator("section.case")
    await pw.expect(view.locator(".similar li")).not_to_have_count(0, timeout=WAIT_MS)
    await shot(page, "console")


async def department_does(
    stack: Stack, case_id: str, body: dict[str, Any], notes: str = "", reason: str = ""
) -> None:
    """A command sent by the department through the API (its own screen is tested apart)."""
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30) as client:
        client.headers.update(headers(stack, Role.DEPARTMENT))
        command: dict[str, Any] = {"command_id": f"e2e.{uuid.uuid4().hex}", "body": body}
        if notes:
            command["evidence"] = {"notes": notes}
        if reason:
            command["reason"] = reason
        r = await client.post(f"/api/v1/cases/{case_id}/commands", json=command)
        assert r.status_code == 202, r.text
        status_url = r.json()["status_url"]

        async def applied() -> bool:
            status = (await client.get(status_url)).json()["status"]
            assert status in ("pending", "applied"), status
            return bool(status == "applied")

        await eventually(applied, timeout=60, interval=0.5)


async def verify_and_close(page: Any, stack: Stack, case_id: str) -> None:
    """The department's requests reach the open case live: A approves more time, V passes
    the report, C closes the case."""
    expect = pw.expect
    view = page.locator("section.case")
    await department_does(stack, case_id, {"kind": "accept"})
    ask = {"kind": "request_extension", "hours": 24}
    await department_does(stack, case_id, ask, reason="灯具需厂家调货")
    awaiting = view.locator(".awaiting")
    await expect(awaiting).to_contain_text("申请延期 24 小时，待审批", timeout=WAIT_MS)
    await expect(awaiting).to_contain_text("灯具需厂家调货")
    await page.keyboard.press("a")
    await expect(page.locator(".toasts")).to_contain_text("「批准延期」已执行", timeout=WAIT_MS)
    await expect(awaiting).to_have_count(0, timeout=WAIT_MS)
    await department_does(stack, case_id, {"kind": "report_back"}, notes="已更换整排路灯灯具")
    await expect(awaiting).to_contain_text("部门反馈，待核查", timeout=WAIT_MS)
    await expect(awaiting).to_contain_text("已更换整排路灯灯具")
    await shot(page, "console-verify")
    await page.keyboard.press("v")
    await expect(page.locator(".toasts")).to_contain_text("「核查通过」已执行", timeout=WAIT_MS)
    await expect(view.locator("h2")).to_contain_text("核查通过", timeout=WAIT_MS)
    await page.keyboard.press("c")
    await expect(page.locator(".toasts")).to_contain_text("「结案」已执行", timeout=WAIT_MS)
    await expect(view.locator("h2")).to_contain_text("已结案", timeout=WAIT_MS)
    await expect(view.locator(".actions .idle")).to_have_count(1)


async def check_manager(browser: Any, url: str, case_id: str, errors: list[str]) -> None:
    page = await new_page(browser, errors)
    await sign_in_page(page, url, Role.MANAGER)
    await page.locator(f'#rows tr[data-id="{case_id}"]').click()
    view = page.locator("section.case")
    await pw.expect(view.locator("p.readonly")).to_contain_text("只读")
    await pw.expect(view.locator(".actions button")).to_have_count(0)
    await shot(page, "console-manager")
    await page.close()


async def test_console_queue_and_case_actions(browser_path: Path, stack: Stack) -> None:
    bodies = report_bodies()
    bodies[0] = await with_photo(stack, bodies[0])
    cases = await cases_of(stack, await post_reports(stack, bodies))
    older, newer = await look_alikes(stack)
    cases += [older, newer]
    pending = cases[4]
    assert pending["state"] == "pending", pending
    url = f"{stack.api_url}/console/"
    async with pw.async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(browser_path), args=CHROMIUM_ARGS
        )
        try:
            errors: list[str] = []
            page = await new_page(browser, errors)
            await wrong_password(page, url)
            await shot(page, "console-login")
            await sign_in_page(page, url, Role.DISPATCHER)
            await check_queue(page, cases, pending["case_id"])
            await check_photo(page, cases[0]["case_id"])
            await check_live_arrival(page, stack, len(cases))
            await open_pending(page, pending)
            await shot(page, "console-case")
            await dispatch_by_keys(page, pending)
            await shot(page, "console-dispatched")
            await check_refusals(page, pending)
            await shot(page, "console-refused")
            await merge_look_alike(page, older, newer)
            split = await split_off(page, older)
            await page_back_the_timeline(page, older["case_id"])
            await docs_shot(page, older["case_id"])
            await verify_and_close(page, stack, older["case_id"])
            await register_then_reject(page, split)
            await check_manager(browser, url, pending["case_id"], errors)
            assert await page.evaluate("window.__xss") is None
            assert not errors, errors
        finally:
            await browser.close()
