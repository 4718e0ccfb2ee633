"""The ``cityops`` command line.

It stands on the top floor: ``serve``, ``replay``, ``router`` and ``stats`` reach into the
services. The router and stats commands register their own subcommands (light modules);
everything else a command needs is imported when it runs, so each loads only what it uses.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path

from cityops import logs


def _serve(args: argparse.Namespace) -> int:
    # Imported on demand: each service pulls in only its own dependencies.
    importlib.import_module(f"services.{args.service}.main").main()
    return 0


def _init(args: argparse.Namespace) -> int:
    from cityops.provision import provision
    from cityops.settings import CommonSettings

    settings = CommonSettings()
    logs.setup("init", settings.log_level)
    provision(settings, wait_s=args.wait)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from cityctl.demo import DemoOptions, run_demo

    logging.basicConfig(level=logging.WARNING)
    options = DemoOptions(
        workdir=Path(args.workdir),
        api_port=args.port,
        rate=args.rate,
        fresh=args.fresh,
        workers=not args.no_workers,
        sensors=not args.no_sensors,
    )
    return run_demo(options)


def _standins(args: argparse.Namespace) -> int:
    import signal

    from cityops import standins

    server = standins.noida(Path(args.data_dir), args.kafka_port, args.es_port)
    server.start()
    print(
        f"noida-db: CITYOPS_KAFKA_BOOTSTRAP=127.0.0.1:{args.kafka_port} "
        f"CITYOPS_ES_URL=http://127.0.0.1:{args.es_port}  (Ctrl-C stops)"
    )
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        server.stop()
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from cityctl.simulate import run
    from cityops import jurisdiction, taxonomy

    logs.setup("simulate")
    if not args.admin_token:
        print(
            "cityops simulate: needs the operator token (--admin-token or CITYOPS_ADMIN_TOKEN)",
            file=sys.stderr,
        )
        return 2
    places = (taxonomy.load(), jurisdiction.load())
    made = run(args.api, args.admin_token, *places, args.rate, args.count, args.seed)
    print(f"posted {made} reports")
    return 0


def _sensors_simulate(args: argparse.Namespace) -> int:
    from cityctl.sensors_sim import SimOptions, dry_run, run
    from cityops.settings import CommonSettings

    options = SimOptions(
        devices=args.devices,
        seed=args.seed,
        speed=args.speed,
        storm_at_min=args.storm_at,
        storm_for_min=args.storm_for,
        duration_s=args.duration,
        count=args.count,
    )
    if args.dry_run:
        dry_run(options, print, lambda line: print(line, file=sys.stderr))
        return 0
    import signal
    import threading

    from kafka.errors import KafkaError

    settings = CommonSettings()
    logs.setup("sensors-sim", settings.log_level)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        made = run(settings, options, stop)
    except KafkaError as exc:
        print(f"Kafka at {settings.kafka_bootstrap}: {exc!r}", file=sys.stderr)
        return 1
    print(f"sent {made} readings")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from cityops.search import make_client
    from cityops.settings import CommonSettings
    from services.indexer.replay import replay

    settings = CommonSettings()
    logs.setup("replay", settings.log_level)
    es = make_client(settings)
    try:
        name, count = replay(settings, es, lambda m: print(m, file=sys.stderr), not args.no_swap)
    finally:
        es.close()
    print(f"{count} cases replayed into {name}")
    return 0


def _non_negative(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return number


def _positive(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {value}")
    return number


def _add_sensors(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sensors = sub.add_parser(
        "sensors",
        help="IoT devices: simulate Lingang's fleet",
        description="Tools for the IoT sensors of issue 10.",
    )
    sensors_sub = sensors.add_subparsers(dest="sensors_command", required=True, metavar="COMMAND")
    ss = sensors_sub.add_parser(
        "simulate",
        help="register simulated devices and send their readings to Kafka",
        description="Register a deterministic fleet across every Lingang town on "
        "sensor.devices, then send its readings to sensor.readings (CITYOPS_KAFKA_BOOTSTRAP): "
        "day and night, bins filling, a rainstorm flooding the low-lying grids and receding, "
        "tilted covers, dark lamps, flaky devices and a slow drift. Simulated time runs "
        "--speed times the wall clock; readings carry it in observed_at and received_at.",
    )
    ss.add_argument("--devices", type=int, default=300, help="fleet size (300)")
    ss.add_argument("--seed", type=int, default=7, help="same seed, same fleet and readings")
    ss.add_argument(
        "--speed",
        type=_positive,
        default=10.0,
        help="simulated seconds per second (10; 1: real time)",
    )
    ss.add_argument(
        "--storm-at",
        type=_non_negative,
        default=10.0,
        help="rainstorm start, simulated minutes (10)",
    )
    ss.add_argument(
        "--storm-for", type=_positive, default=60.0, help="rainstorm length, simulated minutes (60)"
    )
    ss.add_argument(
        "--duration", type=_positive, default=None, help="stop after S seconds (default: never)"
    )
    ss.add_argument("--count", type=int, default=None, help="stop after N readings")
    ss.add_argument(
        "--dry-run",
        action="store_true",
        help="no Kafka: fleet summary on stderr, the first readings (--count, 50) as JSON lines",
    )
    ss.set_defaults(func=_sensors_simulate)


def _users(args: argparse.Namespace) -> int:
    from cityctl import users
    from cityops.contracts import Role
    from cityops.settings import CommonSettings

    settings = CommonSettings()
    try:
        if args.users_command == "list":
            print(users.table(users.read_all(settings).values()))
        elif args.users_command == "add":
            seat = users.Seat(
                args.user_id,
                args.name,
                Role(args.role),
                args.department,
                args.town,
                tuple(g for g in (args.grids or "").split(",") if g),
            )
            record = users.add(settings, seat, users.read_password(args.password_stdin))
            print(f"已添加用户 {record.user_id}（{record.role.value}）")
        elif args.users_command == "sign-out":
            record = users.sign_out(settings, args.user_id)
            print(f"用户 {record.user_id} 已在所有设备上退出，须重新登录")
        else:
            disabled = args.users_command == "disable"
            record = users.set_disabled(settings, args.user_id, disabled)
            print(f"用户 {record.user_id} 已{'停用' if disabled else '启用'}")
    except users.UsersError as exc:
        print(f"cityops users: {exc}", file=sys.stderr)
        return 1
    return 0


def _add_users(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    people = sub.add_parser(
        "users",
        help="people's accounts: add, list, disable, enable, sign-out",
        description="Manage the accounts people sign in with (the compacted topic "
        "people.users on CITYOPS_KAFKA_BOOTSTRAP; the API reads it). Roles and bindings: "
        "grid_worker (--town, --grids), department (--department, --town), dispatcher, "
        "manager, admin. See docs/security.md.",
    )
    usub = people.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    usub.add_parser("list", help="every account, with its role, binding and status")
    add = usub.add_parser(
        "add",
        help="add an account (the password is asked twice, or read from stdin)",
        description="Add an account. The password is hashed with argon2id here; only the "
        "hash is written.",
    )
    add.add_argument("user_id", help="sign-in name: lower-case letters, digits, . _ -")
    add.add_argument("--name", required=True, help="the person's name, shown on the screens")
    add.add_argument(
        "--role",
        required=True,
        choices=["grid_worker", "dispatcher", "department", "manager", "admin"],
    )
    add.add_argument("--department", help="department code (role department)")
    add.add_argument("--town", help="town code (roles department and grid_worker)")
    add.add_argument("--grids", help="comma-separated unit grid codes (role grid_worker)")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin's first line"
    )
    for action in ("disable", "enable"):
        one = usub.add_parser(action, help=f"{action} an account (takes effect at once)")
        one.add_argument("user_id")
    out = usub.add_parser(
        "sign-out",
        help="end every session of an account (a lost phone); it may sign in again",
    )
    out.add_argument("user_id")
    people.set_defaults(func=_users)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cityops",
        description="cityops 一网统管: city incident intake, routing, case workflow and search.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run one service (configured by CITYOPS_* variables)",
        description="Run one service until SIGTERM; see README, Configuration.",
    )
    serve.add_argument("service", choices=["api", "classifier", "dispatch", "indexer", "sensors"])
    serve.set_defaults(func=_serve)

    init = sub.add_parser(
        "init",
        help="create Kafka topics and the Elasticsearch index",
        description="Create missing topics (CITYOPS_TOPIC_PARTITIONS) and the "
        "case index template and alias; safe to run again.",
    )
    init.add_argument("--wait", type=float, default=120.0, help="seconds to wait for servers")
    init.set_defaults(func=_init)

    demo = sub.add_parser(
        "demo",
        help="run everything on local stand-ins with demo traffic",
        description="Start noida-db and the five services (restarted with back-off, 1 s "
        "doubling to 30 s, if they exit), a stream of demo reports and simulated "
        "dispatchers and departments; print the ports and the URL to open. Services use "
        "their documented ports (api 8000, classifier 8001, dispatch 8002, indexer 8003, "
        "sensors 8004; "
        "Kafka 19092, Elasticsearch 19200), or a free port when one is taken. "
        "Ctrl-C stops it all.",
    )
    demo.add_argument("--port", type=int, default=8000, help="API and console port (8000)")
    demo.add_argument(
        "--rate", type=_non_negative, default=2.0, help="demo reports per second (0: none)"
    )
    demo.add_argument(
        "--no-workers",
        action="store_true",
        help="no simulated dispatchers and departments: cases stay where people put them",
    )
    demo.add_argument(
        "--no-sensors",
        action="store_true",
        help="no simulated IoT devices (by default 300 devices send readings in real time, "
        "with a rainstorm a minute in)",
    )
    demo.add_argument("--workdir", default="var/demo", help="data and logs (default var/demo)")
    demo.add_argument("--fresh", action="store_true", help="delete earlier demo data first")
    demo.set_defaults(func=_demo)

    si = sub.add_parser(
        "standins",
        help="run only the local Kafka/Elasticsearch stand-in",
        description="Run noida-db in the foreground for development.",
    )
    si.add_argument("--data-dir", default="var/standins")
    si.add_argument("--kafka-port", type=int, default=19092)
    si.add_argument("--es-port", type=int, default=19200)
    si.set_defaults(func=_standins)

    sim = sub.add_parser(
        "simulate",
        help="post demo reports to a running API",
        description="Post generated grid-worker and citizen reports as simulated people: one "
        "grid worker per town (sim-gw.<town>) and a 12345 hotline operator (sim-hotline) who "
        "enters citizens' calls. Their accounts are made through the admin API with the "
        "operator token on first use.",
    )
    sim.add_argument("--api", default="http://127.0.0.1:8000")
    sim.add_argument(
        "--admin-token",
        default=os.environ.get("CITYOPS_ADMIN_TOKEN"),
        help="the API's CITYOPS_ADMIN_TOKEN (default: that variable)",
    )
    sim.add_argument("--rate", type=float, default=2.0, help="reports per second (0: no pause)")
    sim.add_argument("--count", type=int, default=None, help="stop after N (default: never)")
    sim.add_argument("--seed", type=int, default=7)
    sim.set_defaults(func=_simulate)

    _add_sensors(sub)
    _add_users(sub)

    rp = sub.add_parser(
        "replay",
        help="rebuild the Elasticsearch read model from cases.events",
        description="Fold every case from the start of cases.events into a new "
        "index generation, then point the case alias at it.",
    )
    rp.add_argument("--no-swap", action="store_true", help="build the index, keep the alias")
    rp.set_defaults(func=_replay)

    _add_grafana(sub)

    from services.api.stats.cli import register as register_stats
    from services.classifier.cli import register as register_router

    register_router(sub)
    register_stats(sub)
    return parser


def _grafana(args: argparse.Namespace) -> int:
    from cityctl import grafana

    if args.grafana_command == "build":
        out = Path(args.out) if args.out else grafana.DASHBOARDS_DIR
        shown = [str(path) for path in grafana.build(out)]
    else:
        shown = grafana.sync(args.url, args.token, args.folder)
    print("\n".join(shown))
    return 0


def _add_grafana(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    grafana = sub.add_parser(
        "grafana",
        help="the Grafana boards: write their JSON, or push them to a Grafana",
        description="The 净畅宁和美 city board, the operations board and the pipeline board, "
        "generated by cityctl/grafana.py (docs/boards.md).",
    )
    gsub = grafana.add_subparsers(dest="grafana_command", required=True, metavar="ACTION")
    build = gsub.add_parser("build", help="write deploy/grafana/dashboards/*.json")
    build.add_argument(
        "--out", help="directory (default: the repository's deploy/grafana/dashboards)"
    )
    build.set_defaults(func=_grafana)
    sync = gsub.add_parser("sync", help="push the same dashboards to a Grafana (grafana-client)")
    sync.add_argument("--url", required=True, help="Grafana's URL, e.g. http://127.0.0.1:3000")
    sync.add_argument("--token", required=True, help="a service account token (Editor or Admin)")
    sync.add_argument("--folder", default="cityops", help="folder uid (default: %(default)s)")
    sync.set_defaults(func=_grafana)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
