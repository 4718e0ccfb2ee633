"""``cityops demo``: the whole system on the local stand-ins, with demo traffic.

Starts noida-db (Kafka + Elasticsearch APIs), provisions topics and the index, starts
the four services as separate processes under a :class:`~cityctl.supervise.Supervisor`
(a service that exits is restarted with back-off), optionally feeds them reports and
simulated dispatchers and departments, and prints the ports and the URL to open.
Ctrl-C (or SIGTERM) stops the services cleanly, then the stand-in.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cityctl import sensors_sim, users
from cityctl.ports import DOCUMENTED, Port, choose_ports, describe, port_is_free
from cityctl.processes import SERVICES, ServiceProcess, is_ready, service_env
from cityctl.simulate import run as simulate
from cityctl.simulate import work_cases
from cityctl.supervise import Backoff, Supervisor
from cityops import jurisdiction, standins, taxonomy
from cityops.provision import provision
from cityops.settings import CommonSettings

READY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class DemoOptions:
    workdir: Path
    api_port: int = DOCUMENTED["api"]
    rate: float = 2.0  # demo reports per second; 0: none
    fresh: bool = False
    workers: bool = True  # simulated dispatchers and departments move cases along
    sensors: bool = True  # simulated IoT devices send readings (cityctl/sensors_sim.py)
    backoff: Backoff = field(default_factory=Backoff)


def demo_env(ports: dict[str, Port], workdir: Path) -> dict[str, str]:
    """The CITYOPS_* variables of the five services in the demo."""
    return {
        "CITYOPS_KAFKA_BOOTSTRAP": f"127.0.0.1:{ports['kafka'].port}",
        "CITYOPS_ES_URL": f"http://127.0.0.1:{ports['elasticsearch'].port}",
        "CITYOPS_API_PORT": str(ports["api"].port),
        "CITYOPS_CLASSIFIER_HEALTH_PORT": str(ports["classifier"].port),
        "CITYOPS_DISPATCH_WEB_PORT": str(ports["dispatch"].port),
        "CITYOPS_INDEXER_HEALTH_PORT": str(ports["indexer"].port),
        "CITYOPS_SENSORS_WEB_PORT": str(ports["sensors"].port),
        "CITYOPS_SENSORS_DATA_DIR": str(workdir / "sensors"),
        "CITYOPS_DISPATCH_DATA_DIR": str(workdir / "dispatch"),
        "CITYOPS_SENSOR_KEY_PEPPER": demo_secret(workdir, "sensor-key-pepper"),
        "CITYOPS_AUTH_SECRET": demo_secret(workdir, "auth-secret"),
        "CITYOPS_PHOTO_DIR": str(workdir / "photos"),
        "CITYOPS_ADMIN_TOKEN": demo_secret(workdir, "admin-token"),
    }


def demo_secret(workdir: Path, name: str) -> str:
    """One of the demo's secrets (the device-key pepper, the token signing key, the operator
    token, the seeded people's password): made once per working directory and kept there,
    so keys, tokens and logins survive a restart of the demo (production sets its own)."""
    path = workdir / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) if name != "password" else users.made_password())
        path.chmod(0o600)
    return path.read_text().strip()


def seed_people(settings: CommonSettings, workdir: Path, url: str) -> None:
    """One account per role (cityctl/users.py, DEMO_SEATS) and their logins, printed."""
    password = demo_secret(workdir, "password")
    users.seed(settings, users.DEMO_SEATS, password)
    screens = {"grid_worker": "app/", "department": "department/"}
    print("\nsign in as (password for all: " + password + "):")
    for seat in users.DEMO_SEATS:
        where = url + screens.get(seat.role.value, "console/")
        print(f"  {seat.role.value:<12} {seat.user_id:<11} {seat.name:<14} {where}")


def run_demo(options: DemoOptions) -> int:
    workdir = options.workdir
    if options.fresh:
        shutil.rmtree(workdir, ignore_errors=True)
    ports = choose_ports({**DOCUMENTED, "api": options.api_port}, port_is_free, standins.free_port)
    print("ports (health and metrics of each service; stand-ins):")
    print("\n".join(describe(ports)))
    env = demo_env(ports, workdir)
    server = standins.noida(workdir / "noida", ports["kafka"].port, ports["elasticsearch"].port)
    print("starting stand-ins (noida-db) ...")
    server.start()
    logs = workdir / "logs"
    supervisor = Supervisor(
        [ServiceProcess(name, service_env(env), logs / f"{name}.log") for name in SERVICES],
        options.backoff,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    settings = CommonSettings(
        kafka_bootstrap=env["CITYOPS_KAFKA_BOOTSTRAP"], es_url=env["CITYOPS_ES_URL"]
    )
    devices: threading.Thread | None = None
    try:
        provision(settings)
        supervisor.start_all()
        url = f"http://127.0.0.1:{ports['api'].port}/"
        if not _wait_ready(url, supervisor, server, stop):
            return 0 if stop.is_set() else 1
        seed_people(settings, workdir, url)
        _start_traffic(url, env["CITYOPS_ADMIN_TOKEN"], options, stop)
        devices = _start_sensors(settings, options, stop)
        print(
            f"\ncityops is running. Dispatcher console: {url}console/  grid worker app: {url}app/"
            f"  department: {url}department/  overview: {url}overview  API docs: {url}docs"
        )
        print(f"logs: {logs}   press Ctrl-C to stop\n")
        while not stop.wait(0.5):
            supervisor.poll()
            if not server.running:
                print(f"noida-db exited; see {server.log_path}", file=sys.stderr)
                return 1
        return 0
    finally:
        stop.set()
        if devices is not None:
            devices.join(timeout=15)  # flush its last readings while Kafka is still up
        print("stopping services ...")
        supervisor.stop_all(timeout=20)
        server.stop()
        print("stopped.")


def _wait_ready(
    url: str, supervisor: Supervisor, server: standins.StandIn, stop: threading.Event
) -> bool:
    """Supervise until the API is ready; False on Ctrl-C, a timeout or a dead stand-in."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not stop.is_set():
        supervisor.poll()
        if is_ready(url.rstrip("/")):
            return True
        if not server.running:
            print(f"noida-db exited; see {server.log_path}", file=sys.stderr)
            return False
        if time.monotonic() > deadline:
            print(f"the API is not ready after {READY_TIMEOUT_S:g} s; see logs", file=sys.stderr)
            return False
        stop.wait(0.5)
    return False


