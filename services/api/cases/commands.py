"""Dispatcher, department and grid-worker actions on a case, published to ``cases.commands``.

The API checks the shape; the workflow decides. Its answer appears on the case timeline:
the resulting events, or a ``command_rejected`` event with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from cityops.contracts import Actor, CaseCommand, CommandKind, Evidence, Role, Topics
from cityops.contracts.events import CommandBody
from cityops.kafka import BackgroundProducer, encode

SYSTEM_ONLY = frozenset({CommandKind.OPEN, CommandKind.ATTACH, CommandKind.SLA_ALERT})
HUMAN_ROLES = frozenset({Role.DISPATCHER, Role.DEPARTMENT, Role.GRID_WORKER, Role.ADMIN})


class CommandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command_id: str = Field(
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="客户端生成的唯一键；重复提交只执行一次",
    )
    actor: Actor
    reason: str | None = Field(default=None, max_length=2000)
    evidence: Evidence = Evidence()
    body: CommandBody


class CommandAccepted(BaseModel):
    command_id: str
    case_id: str
    status: str = "accepted"


class CommandRefused(ValueError):
    """The command can never be valid, whatever the case's state."""


class CommandService:
    def __init__(self, producer: BackgroundProducer, topics: Topics) -> None:
        self.producer, self.topics = producer, topics

    async def submit(self, case_id: str, request: CommandCreate) -> CaseCommand:
        if request.body.kind in SYSTEM_ONLY:
            raise CommandRefused(f"{request.body.kind.value} 只能由系统发出")
        if request.actor.role not in HUMAN_ROLES:
            raise CommandRefused(f"角色 {request.actor.role.value} 不能操作案件")
        command = CaseCommand(
            command_id=request.command_id,
            case_id=case_id,
            actor=request.actor,
            issued_at=datetime.now(UTC),
            reason=request.reason,
            evidence=request.evidence,
            body=request.body,
        )
        await self.producer.send_and_wait(
            self.topics.cases_commands, encode(command), key=case_id.encode()
        )
        return command
