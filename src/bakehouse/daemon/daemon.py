"""The daemon: the scheduler, the sensor loop, backfills and run monitoring, each on a thread.

The run queue runs beside it in the same deployment. Every loop outlives a failed pass: it logs
the error and tries again at its next interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bakehouse.daemon.backfills import BackfillDaemon
from bakehouse.daemon.monitor import RunMonitor
from bakehouse.daemon.scheduler import Clock, Scheduler
from bakehouse.daemon.sensors import SensorDaemon
from bakehouse.host.run_coordinator import RunCoordinator
from bakehouse.host.supervisor import LocationSupervisor

if TYPE_CHECKING:
    from bakehouse.storage import Instance

log = logging.getLogger("bakehouse.daemon")


class Daemon:
    """Starts and stops the daemon loops of a deployment."""

    def __init__(
        self,
        instance: Instance,
        supervisor: LocationSupervisor,
        coordinator: RunCoordinator,
        *,
        clock: Clock = time.time,
        on_launch: Callable[[], None] | None = None,
        schedule_interval: float = 1.0,
        sensor_interval: float = 1.0,
        monitor_interval: float = 5.0,
        backfill_interval: float = 1.0,
        max_unfinished_backfill_runs: int = 10,
    ) -> None:
        self.scheduler = Scheduler(instance, supervisor, coordinator, clock=clock,
                                   on_launch=on_launch)  # fmt: skip
        self.sensors = SensorDaemon(instance, supervisor, coordinator, clock=clock,
                                    on_launch=on_launch)  # fmt: skip
        self.monitor = RunMonitor(instance, coordinator, clock=clock)
        self.backfills = BackfillDaemon(
            instance, supervisor, coordinator, clock=clock, on_launch=on_launch,
            max_unfinished_runs=max_unfinished_backfill_runs,
        )  # fmt: skip
        self._loops = [
            ("scheduler", self.scheduler.tick, schedule_interval),
            ("sensors", self.sensors.tick, sensor_interval),
            ("run-monitor", self.monitor.tick, monitor_interval),
            ("backfills", self.backfills.tick, backfill_interval),
        ]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start every loop."""
        for name, tick, interval in self._loops:
            thread = threading.Thread(
                target=self._loop, args=(name, tick, interval), name=name, daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _loop(self, name: str, tick: Callable[[], object], interval: float) -> None:
        while not self._stop.is_set():
            try:
                tick()
            except Exception:  # a loop must outlive one bad pass
                log.exception("daemon loop %s failed; retrying in %.0f s", name, interval)
            self._stop.wait(interval)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop every loop (a pass in progress finishes first)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
