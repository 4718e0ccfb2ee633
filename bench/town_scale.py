"""Dispatch cost per report as one town fills up: is it flat in the number of open cases?

    .venv/bin/python bench/town_scale.py                 # 0 → 100,000 open cases, steps of 5,000
    .venv/bin/python bench/town_scale.py --quick         # 0 → 20,000
    .venv/bin/python bench/town_scale.py --cases 50000 --step 5000 --keep

Starts noida-db on a fresh data directory, provisions the topics, runs ONE dispatch worker
as a process (``cityops serve dispatch`` with the env of tests/e2e/drill.py, under drill's
supervisor, which restarts it if it exits and counts the restarts), and produces
CaseClassified records of one town (bench/_dispatch_stack.py: distinct spots, texts and
12 classes, so none is a duplicate of another) in steps of ``--step``. Per step:

- the rate: reports of the step ÷ seconds from producing them until the last one's event
  (``opened``, or ``source_attached``) is read from ``cases.events``;
- the worker's CPU seconds per report (``/proc/<pid>/stat`` utime + stime over the step ÷
  reports): robust to a noisy machine, unlike the rate; the broker's, for context;
- a probe of ``--probe`` duplicates (same spot, same text, same class, a new source id):
  half of the cases of the step just produced ("recent"), half of cases picked at random
  among all earlier steps ("old"); each should produce ``source_attached`` on its case.

At the end: the largest record value of every topic of the run (cases.classified, .events,
.commands, .outcomes, .candidates and the two changelogs), whether the worker is alive and
how often it restarted. Results: ``bench/results/town_scale[_quick].json``, ``.md`` and
``.png``; the worker's log in ``bench/results/logs/``. ``--keep`` leaves the broker's and the
worker's data (``--state``) for bench/recovery.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import _dispatch_stack as ds

PROBE_TIMEOUT_S = 300.0


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--step", type=int, default=5_000)
    p.add_argument("--probe", type=int, default=50, help="duplicates probed after each step")
    p.add_argument("--quick", action="store_true", help="20,000 cases")
    p.add_argument("--step-timeout", type=float, default=1800.0)
    p.add_argument("--state", type=Path, default=None, help="broker and worker data (default /tmp)")
    p.add_argument("--keep", action="store_true", help="keep --state for bench/recovery.py")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    if args.quick:
        args.cases = min(args.cases, 20_000)
    return args


async def probe(
    settings: Any, tail: ds.EventTail, recent: list[ds.Spot], old: list[ds.Spot], tag: str
) -> dict[str, Any]:
    """Duplicates of ``recent`` and ``old`` cases: does each join its case?"""
    at = ds.now()
    groups = {"recent": recent, "old": old}
    items, expect = [], {}
    for name, spots in groups.items():
        for j, s in enumerate(spots):
            sid = f"{tag}-{name}-{j}"
            items.append(ds.record(s, ds.later(at, j * 1e-3), source_id=sid))
            expect[sid] = (name, s.case_id)
    t0 = time.monotonic()
    await ds.produce(settings, items)
    done = await tail.wait_placed(expect, PROBE_TIMEOUT_S)
    out: dict[str, Any] = {"complete": done, "seconds": round(time.monotonic() - t0, 2)}
    for name, spots in groups.items():
        got = [(tail.placed.get(sid), case) for sid, (g, case) in expect.items() if g == name]
        out[name] = {
            "sent": len(spots),
            "attached_to_its_case": sum(
                1 for p, c in got if p and p.kind == "source_attached" and p.case_id == c
            ),
            "opened_new_case": sum(1 for p, _ in got if p and p.kind == "opened"),
            "attached_elsewhere": sum(
                1 for p, c in got if p and p.kind == "source_attached" and p.case_id != c
            ),
            "missing": sum(1 for p, _ in got if p is None),
        }
    return out


async def fill_step(
    settings: Any, tail: ds.EventTail, sup: Any, broker: ds.Broker_, chunk: list[ds.Spot], t: float
) -> dict[str, Any]:
    at = ds.now()
    items = [ds.record(s, ds.later(at, i * 1e-3)) for i, s in enumerate(chunk)]
    pid, restarts = sup.proc.pid, sup.restarts
    c0, b0, t0 = ds.cpu_seconds(pid), ds.cpu_seconds(broker.pid), time.monotonic()
    await ds.produce(settings, items)
    produced_s = time.monotonic() - t0
    done = await tail.wait_placed((s.source_id for s in chunk), t)
    secs = time.monotonic() - t0
    same = sup.proc.pid == pid
    cpu = ds.cpu_seconds(pid) - c0 if same else None
    n = len(chunk)
    return {
        "reports": n,
        "complete": done,
        "seconds": round(secs, 2),
        "produce_s": round(produced_s, 2),
        "reports_per_s": round(n / secs, 1),
        "worker_cpu_s": None if cpu is None else round(cpu, 2),
        "worker_cpu_ms_per_report": None if cpu is None else round(1000 * cpu / n, 3),
        "broker_cpu_ms_per_report": round(1000 * (ds.cpu_seconds(broker.pid) - b0) / n, 3),
        "worker_rss_mb": round(ds.rss_mb(sup.proc.pid), 1),
        "broker_rss_mb": round(ds.rss_mb(broker.pid), 1),
        "restarts_during_step": sup.restarts - restarts,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    state = args.state or Path(f"/tmp/cityops-bench/town_scale-{uuid.uuid4().hex[:6]}")
    if state.exists():
        shutil.rmtree(state)
    label = "town_scale_quick" if args.quick else "town_scale"
    log_path = ds.RESULTS / "logs" / f"{label}_dispatch.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.unlink(missing_ok=True)
    broker = ds.Broker_(state / "noida")
    broker.start()
    prefix = f"ts{uuid.uuid4().hex[:8]}"
    settings = ds.provision_topics(broker.infra, prefix)
    sup = ds.worker(broker.infra, prefix, state / "dispatch", log_path)
    spots = ds.town(args.cases, seed=args.seed)
    rnd = random.Random(args.seed)
    result: dict[str, Any] = {
        "command": f"bench/town_scale.py --cases {args.cases} --step {args.step}",
        "date": ds.now().isoformat(timespec="seconds"),
        "prefix": prefix,
        "state": str(state),
        "classes": ds.CLASSES,
        "steps": [],
    }
    tail = ds.EventTail(settings)
    try:
        sup.start()
        await tail.start()
        t0 = time.monotonic()
        await ds.produce(settings, [ds.record(ds.town(1, tag="warm")[0], ds.now())])
        if not await tail.wait_placed(["warm0"], 180):
            raise RuntimeError(f"the worker opened nothing in 180 s; see {log_path}")
        result["first_case_s"] = round(time.monotonic() - t0, 1)
        for k in range(0, args.cases, args.step):
            chunk = spots[k : k + args.step]
            step = await fill_step(settings, tail, sup, broker, chunk, args.step_timeout)
            old = rnd.sample(spots[:k], min(k, args.probe // 2)) if k else []
            step["open_cases"] = k + len(chunk) + 1
            step["probe"] = await probe(
                settings, tail, rnd.sample(chunk, args.probe // 2), old, f"dup{k}"
            )
            step["worker_alive"] = sup.proc.running
            result["steps"].append(step)
            print(json.dumps({k: v for k, v in step.items()}, ensure_ascii=False), flush=True)
            save(result, label)
            if not step["complete"]:
                result["stalled_at"] = step["open_cases"]
                break
        result["events"] = dict(tail.counts)
        result["placed_sources"] = len(tail.placed)
        result["restarts"] = sup.restarts
        result["worker_alive_at_end"] = sup.proc.running
        topics = settings.topics
        names = [
            topics.cases_classified,
            topics.cases_commands,
            topics.cases_events,
            topics.cases_outcomes,
            topics.name("cases.candidates"),
            topics.dead_letter("dispatch"),
            *ds.changelog_topics(prefix),
        ]
        await tail.stop()
        result["largest_values"] = await ds.largest_values(settings, names)
        save(result, label)
    finally:
        await tail.stop()
        sup._stop.set()
        t_stop = time.monotonic()
        code = sup.proc.stop(timeout=120) if sup.proc else None
        result["worker_stop"] = {"exit_code": code, "seconds": round(time.monotonic() - t_stop, 1)}
        broker.stop()
        (state / "meta.json").write_text(json.dumps({"prefix": prefix, "cases": args.cases}))
        if not args.keep:
            shutil.rmtree(state, ignore_errors=True)
        save(result, label)
    return result


def save(result: dict[str, Any], label: str) -> None:
    ds.RESULTS.mkdir(parents=True, exist_ok=True)
    (ds.RESULTS / f"{label}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    (ds.RESULTS / f"{label}.md").write_text(markdown(result, label))
    if result["steps"]:
        plot(result, ds.RESULTS / f"{label}.png")


def markdown(r: dict[str, Any], label: str) -> str:
    lines = [
        f"# {label} ({r['date']})",
        "",
        f"`{r['command']}`; classes {', '.join(r['classes'])}",
        "",
        "| open cases | reports/s | worker CPU ms/report | broker CPU ms/report | worker RSS MB "
        "| broker RSS MB | dup recent joined | dup old joined | restarts |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in r["steps"]:
        p = s["probe"]
        rec, old = p["recent"], p["old"]
        lines.append(
            f"| {s['open_cases']:,} | {s['reports_per_s']} | {s['worker_cpu_ms_per_report']} "
            f"| {s['broker_cpu_ms_per_report']} | {s['worker_rss_mb']} | {s['broker_rss_mb']} "
            f"| {rec['attached_to_its_case']}/{rec['sent']} "
            f"| {old['attached_to_its_case']}/{old['sent']} | {s['restarts_during_step']} |"
        )
    if "largest_values" in r:
        lines += [
            "",
            "| topic | records | largest value (B) | all values (MB) |",
            "|---|---|---|---|",
        ]
        for topic, v in r["largest_values"].items():
            mb = v.get("total_value_bytes", 0) / 1e6
            lines.append(f"| `{topic}` | {v['records']:,} | {v['max_value_bytes']:,} | {mb:,.1f} |")
    for key in ("restarts", "worker_alive_at_end", "worker_stop", "events", "stalled_at"):
        if key in r:
            lines.append(f"\n{key}: `{json.dumps(r[key], ensure_ascii=False)}`")
    return "\n".join(lines) + "\n"


def plot(r: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [s for s in r["steps"] if s["worker_cpu_ms_per_report"] is not None]
    x = [s["open_cases"] for s in steps]
    fig, (a, b) = plt.subplots(2, 1, figsize=(8, 7), sharex=True)
    a.plot(x, [s["worker_cpu_ms_per_report"] for s in steps], "o-", label="dispatch worker")
    a.plot(x, [s["broker_cpu_ms_per_report"] for s in steps], "s--", label="noida-db broker")
    a.set_ylabel("CPU ms per report")
    a.set_ylim(bottom=0)
    a.legend()
    a.grid(alpha=0.3)
    b.plot(x, [s["reports_per_s"] for s in steps], "o-", color="tab:green")
    b.set_ylabel("reports/s (opened events)")
    b.set_xlabel("open cases in one town")
    b.set_ylim(bottom=0)
    b.grid(alpha=0.3)
    fig.suptitle(f"dispatch per-report cost vs open cases ({r['date'][:10]})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    args = parse()
    ds.quiet()
    result = asyncio.run(ds.until_sigterm(run(args)))
    print(json.dumps({k: v for k, v in result.items() if k != "steps"}, indent=2))


if __name__ == "__main__":
    main()
