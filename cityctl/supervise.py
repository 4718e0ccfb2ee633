"""Keeping the demo's services up: restart a service that exits unexpectedly, with back-off.

The decision is one pure function, :func:`after_exit`: how many failures in a row a
service has had, and how long to wait before starting it again. A service that stayed up
for ``Backoff.stable_s`` starts a new streak, so an occasional crash restarts at once
(after ``first_s``) while a crash loop slows down to one start every ``cap_s``.

:class:`Supervisor` applies it: call :meth:`Supervisor.poll` from the launcher's loop.
Every exit and restart is told on the console and appended to the service's own log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cityctl.processes import ServiceProcess, stop_together

# Past this many doublings every delay is the cap anyway; keeps 2**n a small number.
_MAX_DOUBLINGS = 30


@dataclass(frozen=True)
class Backoff:
    """Restart delays: ``first_s``, doubling per failure in a row, at most ``cap_s``."""

    first_s: float = 1.0
    cap_s: float = 30.0
    stable_s: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.first_s <= self.cap_s or self.stable_s < 0:
            raise ValueError(f"invalid back-off {self}")


def after_exit(policy: Backoff, streak: int, uptime_s: float) -> tuple[int, float]:
    """A service that ran ``uptime_s`` seconds exited after ``streak`` failures in a row:
    return its new streak and the seconds to wait before starting it again."""
    streak = 1 if uptime_s >= policy.stable_s else streak + 1
    doublings = min(streak - 1, _MAX_DOUBLINGS)
    return streak, min(policy.cap_s, policy.first_s * 2**doublings)


@dataclass
class _Watch:
    process: ServiceProcess
    started_at: float = 0.0
    streak: int = 0
    restart_at: float | None = None


class Supervisor:
    """Starts service processes and restarts those that exit until :meth:`stop_all`."""

    def __init__(
        self,
        processes: Sequence[ServiceProcess],
        policy: Backoff | None = None,
        say: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy or Backoff()
        self._watches = [_Watch(p) for p in processes]
        self._say = say
        self._clock = clock
        self._stopping = False

    @property
    def processes(self) -> list[ServiceProcess]:
        return [w.process for w in self._watches]

    def restarts(self, name: str) -> int:
        """Failures in a row of the named service (0 while it has never failed)."""
        return next(w.streak for w in self._watches if w.process.name == name)

    def start_all(self) -> None:
        for watch in self._watches:
            self._start(watch)

    def poll(self) -> None:
        """Notice exits and start the services whose back-off has run out."""
        if self._stopping:
            return
        now = self._clock()
        for watch in self._watches:
            if watch.restart_at is not None:
                if now >= watch.restart_at:
                    self._start(watch)
            elif not watch.process.running:
                self._exited(watch, now)

    def stop_all(self, timeout: float = 20.0) -> None:
        """No more restarts; SIGTERM every service, then wait for each (SIGKILL on timeout)."""
        self._stopping = True
        stop_together([watch.process for watch in reversed(self._watches)], timeout)

    def _start(self, watch: _Watch) -> None:
        watch.restart_at = None
        watch.started_at = self._clock()
        watch.process.start()

    def _exited(self, watch: _Watch, now: float) -> None:
        uptime = now - watch.started_at
        watch.streak, delay = after_exit(self.policy, watch.streak, uptime)
        watch.restart_at = now + delay
        proc = watch.process
        message = (
            f"{proc.name} exited (code {proc.returncode}) after {uptime:.1f} s; "
            f"restarting in {delay:g} s (failure {watch.streak} in a row)"
        )
        self._say(f"supervisor: {message}; log: {proc.log_path}")
        _append_log(proc, message, code=proc.returncode, restart_in_s=delay)


def _append_log(proc: ServiceProcess, message: str, **extra: object) -> None:
    """One line in the service log's own format (cityops.logs: one JSON object a line)."""
    line = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "level": "warning",
        "service": proc.name,
        "logger": "cityctl.supervise",
        "msg": message,
        **extra,
    }
    proc.log_path.parent.mkdir(parents=True, exist_ok=True)
    with proc.log_path.open("a", encoding="utf-8") as log:
        log.write(json.dumps(line, ensure_ascii=False) + "\n")
