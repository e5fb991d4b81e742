"""How long a code location has been loading by its own clock: the wall time less the time its
process waited for a CPU that other processes held.

A limit on the wall clock fails a large location on a busy machine while it is making progress
(50,000 assets load in about 4 s of CPU, yet took over a minute of wall time on two cores shared
with seven test suites). Linux's scheduler says how long a thread was runnable but not running
(``/proc/PID/schedstat``: time on a CPU, time waiting on a run queue, slices, in ns, for the
process's main thread, which is the one importing user code); that wait is the machine's load,
not the location's, and is not counted. A location that loops still counts (it runs), and one
that blocks on a socket or a lock still counts (it sleeps, it does not wait for a CPU), so a
hung load still reaches the limit. Where the statistics are missing (not Linux, or a kernel
without them) the clock is the wall clock.
"""

from __future__ import annotations

import time
from pathlib import Path

from bakehouse.project.code_server_settings import LoadLimit

# Never sleep longer than this between looks, so that a process that exits is seen soon even
# when the caller has no other way to notice.
_MAX_NAP = 5.0


class LoadClock:
    """The clock of one loading process, started when it was started."""

    def __init__(self, pid: int, limit: LoadLimit) -> None:
        self.pid = pid
        self.limit = limit
        self.started = time.monotonic()
        self._waited = 0.0

    def wall(self) -> float:
        """Seconds since the process was started."""
        return time.monotonic() - self.started

    def waited(self) -> float:
        """Seconds its main thread spent runnable but waiting for a CPU (0 where not known)."""
        try:
            fields = Path(f"/proc/{self.pid}/schedstat").read_text().split()
            self._waited = int(fields[1]) / 1e9
        except (OSError, ValueError, IndexError):
            pass  # gone (the last reading stands) or not Linux (nothing is subtracted)
        return self._waited

    def own(self) -> float:
        """Seconds of loading that count against the limit."""
        return max(0.0, self.wall() - self.waited())

    def expired(self) -> bool:
        """Whether the process has loaded for its whole limit (never, without one)."""
        if not self.limit.limited or self.wall() < self.limit.seconds:
            return False  # its own time never runs ahead of the wall clock
        return self.own() >= self.limit.seconds

    def nap(self) -> float:
        """How long a caller may wait before the limit can be reached, capped at a few seconds."""
        if not self.limit.limited:
            return _MAX_NAP
        return min(_MAX_NAP, max(0.05, self.limit.seconds - self.own()))

    def timeout_message(self, name: str) -> str:
        """Why location `name` was stopped, with the figures and the setting to change."""
        wall = self.wall()
        waited = min(self.waited(), wall)
        busy = (
            f"; {waited:.0f} s of {wall:.0f} s went to waiting for a CPU that other processes "
            "held, which does not count"
            if waited >= 1
            else ""
        )
        return (
            f"code location '{name}' did not finish loading within {self.limit.seconds:.0f} s "
            f"(its own loading time{busy}); the stack shows where its Python was when it was "
            f"stopped. A location that needs longer to load: raise {self.limit.setting}"
        )
