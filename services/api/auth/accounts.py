"""The account store: ``people.users`` read into memory, and the writes that change it.

Every API instance reads the whole compacted topic (:class:`~services.api.feeds.TopicFeed`)
into :class:`Accounts`. A write goes to the topic first and is then applied here too, so
the instance that made a change sees it at once; the others see it when they read it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from cityops.contracts import Role, Topics
from cityops.contracts.users import UserRecord
from cityops.kafka import BackgroundProducer, decode, encode
from cityops.settings import CommonSettings
from services.api.auth.passwords import hash_password
from services.api.feeds import TopicFeed


class AccountError(Exception):
    """A change to the accounts that cannot be made (the message says why, in Chinese)."""


class AccountExists(AccountError):
    pass


class UnknownAccount(AccountError, LookupError):
    pass


class Accounts:
    def __init__(self) -> None:
        self._users: dict[str, UserRecord] = {}

    def __len__(self) -> int:
        return len(self._users)

    def get(self, user_id: str) -> UserRecord | None:
        return self._users.get(user_id)

    def apply(self, record: UserRecord) -> None:
        held = self._users.get(record.user_id)
        if held is None or record.updated_at >= held.updated_at:
            self._users[record.user_id] = record

    def all(self, role: Role | None = None) -> list[UserRecord]:
        users: Iterable[UserRecord] = self._users.values()
        if role is not None:
            users = (u for u in users if u.role == role)
        return sorted(users, key=lambda u: u.user_id)


def accounts_feed(settings: CommonSettings, accounts: Accounts) -> TopicFeed:
    def apply(record: ConsumerRecord[bytes, bytes]) -> None:
        accounts.apply(decode(UserRecord, record.value))

    return TopicFeed(
        settings, (settings.topics.people_users,), apply, "accounts", lambda: len(accounts)
    )


def new_record(
    user_id: str,
    name: str,
    role: Role,
    password: str,
    by: str,
    department: str | None = None,
    town: str | None = None,
    grids: tuple[str, ...] = (),
) -> UserRecord:
    """A new account's record; raises ``ValueError`` (pydantic's) for a bad binding."""
    return UserRecord(
        user_id=user_id,
        name=name,
        role=role,
        department=department,
        town=town,
        grids=grids,
        password_hash=hash_password(password),
        updated_at=datetime.now(UTC),
        updated_by=by,
    )


class AccountService:
    def __init__(
        self,
        producer: BackgroundProducer,
        topics: Topics,
        accounts: Accounts,
    ) -> None:
        self.producer, self.topics, self.accounts = producer, topics, accounts

    async def add(self, record: UserRecord) -> UserRecord:
        if self.accounts.get(record.user_id) is not None:
            raise AccountExists(f"用户 {record.user_id} 已存在")
        await self._write(record)
        return record

    async def set_disabled(self, user_id: str, disabled: bool, by: str) -> UserRecord:
        return await self._update(user_id, by, disabled=disabled)

    async def set_password(self, user_id: str, password: str, by: str) -> UserRecord:
        return await self._update(user_id, by, password_hash=hash_password(password))

    async def sign_out(self, user_id: str, by: str) -> UserRecord:
        """Every token issued to ``user_id`` so far stops working (a lost phone, a shared
        computer); signing in again works at once."""
        return await self._update(user_id, by, signed_out_at=datetime.now(UTC))

    async def _update(self, user_id: str, by: str, **changes: object) -> UserRecord:
        """The account with ``changes``, stamped with who changed it and when, written."""
        stamp = {"updated_at": datetime.now(UTC), "updated_by": by}
        return await self._write(self._held(user_id).model_copy(update={**changes, **stamp}))

    def _held(self, user_id: str) -> UserRecord:
        record = self.accounts.get(user_id)
        if record is None:
            raise UnknownAccount(f"用户 {user_id} 不存在")
        return record

    async def _write(self, record: UserRecord) -> UserRecord:
        await self.producer.send_and_wait(
            self.topics.people_users, encode(record), key=record.user_id.encode()
        )
        self.accounts.apply(record)
        return record
