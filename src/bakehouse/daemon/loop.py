"""The one loop every daemon part runs on: a pass every `interval` seconds on a thread of its
own, until stopped; a pass that raises is logged and the loop carries on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bakehouse.host.supervisor import LocationSupervisor

if TYPE_CHECKING:
    from bakehouse.storage import Instance

log = logging.getLogger("bakehouse.daemon")

Clock = Callable[[], float]
"""Where a loop reads the time: `time.time`, or a clock tests move by hand."""


class Loop:
    """Base of the daemon's loops (scheduler, sensors, run queue, backfills, run monitoring):
    subclasses give `tick`, one pass; `start`, `wake` and `stop` are shared."""

    name = "loop"

    def __init__(self, *, interval: float, clock: Clock = time.time) -> None:
        self.interval = interval
        self.clock = clock
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> object:
        """One pass of the loop."""
        raise NotImplementedError

    def start(self) -> None:
        """Run `tick` every `interval` seconds on a background thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Make the next pass now rather than at the end of the interval (after a launch)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the loop; a pass in progress finishes first."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a loop must outlive one bad pass
                log.exception("daemon loop %s failed; retrying in %.1f s", self.name, self.interval)
            self._wake.wait(self.interval)
            self._wake.clear()


class LaunchingLoop(Loop):
    """A loop that launches runs from the serving locations (schedules, sensors, backfills) and
    calls `on_launch` (the run queue's `wake`) when it did."""

    def __init__(
        self,
        instance: Instance,
        supervisor: LocationSupervisor,
        *,
        interval: float = 1.0,
        clock: Clock = time.time,
        on_launch: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(interval=interval, clock=clock)
        self.instance = instance
        self.supervisor = supervisor
        self.on_launch = on_launch

    def launched(self) -> None:
        """Say that runs were queued, so the run queue looks now."""
        if self.on_launch is not None:
            self.on_launch()
