"""The demo's ports: the documented ones (README, Operations) unless something holds them.

:func:`choose_ports` is pure (the probes are passed in); :func:`port_is_free` is the
probe the demo uses. A port is free when it can be bound the way the servers bind it
(``SO_REUSEADDR``, so a socket of an earlier run in TIME_WAIT does not count as taken).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

HOST = "127.0.0.1"

# Name → documented port. The four services' health and metrics ports are the defaults of
# their settings (CITYOPS_*_PORT); the stand-in ports are the defaults of CommonSettings.
DOCUMENTED = {
    "api": 8000,
    "classifier": 8001,
    "dispatch": 8002,
    "indexer": 8003,
    "sensors": 8004,
    "kafka": 19092,
    "elasticsearch": 19200,
}


@dataclass(frozen=True)
class Port:
    name: str
    wanted: int
    port: int

    @property
    def moved(self) -> bool:
        return self.port != self.wanted


def choose_ports(
    wanted: Mapping[str, int],
    is_free: Callable[[int], bool],
    any_free: Callable[[], int],
) -> dict[str, Port]:
    """The wanted port of each name when it is free and not already given to an earlier
    name; otherwise a port from ``any_free`` that no earlier name has."""
    taken: set[int] = set()
    chosen: dict[str, Port] = {}
    for name, port in wanted.items():
        got = port
        if got in taken or not is_free(got):
            got = any_free()
            while got in taken:
                got = any_free()
        taken.add(got)
        chosen[name] = Port(name, port, got)
    return chosen


def port_is_free(port: int, host: str = HOST) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def describe(ports: Mapping[str, Port]) -> list[str]:
    """Lines for the console: each name, its port and what it serves there."""
    serves = {
        "api": "console, API, /healthz, /readyz, /metrics",
        "kafka": "Kafka (noida-db)",
        "elasticsearch": "Elasticsearch (noida-db)",
    }
    lines = []
    for name, port in ports.items():
        what = serves.get(name, "/healthz, /metrics")
        note = f"   ({port.wanted} is taken)" if port.moved else ""
        lines.append(f"  {name:<14}{HOST}:{port.port:<6} {what}{note}")
    return lines