def _start_traffic(url: str, admin: str, options: DemoOptions, stop: threading.Event) -> None:
    if options.rate > 0:
        places = (taxonomy.load(), jurisdiction.load())
        args = (url, admin, *places, options.rate, None, 7, stop)
        threading.Thread(target=simulate, daemon=True, args=args).start()
        print(f"demo reports: {options.rate:g} a second (--rate 0: none)")
    else:
        print("demo reports: none (--rate 0)")
    if options.workers:
        threading.Thread(target=work_cases, daemon=True, args=(url, admin, stop)).start()
        print("simulated dispatchers and departments move cases along (--no-workers: off)")
    else:
        print("simulated dispatchers and departments: off (--no-workers)")


def _start_sensors(
    settings: CommonSettings, options: DemoOptions, stop: threading.Event
) -> threading.Thread | None:
    if not options.sensors:
        print("simulated IoT devices: off (--no-sensors)")
        return None
    sim = sensors_sim.SimOptions(
        storm_at_min=sensors_sim.DEMO_STORM_AT_MIN, storm_for_min=sensors_sim.DEMO_STORM_FOR_MIN
    )
    fleet = sensors_sim.build(sim.seed, sim.devices)
    thread = threading.Thread(
        target=sensors_sim.run, daemon=True, args=(settings, sim, stop, fleet), name="sensors-sim"
    )
    thread.start()
    print(
        f"simulated IoT devices: {len(fleet)} registered, "
        f"{sensors_sim.per_second(fleet, sim.speed):.0f} readings a second at {sim.speed:g}x "
        f"speed, a rainstorm {sim.storm_at_min * 60 / sim.speed:.0f} s in (--no-sensors: off)"
    )
    return thread
