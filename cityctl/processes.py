"""Running cityops services as child processes (the demo and the end-to-end tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SERVICES = ("api", "classifier", "dispatch", "indexer", "sensors")


@dataclass
class ServiceProcess:
    """``cityops serve NAME`` in its own process, logging to ``log_path``."""

    name: str
    env: dict[str, str]
    log_path: Path
    argv: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not self.argv:
            self.argv = [sys.executable, "-m", "cityctl", "serve", self.name]

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def returncode(self) -> int | None:
        """The exit code once the process has ended (negative: killed by that signal)."""
        return None if self.process is None else self.process.poll()

    def signal(self, sig: signal.Signals) -> None:
        if self.running:
            assert self.process is not None
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, wait for a clean exit, SIGKILL after ``timeout``; return the exit code."""
        if self.process is None:
            return None
        self.signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            return self.process.wait()

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait()


def stop_together(processes: list[ServiceProcess], timeout: float = 20.0) -> None:
    """SIGTERM every process at once, then wait for each (SIGKILL on ``timeout``): the
    clean shutdowns overlap instead of following one another."""
    for proc in processes:
        proc.signal(signal.SIGTERM)
    for proc in processes:
        proc.stop(timeout)


def service_env(overrides: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYOPS_")}
    env.update(overrides)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def is_ready(base_url: str) -> bool:
    """``GET /readyz`` answers 200: the API reaches Kafka and Elasticsearch."""
    try:
        return httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(base_url: str, timeout: float = 60.0) -> None:
    """Wait until the API at ``base_url`` is ready (:func:`is_ready`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_ready(base_url):
            return
        time.sleep(0.3)
    raise TimeoutError(f"{base_url} not ready after {timeout}s")
