"""What the pipeline benches share: the stand-in and the four services as processes, CPU of
each process group from ``/proc``, consumer lag per group, realistic records and case
documents, and writing results.

Not a test fixture: a bench starts one :class:`Stack` on a fresh data directory, keeps the
service logs under ``bench/results/logs/<bench>/`` and stops everything it started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from kafka import KafkaAdminClient, KafkaConsumer
from kafka import TopicPartition as SyncPartition

from cityctl.processes import SERVICES, ServiceProcess, service_env, wait_ready
from cityctl.simulate import reports as report_bodies
from cityops import jurisdiction, standins, taxonomy
from cityops.contracts import CaseEvent, ReportSubmitted
from cityops.provision import provision
from cityops.settings import CommonSettings
from services.classifier.handler import Router, classify_batch
from services.classifier.model.predictor import Predictor
from services.dispatch import workflow
from services.dispatch.case_ids import open_command
from services.ingest.models import ReportCreate
from services.ingest.normalise import to_event

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TICKS = os.sysconf("SC_CLK_TCK")
# Consumer groups of the services and the topics each reads (lag per stage).
GROUPS = {
    "classifier": ("cityops-classifier", ["reports.submitted"]),
    "dispatch": ("cityops-dispatch", ["cases.classified", "cases.candidates", "cases.commands"]),
    "indexer": ("cityops-indexer", ["cases.events", "cases.outcomes"]),
}


# ---------------------------------------------------------------- CPU from /proc


def _group_stats(pgid: int) -> Iterator[list[str]]:
    """The ``/proc/<pid>/stat`` fields after "pid (comm) " of every live process in ``pgid``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:  # field 5: pgrp
            yield fields


def group_cpu_seconds(pgid: int) -> float:
    """CPU seconds (user + system) of every live process in process group ``pgid``."""
    # fields 14, 15: utime, stime
    return sum(int(f[11]) + int(f[12]) for f in _group_stats(pgid)) / TICKS


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def machine_cpu_seconds() -> float:
    """CPU seconds every process on the machine used (``/proc/stat``, all cores, not idle)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICKS


class CpuMeter:
    """CPU of named process groups (and of this bench process) between start and stop."""

    def __init__(self, groups: dict[str, int]) -> None:
        self.groups = groups
        self._start: dict[str, float] = {}
        self._t0 = 0.0
        self.wall = 0.0

    def _now(self) -> dict[str, float]:
        out = {name: group_cpu_seconds(pgid) for name, pgid in self.groups.items()}
        out["bench (this process)"] = self_cpu_seconds()
        out["machine"] = machine_cpu_seconds()
        return out

    def start(self) -> None:
        self._start, self._t0 = self._now(), time.monotonic()

    def stop(self) -> dict[str, float]:
        """Share of one core each group used since :meth:`start` (2.0 = both cores);
        ``machine`` is every process on the machine, ``others`` what is not ours (other
        work on a shared machine)."""
        now, wall = self._now(), time.monotonic() - self._t0
        self.wall = wall
        out = {k: round((now[k] - self._start.get(k, 0.0)) / wall, 3) for k in now}
        ours = sum(v for k, v in out.items() if k != "machine")
        out["others"] = round(max(out["machine"] - ours, 0.0), 3)
        return out


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of every live process in process group ``pgid``."""
    page = os.sysconf("SC_PAGE_SIZE")
    return sum(int(f[21]) * page for f in _group_stats(pgid))  # field 24: rss pages


class RssPeak(threading.Thread):
    """The largest resident memory of a process group, sampled every second."""

    def __init__(self, pgid: int) -> None:
        super().__init__(daemon=True)
        self.pgid, self.peak = pgid, 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(1.0):
            self.peak = max(self.peak, group_rss_bytes(self.pgid))

    def close(self) -> int:
        self.halt.set()
        self.join(5)
        return self.peak


# ---------------------------------------------------------------- consumer lag


