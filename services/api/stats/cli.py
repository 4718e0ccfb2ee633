"""``cityops stats``: publish the daily case-performance figures for the boards."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

MAX_DAYS = 366


def cmd_publish(args: argparse.Namespace) -> int:
    from elasticsearch import ConnectionError as EsConnectionError

    from cityops import jurisdiction, logs, taxonomy
    from cityops.search import CaseIndex, make_client
    from cityops.settings import CommonSettings
    from services.api.stats.publish import publish_recent, stats_index
    from services.api.stats.service import GroupNames

    settings = CommonSettings()
    logs.setup("stats", settings.log_level)
    names = GroupNames(taxonomy.load(), jurisdiction.load())
    alias = CaseIndex(settings.index_prefix).alias
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while True:
        es = make_client(settings)
        try:
            written = publish_recent(
                es, settings.index_prefix, alias, names, args.days, datetime.now(UTC)
            )
            print(f"{written} documents written to {stats_index(settings.index_prefix)}")
        except (ValueError, EsConnectionError) as exc:
            print(f"stats publish: {exc}", file=sys.stderr)
            if not args.every:
                return 1
        finally:
            es.close()
        if not args.every or stop.wait(args.every):
            return 0


def _days(value: str) -> int:
    days = int(value)
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_DAYS}")
    return days


def register(sub: Any) -> None:
    stats = sub.add_parser(
        "stats",
        help="case-performance figures (结案率, 按期结案率, ...)",
        description="Case-performance figures computed from the case read model.",
    )
    ssub = stats.add_subparsers(dest="stats_command", required=True, metavar="ACTION")
    publish = ssub.add_parser(
        "publish",
        help="write daily figures to <prefix>-stats for the boards",
        description="Compute each of the last N Asia/Shanghai days (today so far included), "
        "overall and by department, town and dimension, and write one document per day, "
        "grouping and key. Documents have fixed ids, so running it again overwrites them.",
    )
    publish.add_argument(
        "--days", type=_days, default=2, metavar="N", help="days to publish (default: 2)"
    )
    publish.add_argument(
        "--every",
        type=float,
        default=0,
        metavar="SECONDS",
        help="keep publishing every SECONDS until SIGTERM (default: once)",
    )
    publish.set_defaults(func=cmd_publish)
