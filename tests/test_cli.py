"""The ``cityops`` command line: the console script, every subcommand's ``--help``, and
the demo switches."""

from __future__ import annotations

import argparse
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from cityctl.cli import build_parser

COMMANDS = {
    "users",
    "serve",
    "init",
    "demo",
    "standins",
    "simulate",
    "sensors",
    "replay",
    "router",
    "stats",
    "grafana",
}


def subcommands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """Every command path (``("router", "train")``, ...) below ``parser``."""
    found = []
    for action in parser._actions:  # argparse has no public walk over subparsers
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.append((*path, name))
                found.extend(subcommands(child, (*path, name)))
    return found


def test_the_console_script_is_still_called_cityops() -> None:
    (script,) = entry_points(group="console_scripts", name="cityops")
    assert script.value == "cityctl.cli:main"


def test_every_command_is_there() -> None:
    top = {path[0] for path in subcommands(build_parser())}
    assert top == COMMANDS


@pytest.mark.parametrize("path", [(), *subcommands(build_parser())], ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args([*path, "--help"])
    assert exit_.value.code == 0
    assert "usage: cityops" in capsys.readouterr().out


def test_python_dash_m_runs_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cityctl", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "demo" in result.stdout and "router" in result.stdout


def test_demo_defaults_feed_reports_and_work_cases() -> None:
    args = build_parser().parse_args(["demo"])
    assert (args.port, args.rate, args.no_workers) == (8000, 2.0, False)


def test_demo_switches() -> None:
    args = build_parser().parse_args(["demo", "--rate", "0", "--no-workers", "--port", "9000"])
    assert (args.port, args.rate, args.no_workers) == (9000, 0.0, True)


def test_demo_refuses_a_negative_rate(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--rate", "-1"])
    assert "must be 0 or more" in capsys.readouterr().err


def test_demo_runs_the_sensor_simulator_unless_told_not_to() -> None:
    assert build_parser().parse_args(["demo"]).no_sensors is False
    assert build_parser().parse_args(["demo", "--no-sensors"]).no_sensors is True


def test_sensors_simulate_defaults_and_switches() -> None:
    args = build_parser().parse_args(["sensors", "simulate"])
    assert (args.devices, args.seed, args.speed, args.storm_at, args.dry_run) == (
        300,
        7,
        10.0,
        10.0,
        False,
    )
    args = build_parser().parse_args(
        ["sensors", "simulate", "--devices", "50", "--speed", "1", "--storm-at", "2", "--dry-run"]
    )
    assert (args.devices, args.speed, args.storm_at, args.dry_run) == (50, 1.0, 2.0, True)
