"""Who receives which change: the subscribers and the rule of ``scope.can_see``. Pure.

A grid worker sees the cases of their own reports; which those are is read again every
``OWN_CASES_EVERY_S`` (by the feed, which owns the I/O) and kept on the subscriber.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cityops.contracts import Role
from services.api.auth.principal import Principal
from services.api.auth.scope import can_see
from services.api.live.mailbox import Frame, Mailbox

OWN_CASES_EVERY_S = 10.0


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    mailbox: Mailbox = field(default_factory=Mailbox)
    own_cases: frozenset[str] = frozenset()
    own_cases_at: float | None = None  # monotonic seconds of the last read

    def own_cases_due(self, now: float, every: float = OWN_CASES_EVERY_S) -> bool:
        if self.principal.role != Role.GRID_WORKER:
            return False
        return self.own_cases_at is None or now - self.own_cases_at >= every


def fan_out(
    docs: Iterable[dict[str, Any]],
    subscribers: Iterable[Subscriber],
    render: Callable[[dict[str, Any]], Frame | None],
) -> int:
    """Offers each doc's frame to the subscribers who may see it; returns frames offered.

    A doc is rendered once, and only if someone may see it; ``None`` from ``render`` (a
    document that is not a case summary) is sent to nobody.
    """
    audience = list(subscribers)
    offered = 0
    for doc in docs:
        recipients = [s for s in audience if can_see(s.principal, doc, s.own_cases)]
        frame = render(doc) if recipients else None
        if frame is None:
            continue
        for subscriber in recipients:
            subscriber.mailbox.offer(frame)
        offered += len(recipients)
    return offered
