"""Who is calling: the verified identity every route works with.

A :class:`Principal` is made only from a verified token (or the operator's admin token),
never from a request body; the actor of every command is :meth:`Principal.actor`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cityops.contracts import Actor, Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    role: Role
    name: str | None = None
    department: str | None = None
    town: str | None = None
    grids: tuple[str, ...] = ()

    def actor(self) -> Actor:
        return Actor(
            id=self.user_id,
            role=self.role,
            name=self.name,
            department=self.department,
            town=self.town,
        )

    @property
    def reads_everything(self) -> bool:
        return self.role in (Role.DISPATCHER, Role.MANAGER, Role.ADMIN)


# The operator's X-Admin-Token (settings.admin_token): automation and first setup.
OPERATOR = Principal(user_id="operator", role=Role.ADMIN, name="运维管理员")
