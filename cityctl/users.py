"""``cityops users add|list|disable|enable|password``: the account store from the command line.

Writes and reads ``people.users`` directly with kafka-python (a synchronous client fits a
command-line tool), as the admin API does with aiokafka: the topic is the store.
:func:`seed` makes the demo's and the end-to-end tests' accounts.
"""

from __future__ import annotations

import getpass
import secrets
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaProducer

from cityops.contracts import Role
from cityops.contracts.users import UserRecord
from cityops.kafka import encode, ensure_topics, read_to_end
from cityops.settings import CommonSettings
from services.api.auth.accounts import new_record
from services.api.auth.passwords import WeakPassword

BY = "cli"


class UsersError(Exception):
    pass


def read_all(settings: CommonSettings) -> dict[str, UserRecord]:
    """Every account's latest record (the topic is compacted, and read to its end)."""
    ensure_topics(settings, [settings.topics.people_users])  # a fresh cluster has none yet
    latest: dict[str, UserRecord] = {}
    for record in read_to_end(settings, settings.topics.people_users, UserRecord, lambda _: None):
        held = latest.get(record.user_id)
        if held is None or record.updated_at >= held.updated_at:
            latest[record.user_id] = record
    return latest


def write(settings: CommonSettings, records: Iterable[UserRecord]) -> int:
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", client_id="cityops-users"
    )
    try:
        written = 0
        for record in records:
            producer.send(
                settings.topics.people_users, key=record.user_id.encode(), value=encode(record)
            ).get(timeout=30)
            written += 1
        return written
    finally:
        producer.close(timeout=10)


@dataclass(frozen=True)
class Seat:
    """One account to seed: who, and where they work."""

    user_id: str
    name: str
    role: Role
    department: str | None = None
    town: str | None = None
    grids: tuple[str, ...] = ()


DEMO_TOWN = "nanhui_xincheng"
DEMO_SEATS = (
    Seat("admin", "系统管理员", Role.ADMIN),
    Seat("dispatcher", "王派遣", Role.DISPATCHER),
    Seat("manager", "李主任", Role.MANAGER),
    Seat(
        "gridworker",
        "张网格",
        Role.GRID_WORKER,
        town=DEMO_TOWN,
        grids=tuple(f"{DEMO_TOWN}-{n:03d}" for n in range(1, 41)),
    ),
    Seat("roads", "建设交通（南汇新城镇）", Role.DEPARTMENT, "roads_infrastructure", DEMO_TOWN),
)


def seed(
    settings: CommonSettings, seats: Iterable[Seat], password: str | None = None
) -> dict[str, str]:
    """Adds the seats not yet in the store; returns user id → password for those added.
    One password for all (given, or made here); existing accounts are left alone."""
    held = read_all(settings)
    password = password or made_password()
    fresh = [
        new_record(s.user_id, s.name, s.role, password, BY, s.department, s.town, s.grids)
        for s in seats
        if s.user_id not in held
    ]
    write(settings, fresh)
    return {r.user_id: password for r in fresh}


def made_password() -> str:
    return f"Lg-{secrets.token_urlsafe(9)}"


def add(settings: CommonSettings, seat: Seat, password: str) -> UserRecord:
    if seat.user_id in read_all(settings):
        raise UsersError(f"用户 {seat.user_id} 已存在")
    try:
        record = new_record(
            seat.user_id, seat.name, seat.role, password, BY, seat.department, seat.town, seat.grids
        )
    except (WeakPassword, ValueError) as exc:
        raise UsersError(str(exc).removeprefix("Value error, ")) from exc
    write(settings, [record])
    return record


def set_disabled(settings: CommonSettings, user_id: str, disabled: bool) -> UserRecord:
    return _update(settings, user_id, disabled=disabled)


def sign_out(settings: CommonSettings, user_id: str) -> UserRecord:
    """Every token issued to ``user_id`` so far stops working; signing in again works."""
    return _update(settings, user_id, signed_out_at=datetime.now(UTC))


def _update(settings: CommonSettings, user_id: str, **changes: object) -> UserRecord:
    """The account as stored with ``changes``, stamped as the CLI's, written back."""
    record = read_all(settings).get(user_id)
    if record is None:
        raise UsersError(f"用户 {user_id} 不存在")
    stamp = {"updated_at": datetime.now(UTC), "updated_by": BY}
    changed = record.model_copy(update={**changes, **stamp})
    write(settings, [changed])
    return changed


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码: ")
    if getpass.getpass("再输入一次: ") != first:
        raise UsersError("两次输入的密码不一致")
    return first


def table(records: Iterable[UserRecord]) -> str:
    rows = [("USER", "ROLE", "NAME", "DEPARTMENT", "TOWN", "GRIDS", "STATUS")]
    for r in sorted(records, key=lambda r: r.user_id):
        rows.append(
            (
                r.user_id,
                r.role.value,
                r.name,
                r.department or "-",
                r.town or "-",
                str(len(r.grids)),
                "disabled" if r.disabled else "active",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows)
    return "\n".join(lines)
