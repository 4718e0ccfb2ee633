"""The duplicate index follows the case, through a real dispatch worker: a closed or merged
case attracts no more reports, and the reports of the same problem after closure open one
new case between them, not one each."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cityops.contracts import Actor, CaseCommand, CaseEvent, EventKind, Role
from cityops.contracts.events import (
    AcceptCase,
    CloseCase,
    MergeCase,
    ReportBack,
    VerifyCase,
)
from cityops.kafka import encode, make_producer
from cityops.provision import provision
from cityops.settings import CommonSettings
from services.dispatch.case_ids import case_id_for
from tests.conftest import Infra
from tests.e2e.drill import T0, Supervised, classified, dispatch_env, read_all, wait_for

pytestmark = pytest.mark.e2e

DISPATCHER = Actor(id="dsp-1", role=Role.DISPATCHER)
SPOT_A = (30.9001, 121.9101)
SPOT_B = (30.9201, 121.9301)
TEXT_A = "幸福路12号门口污水井盖碎了，很危险"
TEXT_B = "海港大道88号路灯不亮，晚上很黑"


def command(case_id: str, body: object, actor: Actor, n: int) -> CaseCommand:
    return CaseCommand(
        command_id=f"t-{case_id}-{n}",
        case_id=case_id,
        actor=actor,
        issued_at=T0,
        reason="测试",
        body=body,  # type: ignore[arg-type]
    )


async def produce(settings: CommonSettings, records: list[tuple[str, str, bytes]]) -> None:
    producer = make_producer(settings)
    await producer.start()
    try:
        for topic, key, value in records:
            await producer.send_and_wait(topic, value, key=key.encode())
    finally:
        await producer.stop()


async def test_closed_and_merged_cases_stop_attracting_reports(
    infra: Infra, prefix: str, tmp_path: Path
) -> None:
    settings = CommonSettings(**infra.settings(prefix))  # type: ignore[arg-type]
    provision(settings)
    t = settings.topics
    worker = Supervised("dispatch", dispatch_env(infra, prefix, tmp_path / "d"), tmp_path / "d.log")
    worker.start()
    a, b, c = case_id_for("a0"), case_id_for("b0"), case_id_for("c0")

    async def events() -> list[CaseEvent]:
        return await read_all(settings, t.cases_events, CaseEvent)

    async def reach(case_id: str, kind: EventKind) -> None:
        async def there() -> bool:
            return any(e.case_id == case_id and e.kind is kind for e in await events())

        try:
            await wait_for(there, timeout=90)
        except AssertionError:
            pytest.fail(f"{case_id} never reached {kind}\n{worker.log()}")

    try:
        first = [
            classified("a0", *SPOT_A, TEXT_A),
            classified("b0", *SPOT_B, TEXT_B, category="C0303"),
            classified("c0", SPOT_B[0] + 0.02, SPOT_B[1], TEXT_B, category="C0303"),
        ]
        await produce(
            settings, [(t.cases_classified, x.source.source_id, encode(x)) for x in first]
        )
        for case_id in (a, b, c):
            await reach(case_id, EventKind.DISPATCHED)
        dept = Actor(id="w-1", role=Role.DEPARTMENT, department=first[0].classification.department)
        steps = [AcceptCase(), ReportBack(), VerifyCase(passed=True), CloseCase()]
        actors = [dept, dept, DISPATCHER, DISPATCHER]
        await produce(
            settings,
            [
                (t.cases_commands, a, encode(command(a, body, who, i)))
                for i, (body, who) in enumerate(zip(steps, actors, strict=True))
            ]
            + [
                (
                    t.cases_commands,
                    b,
                    encode(command(b, MergeCase(target_case_id=c), DISPATCHER, 0)),
                )
            ],
        )
        await reach(a, EventKind.CLOSED)
        await reach(b, EventKind.MERGED_INTO)
        await asyncio.sleep(2)  # the withdrawals travel through cases.candidates
        later = [classified(f"a{i}", *SPOT_A, TEXT_A) for i in (1, 2, 3)]
        later.append(classified("b1", *SPOT_B, TEXT_B, category="C0303"))
        await produce(
            settings, [(t.cases_classified, x.source.source_id, encode(x)) for x in later]
        )
        await reach(case_id_for("b1"), EventKind.OPENED)

        async def attached() -> bool:
            evs = await events()
            return sum(1 for e in evs if e.kind is EventKind.SOURCE_ATTACHED) >= 2

        await wait_for(attached, timeout=60)
        await asyncio.sleep(2)
    finally:
        worker.stop()

    evs = await events()
    opened = {e.case_id for e in evs if e.kind is EventKind.OPENED}
    joined = {
        e.data["source"]["source_id"]: e.case_id for e in evs if e.kind is EventKind.SOURCE_ATTACHED
    }
    # after closure: one new case for the three reports (named by whichever came first)
    later_ids = {case_id_for(f"a{i}"): f"a{i}" for i in (1, 2, 3)}
    (new,) = opened & set(later_ids)
    assert joined == {s: new for s in ("a1", "a2", "a3") if s != later_ids[new]}
    assert not any(e.case_id == a and e.kind is EventKind.SOURCE_ATTACHED for e in evs)
    # the merged case takes no report: the new one at its spot opens its own case
    assert case_id_for("b1") in opened
    assert not any(e.case_id == b and e.kind is EventKind.SOURCE_ATTACHED for e in evs)