class LagReader:
    """Committed offsets of each service's consumer group against the topics' end offsets
    (kafka-python's admin client), summed per group: records a stage has not finished."""

    def __init__(self, bootstrap: str) -> None:
        self.admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-lag")
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="bench-lag")
        self.parts: dict[str, list[SyncPartition]] = {}

    def _partitions(self, topic: str) -> list[SyncPartition]:
        if topic not in self.parts:
            found = self.consumer.partitions_for_topic(topic) or set()
            self.parts[topic] = [SyncPartition(topic, p) for p in sorted(found)]
        return self.parts[topic]

    def lag(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for stage, (group, topics) in GROUPS.items():
            parts = [tp for t in topics for tp in self._partitions(t)]
            ends = self.consumer.end_offsets(parts)
            committed = self.admin.list_group_offsets({group: parts})[group]
            total = 0
            for tp in parts:
                meta = committed.get(tp)
                done = meta.offset if meta is not None and meta.offset >= 0 else 0
                total += max(ends.get(tp, 0) - done, 0)
            out[stage] = total
        return out

    def close(self) -> None:
        self.consumer.close()
        self.admin.close()


# ---------------------------------------------------------------- the stack


@dataclass
class Stack:
    """noida-db on a fresh directory, topics and indexes, and the four services."""

    name: str
    workdir: Path
    log_level: str = "INFO"
    extra_env: dict[str, str] = field(default_factory=dict)
    server: standins.StandIn | None = None
    procs: dict[str, ServiceProcess] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    settings: CommonSettings = field(default_factory=CommonSettings)

    @property
    def logs(self) -> Path:
        return RESULTS / "logs" / self.name

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.env['CITYOPS_API_PORT']}"

    def start_broker(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
        shutil.rmtree(self.logs, ignore_errors=True)
        kafka_port, es_port = standins.free_port(), standins.free_port()
        self.server = standins.noida(self.workdir / "noida", kafka_port, es_port)
        kafka, es = f"127.0.0.1:{kafka_port}", f"http://127.0.0.1:{es_port}"
        self.settings = CommonSettings(kafka_bootstrap=kafka, es_url=es)
        self.env = {
            "CITYOPS_KAFKA_BOOTSTRAP": kafka,
            "CITYOPS_ES_URL": es,
            "CITYOPS_API_PORT": str(standins.free_port()),
            "CITYOPS_CLASSIFIER_HEALTH_PORT": str(standins.free_port()),
            "CITYOPS_DISPATCH_WEB_PORT": str(standins.free_port()),
            "CITYOPS_INDEXER_HEALTH_PORT": str(standins.free_port()),
            "CITYOPS_DISPATCH_DATA_DIR": str(self.workdir / "dispatch"),
            "CITYOPS_LOG_LEVEL": self.log_level,
            "CITYOPS_INSTANCE_ID": f"bench-{self.name}",
            "CITYOPS_ADMIN_TOKEN": OPERATOR_TOKEN,
            **self.extra_env,
        }
        log(f"starting noida-db (kafka :{kafka_port}, elasticsearch :{es_port})")
        self.server.start()
        provision(self.settings)

    def start_services(self, names: Sequence[str] = SERVICES, timeout: float = 120.0) -> None:
        for name in names:
            proc = ServiceProcess(name, service_env(self.env), self.logs / f"{name}.log")
            proc.start()
            self.procs[name] = proc
        if "api" in names:
            wait_ready(self.api_url, timeout=timeout)
        ports = {
            "classifier": "CITYOPS_CLASSIFIER_HEALTH_PORT",
            "dispatch": "CITYOPS_DISPATCH_WEB_PORT",
            "indexer": "CITYOPS_INDEXER_HEALTH_PORT",
        }
        deadline = time.monotonic() + timeout
        for name in names:
            if name in ports:
                wait_healthy(name, int(self.env[ports[name]]), deadline, self.procs[name])
        log(f"services up: {', '.join(names)}")

    def groups(self) -> dict[str, int]:
        """Process group id of each service and of the stand-in."""
        out = {n: p.pid for n, p in self.procs.items() if p.pid is not None and p.running}
        if self.server is not None and self.server.process is not None:
            out["noida-db"] = self.server.process.pid
        return out

    def dead(self) -> dict[str, int | None]:
        """Services that exited, with their exit code."""
        return {n: p.returncode for n, p in self.procs.items() if not p.running}

    def stop_services(self) -> None:
        for proc in self.procs.values():
            proc.stop(timeout=30)

    def stop(self) -> None:
        self.stop_services()
        if self.server is not None:
            self.server.stop(timeout=30)  # noida-db may take long to exit with much data
            if self.server.log_path.exists():
                self.logs.mkdir(parents=True, exist_ok=True)
                shutil.copy(self.server.log_path, self.logs / "noida-db.log")


def wait_healthy(name: str, port: int, deadline: float, proc: ServiceProcess) -> None:
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if not proc.running:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {proc.log_path}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{name} not healthy; see {proc.log_path}")
        time.sleep(0.5)


# ---------------------------------------------------------------- realistic data


def router() -> Router:
    tax = taxonomy.load()
    predictor = Predictor.load(None, tax)
    return Router(predictor, tax, jurisdiction.load(), predictor.threshold)


# The benches call the API as the operator (X-Admin-Token): citizens' reports, entered.
OPERATOR_TOKEN = "bench-operator-token-0123456789"
OPERATOR = {"X-Admin-Token": OPERATOR_TOKEN}


def bodies(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """``count`` distinct report bodies as ``cityops simulate`` posts them (no repeats),
    all citizens' (the operator enters them, as the 12345 hotline does)."""
    stream = report_bodies(
        taxonomy.load(), jurisdiction.load(), seed=seed, repeat_share=0.0, worker_share=0.0
    )
    return [next(stream) for _ in range(count)]


def submitted(count: int, seed: int = 7, now: datetime | None = None) -> list[ReportSubmitted]:
    """The ``reports.submitted`` records intake makes of :func:`bodies`."""
    now = now or datetime.now(UTC)
    return [to_event(ReportCreate.model_validate(b), now) for b in bodies(count, seed)]


def case_events(
    reports: Sequence[ReportSubmitted], route: Router, spread: timedelta = timedelta(0)
) -> Iterator[list[CaseEvent]]:
    """Each report classified (:func:`classify_batch`) and opened as its own case by the
    dispatch workflow (:func:`workflow.decide`): the events dispatch writes for it.
    ``spread`` moves each case's time back by up to that much (older cases in a queue)."""
    step = spread / max(len(reports), 1)
    base = datetime.now(UTC)
    for start in range(0, len(reports), 500):
        chunk = reports[start : start + 500]
        for i, item in enumerate(classify_batch(chunk, route, base)):
            at = base - step * (len(reports) - start - i)
            item = item.model_copy(update={"classified_at": at})
            decision = workflow.decide(None, open_command(item), route.taxonomy)
            yield decision.events


# ---------------------------------------------------------------- results


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` percentile (0-100) by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def tree_note() -> dict[str, Any]:
    """The commit the services ran from, and which service files differed from it."""

    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--", "services", "cityops", "cityctl")
    return {"commit": git("rev-parse", "--short", "HEAD"), "uncommitted": changed.splitlines()}


def machine_note() -> dict[str, Any]:
    return {
        "tree": tree_note(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
    }


def write_results(name: str, data: dict[str, Any], markdown: str) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)
