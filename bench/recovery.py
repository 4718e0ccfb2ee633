"""How long a dispatch worker takes to resume after a restart, with a town's cases in its tables.

    .venv/bin/python bench/town_scale.py --cases 100000 --keep --state /tmp/cityops-bench/t
    .venv/bin/python bench/recovery.py --state /tmp/cityops-bench/t   # reuse that state
    .venv/bin/python bench/recovery.py --cases 20000                    # or build it here

The state is the broker's data (noida-db persists its topics) left by ``town_scale.py
--keep``, or built here the same way (bench/_dispatch_stack.py: distinct reports of one
town). noida-db is started on that data and stays up; one worker is started three times,
one after the other, each stopped with SIGTERM before the next:

- ``rocksdb_empty``: RocksDB (the default store) on an empty data dir: the tables are
  restored from the changelog topics, what a new machine does;
- ``rocksdb_files``: RocksDB on the data dir the previous worker left at its clean stop:
  it reads only the changelog written since;
- ``memory``: ``CITYOPS_DISPATCH_STORE=memory``: restored from the changelog every time;
- ``rocksdb_kept`` (only with ``--scenarios``): RocksDB on the worker's own data dir of the
  run that built the state (``<state>/dispatch``): a machine restarted with its disk, when
  the broker kept everything it acknowledged.

The worker's own data dir from town_scale.py is not reused: the broker was restarted in
between, and noida-db, stopped by SIGKILL after a long SIGTERM wait, came back with less
changelog than the worker's RocksDB had seen (faust then refuses to start, below).

"Recovered" = the worker processes again: the time from starting the process until a new
report, produced at that moment, has its ``opened`` (or, when it lands on the spot of a
case of its class, ``source_attached``) event read from ``cases.events``. Each worker is
then stopped with SIGTERM (its stop time is reported).
Results: ``bench/results/recovery.json`` and ``.md``; logs in ``bench/results/logs/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import _dispatch_stack as ds

# name: (worker data dir, cleared first?, extra env). In this order: the RocksDB files
# reused are those the empty-dir worker wrote and left at its clean stop, on the same
# running broker (a broker restarted on its data may hold less than it acknowledged).
SCENARIOS: dict[str, tuple[str, bool, dict[str, str]]] = {
    "rocksdb_kept": ("dispatch", False, {}),
    "rocksdb_empty": ("dispatch-fresh", True, {}),
    "rocksdb_files": ("dispatch-fresh", False, {}),
    "memory": ("dispatch-memory", True, {"CITYOPS_DISPATCH_STORE": "memory"}),
}


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--state", type=Path, default=None, help="kept by town_scale.py --keep")
    p.add_argument("--cases", type=int, default=100_000, help="cases to build without --state")
    p.add_argument("--timeout", type=float, default=1800.0, help="per scenario, seconds")
    p.add_argument(
        "--scenarios",
        default="rocksdb_empty,rocksdb_files,memory",
        help=f"comma-separated, in order, of {', '.join(SCENARIOS)}",
    )
    return p.parse_args()


async def build(state: Path, n: int) -> dict[str, Any]:
    """A fresh broker and worker data with ``n`` open cases of one town, cleanly stopped."""
    broker = ds.Broker_(state / "noida")
    broker.start()
    prefix = f"rc{uuid.uuid4().hex[:8]}"
    settings = ds.provision_topics(broker.infra, prefix)
    sup = ds.worker(
        broker.infra, prefix, state / "dispatch", ds.RESULTS / "logs" / "recovery_build.log"
    )
    tail = ds.EventTail(settings)
    t0 = time.monotonic()
    try:
        sup.start()
        await tail.start()
        spots = ds.town(n)
        for k in range(0, n, 10_000):
            chunk = spots[k : k + 10_000]
            at = ds.now()
            await ds.produce(
                settings, [ds.record(s, ds.later(at, i * 1e-3)) for i, s in enumerate(chunk)]
            )
            if not await tail.wait_placed((s.source_id for s in chunk), 3600):
                raise RuntimeError(
                    f"build stalled at {k}; see bench/results/logs/recovery_build.log"
                )
            print(f"built {k + len(chunk)} cases in {time.monotonic() - t0:.0f} s", flush=True)
    finally:
        await tail.stop()
        sup._stop.set()
        if sup.proc is not None:
            sup.proc.stop(timeout=120)
        broker.stop()
    meta = {"prefix": prefix, "cases": n, "build_s": round(time.monotonic() - t0, 1)}
    (state / "meta.json").write_text(json.dumps(meta))
    return meta


async def recover(
    broker: ds.Broker_, prefix: str, state: Path, name: str, timeout: float
) -> dict[str, Any]:
    subdir, clear, extra = SCENARIOS[name]
    data = state / subdir
    if clear:
        shutil.rmtree(data, ignore_errors=True)
    settings = ds.settings_for(broker.infra, prefix)
    tail = ds.EventTail(settings)
    await tail.start()
    before = -1
    while before != len(tail.placed):  # let the tail catch up before the clock starts
        before = len(tail.placed)
        await asyncio.sleep(2)
    log = ds.RESULTS / "logs" / f"recovery_{name}.log"
    log.unlink(missing_ok=True)
    sup = ds.worker(broker.infra, prefix, data, log, **extra)
    # a spot and a text of its own (a report at the very spot of a case of its class joins
    # it whatever its text): not a duplicate of any case, earlier probes included
    probe = ds.town(len(SCENARIOS), seed=1000, tag=f"probe-{uuid.uuid4().hex[:4]}-")[
        list(SCENARIOS).index(name)
    ]
    t0 = time.monotonic()
    sup.start()
    try:
        await ds.produce(settings, [ds.record(probe, ds.now())])
        ok = await tail.wait_placed([probe.source_id], timeout)
        secs = time.monotonic() - t0
        placed = tail.placed.get(probe.source_id)
        cpu = ds.cpu_seconds(sup.proc.pid if sup.proc else None)
        result = {
            # opened, or joined a case at its spot: either way the worker processes again
            "recovered": ok and placed is not None,
            "probe_event": placed.kind if placed is not None else None,
            "seconds": round(secs, 1),
            "worker_cpu_s": round(cpu, 1),
            "worker_rss_mb": round(ds.rss_mb(sup.proc.pid if sup.proc else None), 1),
            "restarts": sup.restarts,
            "cases_known_to_tail": len(tail.placed),
        }
    finally:
        await tail.stop()
        sup._stop.set()
        t_stop = time.monotonic()
        code = sup.proc.stop(timeout=120) if sup.proc else None
        result_stop = {"exit_code": code, "seconds": round(time.monotonic() - t_stop, 1)}
    result["stop"] = result_stop
    print(name, json.dumps(result), flush=True)
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    (ds.RESULTS / "logs").mkdir(parents=True, exist_ok=True)
    state = args.state or Path(f"/tmp/cityops-bench/recovery-{uuid.uuid4().hex[:6]}")
    meta = json.loads((state / "meta.json").read_text()) if args.state else None
    if meta is None:
        meta = await build(state, args.cases)
    broker = ds.Broker_(state / "noida")
    t0 = time.monotonic()
    broker.start()
    out: dict[str, Any] = {
        "date": ds.now().isoformat(timespec="seconds"),
        "state": str(state),
        "cases": meta["cases"],
        "prefix": meta["prefix"],
        "broker_start_s": round(time.monotonic() - t0, 1),
        "scenarios": {},
    }
    try:
        settings = ds.settings_for(broker.infra, meta["prefix"])
        out["changelogs"] = await ds.record_counts(settings, ds.changelog_topics(meta["prefix"]))
        for name in args.scenarios.split(","):
            out["scenarios"][name] = await recover(
                broker, meta["prefix"], state, name, args.timeout
            )
            save(out)
    finally:
        broker.stop()
        save(out)
    return out


def save(out: dict[str, Any]) -> None:
    (ds.RESULTS / "recovery.json").write_text(json.dumps(out, indent=2))
    lines = [
        f"# recovery ({out['date']}), {out.get('sources_placed', out['cases']):,} sources "
        "placed (cases.events) before the restarts",
        "",
        f"changelog records: `{json.dumps(out.get('changelogs', {}))}`",
        "",
        "| scenario | recovered | start → probe opened (s) | worker CPU s | RSS MB | stop (s) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in out["scenarios"].items():
        lines.append(
            f"| {name} | {r['recovered']} | {r['seconds']} | {r['worker_cpu_s']} "
            f"| {r['worker_rss_mb']} | {r['stop']['seconds']} |"
        )
    (ds.RESULTS / "recovery.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    ds.quiet()
    print(json.dumps(asyncio.run(ds.until_sigterm(run(parse()))), indent=2))


if __name__ == "__main__":
    main()
