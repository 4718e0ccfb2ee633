"""Case numbers. Derived from the first source's id, so redelivery reopens nothing."""

from __future__ import annotations

import base64
import hashlib

from cityops.contracts import SYSTEM_ACTOR, CaseClassified, CaseCommand, OpenCase

PREFIX = "LG"


def case_id_for(source_id: str) -> str:
    """'LG' and 12 base32 characters (60 bits) of the source id's SHA-256."""
    digest = hashlib.sha256(source_id.encode()).digest()
    return PREFIX + base64.b32encode(digest).decode()[:12]


def open_command(classified: CaseClassified, case_id: str | None = None) -> CaseCommand:
    """Open (or join, when ``case_id`` names an existing case) from a classified source."""
    source = classified.source
    return CaseCommand(
        command_id=f"open:{source.source_id}",
        case_id=case_id or case_id_for(source.source_id),
        actor=SYSTEM_ACTOR,
        issued_at=classified.classified_at,
        body=OpenCase(source=source, classification=classified.classification),
    )
