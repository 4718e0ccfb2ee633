"""``cityops demo``: the whole system on the local stand-ins, with demo traffic.

Starts noida-db (Kafka + Elasticsearch APIs), provisions topics and the index, starts
the four services as separate processes, feeds them reports, and prints the URL to open.
Ctrl-C (or SIGTERM) stops the services cleanly, then the stand-in.
"""

from __future__ import annotations

import shutil
import signal
import sys
import threading
from pathlib import Path

from cityctl.processes import SERVICES, ServiceProcess, service_env, wait_ready
from cityctl.simulate import run as simulate
from cityctl.simulate import work_cases
from cityops import jurisdiction, standins, taxonomy
from cityops.provision import provision
from cityops.settings import CommonSettings


def _port(preferred: int) -> int:
    try:
        standins.wait_for_port("127.0.0.1", preferred, timeout=0.2)
    except standins.StandInError:
        return preferred  # nothing listens there: ours to take
    return standins.free_port()


def run_demo(workdir: Path, api_port: int, rate: float, fresh: bool) -> int:
    kafka_port, es_port, api_port = _port(19092), _port(19200), _port(api_port)
    data = workdir / "noida"
    if fresh:
        shutil.rmtree(workdir, ignore_errors=True)
    server = standins.noida(data, kafka_port, es_port)
    print(f"starting stand-ins (noida-db: Kafka :{kafka_port}, Elasticsearch :{es_port}) ...")
    server.start()
    env = {
        "CITYOPS_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}",
        "CITYOPS_ES_URL": f"http://127.0.0.1:{es_port}",
        "CITYOPS_API_PORT": str(api_port),
        "CITYOPS_DISPATCH_DATA_DIR": str(workdir / "dispatch"),
        "CITYOPS_CLASSIFIER_HEALTH_PORT": str(standins.free_port()),
        "CITYOPS_DISPATCH_WEB_PORT": str(standins.free_port()),
        "CITYOPS_INDEXER_HEALTH_PORT": str(standins.free_port()),
    }
    procs: list[ServiceProcess] = []
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        provision(
            CommonSettings(
                kafka_bootstrap=env["CITYOPS_KAFKA_BOOTSTRAP"], es_url=env["CITYOPS_ES_URL"]
            )
        )
        for name in SERVICES:
            proc = ServiceProcess(name, service_env(env), workdir / "logs" / f"{name}.log")
            proc.start()
            procs.append(proc)
        url = f"http://127.0.0.1:{api_port}/"
        wait_ready(url.rstrip("/"), timeout=90)
        feeder = threading.Thread(
            target=simulate,
            daemon=True,
            args=(url, taxonomy.load(), jurisdiction.load(), rate, None, 7, stop),
        )
        feeder.start()
        workers = threading.Thread(target=work_cases, daemon=True, args=(url, stop))
        workers.start()
        print(f"\ncityops is running. Open {url}  (API docs: {url}docs)")
        print(f"logs: {workdir / 'logs'}   press Ctrl-C to stop\n")
        while not stop.is_set():
            dead = [p.name for p in procs if not p.running]
            if dead:
                print(f"service exited: {', '.join(dead)}; see {workdir / 'logs'}", file=sys.stderr)
                return 1
            stop.wait(1.0)
        return 0
    finally:
        stop.set()
        print("stopping services ...")
        for proc in reversed(procs):
            proc.signal(signal.SIGTERM)
        for proc in procs:
            proc.stop(timeout=20)
        server.stop()
        print("stopped.")
