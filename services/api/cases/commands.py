"""Dispatcher, department and grid-worker actions on a case, published to ``cases.commands``.

The API checks the shape and that the case exists; the workflow decides. Its answer is the
command's outcome (``GET .../commands/{command_id}``, from ``cases.outcomes``) and, when
the case changed, the events on its timeline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cityops.contracts import CaseCommand, CommandKind, Evidence, Role, Topics
from cityops.contracts.events import CommandBody
from cityops.kafka import BackgroundProducer, encode
from cityops.search import outcome_id
from services.api.auth.principal import Principal
from services.api.auth.scope import can_see, command_refusal
from services.api.cases.models import CommandStatus
from services.api.cases.service import CaseService

SYSTEM_ONLY = frozenset({CommandKind.OPEN, CommandKind.ATTACH, CommandKind.SLA_ALERT})
MAX_PHOTOS = 9
MAX_PHOTO_REF = 2048  # a URL or a storage key
SCOPE_FIELDS = ["case_id", "state", "department", "town", "grid"]


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
    reason: str | None = Field(default=None, max_length=2000)
    evidence: EvidenceIn = EvidenceIn()
    body: CommandBody

    @model_validator(mode="before")
    @classmethod
    def _no_actor(cls, data: Any) -> Any:
        if isinstance(data, dict) and "actor" in data:
            raise ValueError("actor 取自登录令牌，请求中不能指定操作人")
        return data

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
    """The read model has no such case (or the caller may not see it)."""


class NotAllowed(PermissionError):
    """The caller's role may not send this command to this case; the message says why."""


def status_url(case_id: str, command_id: str) -> str:
    return f"/api/v1/cases/{case_id}/commands/{command_id}"


class CommandService:
    def __init__(self, producer: BackgroundProducer, topics: Topics, cases: CaseService) -> None:
        self.producer, self.topics, self.cases = producer, topics, cases

    async def submit(
        self, case_id: str, request: CommandCreate, principal: Principal
    ) -> CaseCommand:
        """Publish the command as ``principal``; raises :class:`CommandRefused`,
        :class:`UnknownCase` or :class:`NotAllowed`."""
        if request.body.kind in SYSTEM_ONLY:
            raise CommandRefused(f"{request.body.kind.value} 只能由系统发出")
        doc = await self.cases.document(case_id, includes=SCOPE_FIELDS)
        own = await self.cases.own_cases(principal)
        if doc is None or not can_see(principal, doc, own):
            raise UnknownCase(f"案件 {case_id} 不存在（或尚未建案），无法执行操作")
        refusal = command_refusal(principal, request.body.kind, doc, own)
        if refusal is not None:
            raise NotAllowed(refusal)
        command = CaseCommand(
            command_id=request.command_id,
            case_id=case_id,
            actor=principal.actor(),
            issued_at=datetime.now(UTC),
            reason=request.reason,
            evidence=Evidence(notes=request.evidence.notes, photos=tuple(request.evidence.photos)),
            body=request.body,
        )
        await self.producer.send_and_wait(
            self.topics.cases_commands, encode(command), key=case_id.encode()
        )
        return command

    async def issued_by(self, case_id: str, command_id: str) -> tuple[str, Role] | None:
        """Who sent the command, once its outcome is recorded (compared by id and role)."""
        index = self.cases.model.commands.alias
        doc = await self.cases.by_id(index, outcome_id(case_id, command_id), ["actor"])
        actor = (doc or {}).get("actor") or {}
        if not actor.get("id") or not actor.get("role"):
            return None
        return actor["id"], Role(actor["role"])

    async def status(self, case_id: str, command_id: str) -> CommandStatus:
        index = self.cases.model.commands.alias
        doc = await self.cases.by_id(index, outcome_id(case_id, command_id))
        if doc is None:
            return CommandStatus(case_id=case_id, command_id=command_id, status="pending")
        return CommandStatus.model_validate(doc)
