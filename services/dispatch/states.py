"""The internal case record held in the faust table (not a wire contract)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from cityops.contracts import CaseSource, Classification, SourceType
from cityops.contracts.states import CaseState

APPLIED_MEMORY = 200  # command ids remembered per case, to make redelivery a no-op
MAX_SOURCES = 12  # sources kept whole per case: the first and the latest; the rest counted


class Clock(BaseModel):
    """The deadline of the stage the case is in (register, dispatch or dispose)."""

    stage: str
    started_at: datetime
    deadline: datetime
    warned: bool = False
    breached: bool = False
    paused_remaining_h: float | None = None  # set while deferred (缓办)


class SensorRecovery(BaseModel):
    """A sensor's recovery that came before the department's report (核查 waiting for it)."""

    source_id: str
    device_id: str | None = None
    since: datetime  # when the readings were observed normal


class Outgoing(BaseModel):
    """One record a step sends, kept in the case until the broker acknowledged it."""

    topic: str
    key: str
    value: str  # the encoded record (JSON)

    @classmethod
    def of(cls, topic: str, key: str, model: BaseModel) -> Outgoing:
        return cls(topic=topic, key=key, value=model.model_dump_json())


class CaseRecord(BaseModel):
    case_id: str
    status: CaseState
    seq: int
    category: str
    department: str
    priority: str
    town: str | None = None
    sources: list[CaseSource] = Field(default_factory=list)  # at most MAX_SOURCES
    source_count: int = 1  # every source the case has, kept or not
    classification: Classification
    applied: list[str] = Field(default_factory=list)
    opened_at: datetime
    updated_at: datetime
    clock: Clock | None = None
    resume_to: CaseState | None = None
    pending_extension_h: float | None = None
    rework_count: int = 0
    returned_count: int = 0
    # The case's sensor recovered before the department reported back: the report is
    # verified on arrival. Cleared when the sensor relapses.
    sensor_recovery: SensorRecovery | None = None
    # When the deadline timer must next look at the case (escalation.next_check), kept so
    # that a restarted worker rebuilds its deadline index without recomputing working hours
    next_check: datetime | None = None
    # The sends of the last step while they are in flight: written with the step's new
    # state, cleared once acknowledged; a restart finds them and sends them again.
    outbox: list[Outgoing] = Field(default_factory=list)

    @property
    def source_ids(self) -> list[str]:
        return [s.source_id for s in self.sources]

    def add_sources(self, new: list[CaseSource], total: int | None = None) -> None:
        """Add ``new`` sources (``total`` of them when only some travel whole): the
        record keeps the first source and the latest ones, and counts all."""
        self.source_count += max(total or 0, len(new))
        kept = [*self.sources, *new]
        if len(kept) > MAX_SOURCES:
            kept = [kept[0], *kept[-(MAX_SOURCES - 1) :]]
        self.sources = kept

    def drop_source(self, source_id: str) -> None:
        self.sources = [s for s in self.sources if s.source_id != source_id]
        self.source_count -= 1

    @property
    def sensor_only(self) -> bool:
        """Every source of the case is a sensor's (and every source is kept, so known)."""
        return 0 < self.source_count == len(self.sources) and all(
            s.source_type is SourceType.SENSOR for s in self.sources
        )

    def remember(self, command_id: str) -> None:
        self.applied = [*self.applied, command_id][-APPLIED_MEMORY:]
