"""Dispatcher, department and grid-worker actions on a case, published to ``cases.commands``.

The API checks the shape and that the case exists; the workflow decides. Its answer is the
command's outcome (``GET .../commands/{command_id}``, from ``cases.outcomes``) and, when
the case changed, the events on its timeline.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cityops.contracts import Actor, CaseCommand, CommandKind, Evidence, Role, Topics
from cityops.contracts.events import CommandBody
from cityops.kafka import BackgroundProducer, encode
from cityops.search import outcome_id
from services.api.cases.models import CommandStatus
from services.api.cases.service import CaseService

SYSTEM_ONLY = frozenset({CommandKind.OPEN, CommandKind.ATTACH, CommandKind.SLA_ALERT})
HUMAN_ROLES = frozenset({Role.DISPATCHER, Role.DEPARTMENT, Role.GRID_WORKER, Role.ADMIN})
MAX_PHOTOS = 9
MAX_PHOTO_REF = 2048  # a URL or a storage key


class ActorIn(BaseModel):
    """Who acts. Bounded here, where the shared ``Actor`` contract leaves fields open."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=128)
    role: Role
    name: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=64)
    town: str | None = Field(default=None, max_length=64)


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: str | None = Field(default=None, max_length=4000)
    photos: list[str] = Field(
        default_factory=list, max_length=MAX_PHOTOS, description=f"最多 {MAX_PHOTOS} 张照片"
    )

    @field_validator("photos")
    @classmethod
    def _short_refs(cls, photos: list[str]) -> list[str]:
        for photo in photos:
            if not photo or len(photo) > MAX_PHOTO_REF:
                raise ValueError(f"照片地址长度须在 1 到 {MAX_PHOTO_REF} 个字符之间")
        return photos


class CommandCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command_id: str = Field(
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:\-]+$",
        description="客户端生成的唯一键（字母、数字、_ . -，不含冒号）；重复提交只执行一次",
    )
    actor: ActorIn
    reason: str | None = Field(default=None, max_length=2000)
    evidence: EvidenceIn = EvidenceIn()
    body: CommandBody

    @field_validator("command_id")
    @classmethod
    def _not_a_system_id(cls, command_id: str) -> str:
        if ":" in command_id:
            raise ValueError("command_id 不能包含冒号「:」：含冒号的编号留给系统内部命令")
        return command_id


class CommandAccepted(BaseModel):
    command_id: str
    case_id: str
    status: str = "accepted"
    status_url: str = Field(description="查询该操作的处理结果")


class CommandRefused(ValueError):
    """The command can never be valid, whatever the case's state."""


class UnknownCase(LookupError):
    """The read model has no such case."""


def status_url(case_id: str, command_id: str) -> str:
    return f"/api/v1/cases/{case_id}/commands/{command_id}"


class CommandService:
    def __init__(self, producer: BackgroundProducer, topics: Topics, cases: CaseService) -> None:
        self.producer, self.topics, self.cases = producer, topics, cases

    async def submit(self, case_id: str, request: CommandCreate) -> CaseCommand:
        """Publish the command; raises :class:`CommandRefused` or :class:`UnknownCase`."""
        if request.body.kind in SYSTEM_ONLY:
            raise CommandRefused(f"{request.body.kind.value} 只能由系统发出")
        if request.actor.role not in HUMAN_ROLES:
            raise CommandRefused(f"角色 {request.actor.role.value} 不能操作案件")
        if not await self.cases.exists(case_id):
            raise UnknownCase(f"案件 {case_id} 不存在（或尚未建案），无法执行操作")
        command = CaseCommand(
            command_id=request.command_id,
            case_id=case_id,
            actor=Actor(**request.actor.model_dump()),
            issued_at=datetime.now(UTC),
            reason=request.reason,
            evidence=Evidence(notes=request.evidence.notes, photos=tuple(request.evidence.photos)),
            body=request.body,
        )
        await self.producer.send_and_wait(
            self.topics.cases_commands, encode(command), key=case_id.encode()
        )
        return command

    async def status(self, case_id: str, command_id: str) -> CommandStatus:
        index = self.cases.model.commands.alias
        doc = await self.cases.by_id(index, outcome_id(case_id, command_id))
        if doc is None:
            return CommandStatus(case_id=case_id, command_id=command_id, status="pending")
        return CommandStatus.model_validate(doc)
