"""The demo supervisor: the back-off schedule (pure), and a killed process restarted."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cityctl.processes import ServiceProcess, service_env
from cityctl.supervise import Backoff, Supervisor, after_exit
from cityops import standins
from cityops.provision import provision
from cityops.settings import CommonSettings
from tests.conftest import Infra

POLICY = Backoff(first_s=1.0, cap_s=30.0, stable_s=60.0)


def test_crash_loop_backs_off_doubling_to_the_cap() -> None:
    streak, delays = 0, []
    for _ in range(8):
        streak, delay = after_exit(POLICY, streak, uptime_s=2.0)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 30, 30, 30]
    assert streak == 8


def test_a_service_that_stayed_up_starts_a_new_streak() -> None:
    assert after_exit(POLICY, streak=6, uptime_s=60.0) == (1, 1.0)
    assert after_exit(POLICY, streak=6, uptime_s=59.9) == (7, 30.0)


def test_first_failure_restarts_after_the_first_delay() -> None:
    assert after_exit(POLICY, streak=0, uptime_s=0.1) == (1, 1.0)


@given(streak=st.integers(0, 10_000), uptime=st.floats(0, 1e6))
def test_delay_is_always_within_first_and_cap(streak: int, uptime: float) -> None:
    new_streak, delay = after_exit(POLICY, streak, uptime)
    assert new_streak >= 1
    assert POLICY.first_s <= delay <= POLICY.cap_s


@pytest.mark.parametrize(
    ("first", "cap", "stable"), [(0.0, 30.0, 60.0), (40.0, 30.0, 60.0), (1.0, 30.0, -1.0)]
)
def test_nonsense_back_off_is_refused(first: float, cap: float, stable: float) -> None:
    with pytest.raises(ValueError):
        Backoff(first, cap, stable)


def sleeper(tmp_path: Path, name: str = "sleeper") -> ServiceProcess:
    argv = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(120)"]
    return ServiceProcess(name, {}, tmp_path / f"{name}.log", argv=argv)


def poll_until(supervisor: Supervisor, done: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.poll()
        if done():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def test_a_killed_service_is_restarted_and_logged(tmp_path: Path) -> None:
    said: list[str] = []
    proc = sleeper(tmp_path)
    supervisor = Supervisor([proc], Backoff(first_s=0.2, cap_s=1.0, stable_s=60.0), said.append)
    supervisor.start_all()
    try:
        first_pid = proc.pid
        proc.signal(signal.SIGKILL)
        poll_until(supervisor, lambda: proc.running and proc.pid != first_pid)
        assert supervisor.restarts("sleeper") == 1
        assert said and "sleeper exited (code -9)" in said[0] and "restarting in 0.2 s" in said[0]
        log = proc.log_path.read_text()
        assert '"logger": "cityctl.supervise"' in log and "failure 1 in a row" in log

        # Killed again at once: still crashing, so the next delay doubles.
        second_pid = proc.pid
        proc.signal(signal.SIGKILL)
        poll_until(supervisor, lambda: proc.running and proc.pid != second_pid)
        assert supervisor.restarts("sleeper") == 2
        assert "restarting in 0.4 s" in said[1]
    finally:
        supervisor.stop_all(timeout=5)
    assert not proc.running


def test_nothing_restarts_once_stopping(tmp_path: Path) -> None:
    proc = sleeper(tmp_path)
    supervisor = Supervisor([proc], Backoff(first_s=0.05, cap_s=0.05), lambda _: None)
    supervisor.start_all()
    supervisor.stop_all(timeout=5)
    time.sleep(0.1)
    supervisor.poll()
    assert not proc.running


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.integration
def test_a_killed_indexer_comes_back_healthy(
    infra: Infra, settings: CommonSettings, prefix: str, tmp_path: Path
) -> None:
    """A real service on the stand-in: SIGKILL it, the supervisor starts it again."""
    provision(settings)
    port = standins.free_port()
    env = {
        "CITYOPS_KAFKA_BOOTSTRAP": infra.kafka.bootstrap,
        "CITYOPS_KAFKA_IDEMPOTENCE": str(infra.kafka.idempotence).lower(),
        "CITYOPS_ES_URL": infra.es_url,
        "CITYOPS_TOPIC_PREFIX": f"{prefix}.",
        "CITYOPS_INDEX_PREFIX": prefix,
        "CITYOPS_KAFKA_SESSION_TIMEOUT_MS": "6000",
        "CITYOPS_INDEXER_HEALTH_PORT": str(port),
    }
    proc = ServiceProcess("indexer", service_env(env), tmp_path / "indexer.log")
    supervisor = Supervisor([proc], Backoff(first_s=0.2, cap_s=1.0), lambda _: None)
    url = f"http://127.0.0.1:{port}/healthz"
    supervisor.start_all()
    try:
        poll_until(supervisor, lambda: healthy(url), timeout=60)
        first_pid = proc.pid
        proc.signal(signal.SIGKILL)
        poll_until(supervisor, lambda: proc.pid != first_pid and healthy(url), timeout=60)
        assert supervisor.restarts("indexer") == 1
    finally:
        supervisor.stop_all(timeout=20)
