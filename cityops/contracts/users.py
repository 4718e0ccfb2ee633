"""``people.users``: user accounts, one compacted record per user.

The account store's truth is this topic, as ``sensor.devices`` is the device registry's:
``cityops users add|disable`` and the admin API write a :class:`UserRecord` keyed by
``user_id``; every API instance reads the topic back into memory (a city has thousands of
staff, not millions). The record holds the argon2 hash of the password, never the password:
the topic is as sensitive as ``/etc/shadow`` and its ACL should say so in production.

A role's binding says where its holder works:

- ``grid_worker``: a town and the unit grids they walk (their verification tasks);
- ``department``: a department code and a town (the cases it sees and handles);
- ``dispatcher``, ``manager``, ``admin``: the whole area.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from cityops.contracts.common import AwareDatetime, Role, Wire

USER_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]{1,63}$"
PEOPLE_ROLES = frozenset(
    {Role.GRID_WORKER, Role.DISPATCHER, Role.DEPARTMENT, Role.MANAGER, Role.ADMIN}
)
MAX_GRIDS = 200


class UserRecord(Wire):
    schema_version: Literal[1] = 1
    user_id: str = Field(pattern=USER_ID_PATTERN, description="登录名（小写字母、数字、. _ -）")
    name: str = Field(min_length=1, max_length=64, description="姓名")
    role: Role
    department: str | None = Field(default=None, max_length=64)
    town: str | None = Field(default=None, max_length=64)
    grids: tuple[str, ...] = Field(default=(), max_length=MAX_GRIDS)
    password_hash: str = Field(min_length=20, max_length=512, description="argon2id")
    disabled: bool = False
    signed_out_at: AwareDatetime | None = Field(
        default=None, description="在此之前签发的令牌全部失效（在所有设备上退出）"
    )
    updated_at: AwareDatetime
    updated_by: str = Field(min_length=1, max_length=128)

    @model_validator(mode="after")
    def _bound(self) -> UserRecord:
        if self.role not in PEOPLE_ROLES:
            raise ValueError(f"role {self.role.value} is not a person's role")
        if self.role == Role.DEPARTMENT and not (self.department and self.town):
            raise ValueError("a department user is bound to a department and a town")
        if self.role == Role.GRID_WORKER and not self.town:
            raise ValueError("a grid worker is bound to a town (and the grids they walk)")
        if self.role not in (Role.DEPARTMENT,) and self.department:
            raise ValueError("only a department user has a department")
        if self.role != Role.GRID_WORKER and self.grids:
            raise ValueError("only a grid worker has grids")
        return self
