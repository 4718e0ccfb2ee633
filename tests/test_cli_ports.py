"""The demo's ports: documented unless taken."""

from __future__ import annotations

import itertools
import socket

from cityctl.ports import DOCUMENTED, choose_ports, describe, port_is_free


def no_spare() -> int:
    raise AssertionError("no port should move")


def test_the_documented_ports_when_all_are_free() -> None:
    ports = choose_ports(DOCUMENTED, lambda _: True, no_spare)
    assert {name: p.port for name, p in ports.items()} == DOCUMENTED
    assert DOCUMENTED == {
        "api": 8000,
        "classifier": 8001,
        "dispatch": 8002,
        "indexer": 8003,
        "sensors": 8004,
        "kafka": 19092,
        "elasticsearch": 19200,
    }
    assert not any(p.moved for p in ports.values())


def test_a_taken_port_falls_back_to_a_free_one_and_says_so() -> None:
    spare = itertools.count(40000)
    ports = choose_ports(DOCUMENTED, lambda port: port != 8002, lambda: next(spare))
    assert ports["dispatch"].port == 40000 and ports["dispatch"].moved
    assert ports["indexer"].port == 8003
    line = next(line for line in describe(ports) if "dispatch" in line)
    assert "127.0.0.1:40000" in line and "8002 is taken" in line


def test_two_names_never_share_a_port() -> None:
    spare = iter([8001, 8001, 41000])  # the probe hands back a port already given out
    ports = choose_ports({"api": 8001, "classifier": 8001}, lambda _: True, lambda: next(spare))
    assert ports["api"].port == 8001
    assert ports["classifier"].port == 41000


def test_the_probe_sees_a_listening_socket() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert not port_is_free(port)
    assert port_is_free(port)
