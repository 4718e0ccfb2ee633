"""Quiet fetch (cityops/fetching.py) without a broker: the pause rule, the patch's life
cycle, and how a pause ends. The broker-facing behaviour is in
tests/integration/test_kafka_contract.py."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.consumer.fetcher import Fetcher

from cityops import fetching
from cityops.fetching import (
    CHECKED_AIOKAFKA,
    PAUSES,
    QuietFetchSettings,
    QuietFetchUnsupported,
    install_quiet_fetch,
    pause_after_fetch,
    quiet_fetch_installed,
    uninstall_quiet_fetch,
)

AIOKAFKA_OWN = Fetcher._proc_fetch_request


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    yield
    uninstall_quiet_fetch()
    assert Fetcher._proc_fetch_request is AIOKAFKA_OWN


def settings(**values: Any) -> QuietFetchSettings:
    return QuietFetchSettings(**values)


def test_an_empty_fetch_answered_at_once_waits_out_the_floor() -> None:
    assert pause_after_fetch(0.002, False, max_wait_s=0.5, max_pause_s=0.1) == pytest.approx(0.098)


def test_the_floor_is_the_smaller_of_fetch_max_wait_and_the_ceiling() -> None:
    assert pause_after_fetch(0.0, False, max_wait_s=0.05, max_pause_s=0.1) == 0.05
    assert pause_after_fetch(0.0, False, max_wait_s=1.5, max_pause_s=0.1) == 0.1  # faust's


def test_a_broker_that_long_polls_causes_no_pause() -> None:
    assert pause_after_fetch(0.5, False, max_wait_s=0.5, max_pause_s=0.1) == 0.0
    assert pause_after_fetch(0.12, False, max_wait_s=0.5, max_pause_s=0.1) == 0.0


def test_a_fetch_that_brought_records_never_pauses() -> None:
    assert pause_after_fetch(0.0, True, max_wait_s=0.5, max_pause_s=0.1) == 0.0


def test_the_installed_aiokafka_is_in_the_checked_range() -> None:
    low, high = CHECKED_AIOKAFKA
    assert low <= fetching._parse(version("aiokafka")) < high
    assert fetching._parse("0.14.0rc1") == (0, 14, 0)


def test_install_patches_once_and_uninstall_restores_aiokafka() -> None:
    assert install_quiet_fetch(settings())
    assert quiet_fetch_installed() and Fetcher._proc_fetch_request is not AIOKAFKA_OWN
    assert install_quiet_fetch(settings(kafka_quiet_fetch_max_pause_ms=50))  # not nested
    uninstall_quiet_fetch()
    assert Fetcher._proc_fetch_request is AIOKAFKA_OWN and not quiet_fetch_installed()


def test_switched_off_it_leaves_aiokafka_alone() -> None:
    install_quiet_fetch(settings())
    assert not install_quiet_fetch(settings(kafka_quiet_fetch=False))
    assert Fetcher._proc_fetch_request is AIOKAFKA_OWN


def test_the_switch_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYOPS_KAFKA_QUIET_FETCH", "false")
    assert not install_quiet_fetch()
    monkeypatch.setenv("CITYOPS_KAFKA_QUIET_FETCH", "true")
    monkeypatch.setenv("CITYOPS_KAFKA_QUIET_FETCH_MAX_PAUSE_MS", "250")
    assert QuietFetchSettings().kafka_quiet_fetch_max_pause_ms == 250
    assert install_quiet_fetch()


def test_an_unchecked_aiokafka_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetching, "version", lambda _: "0.15.0")
    with pytest.raises(QuietFetchUnsupported, match="outside the checked range"):
        install_quiet_fetch(settings())
    assert Fetcher._proc_fetch_request is AIOKAFKA_OWN


def fake_fetcher(max_wait_ms: int = 500) -> Any:
    return SimpleNamespace(_fetch_max_wait_ms=max_wait_ms, _closed=False)


def quiet(answer: bool, max_pause_ms: int) -> Any:
    """The wrapper around a fetch that answers at once with ``answer``."""

    async def at_once(self: Any, assignment: Any, node_id: int, request: Any) -> bool:
        return answer

    return fetching._quiet(at_once, max_pause_ms / 1000)


async def test_a_fetch_with_records_returns_without_pausing() -> None:
    before = PAUSES._value.get()
    got = await quiet(True, 5_000)(fake_fetcher(), SimpleNamespace(active=True), 0, None)
    assert got is True
    assert PAUSES._value.get() == before


async def test_cancelling_a_paused_fetch_ends_it_cleanly() -> None:
    """Unassignment and close() cancel the fetch task and await it: the pause must end at
    once and the task return normally, as aiokafka's own fetch task does."""
    before = PAUSES._value.get()
    task = asyncio.ensure_future(
        quiet(False, 5_000)(fake_fetcher(10_000), SimpleNamespace(active=True), 0, None)
    )
    while PAUSES._value.get() == before:  # until it is in its pause
        await asyncio.sleep(0)
    task.cancel()
    assert await task is False


async def test_no_pause_once_the_assignment_is_gone() -> None:
    before = PAUSES._value.get()
    await quiet(False, 5_000)(fake_fetcher(), SimpleNamespace(active=False), 0, None)
    closed = fake_fetcher()
    closed._closed = True
    await quiet(False, 5_000)(closed, SimpleNamespace(active=True), 0, None)
    assert PAUSES._value.get() == before
