"""Run monitoring: a run whose worker died without finishing it is marked failed, with why.

Runs this deployment drives are watched by their coordinator, which sees the worker exit. This
catches the rest: runs left STARTED by a host or launcher that was killed.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from bakehouse.daemon.scheduler import Clock
from bakehouse.location.run_coordinator import RunCoordinator
from bakehouse.storage.records import EventRecord, EventType, RunRecord, RunStatus

if TYPE_CHECKING:
    from bakehouse.storage import Instance


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has exited; it only waits to be reaped
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class RunMonitor:
    """Fails runs whose worker is gone; quiet runs get `grace` seconds between phases."""

    def __init__(
        self,
        instance: Instance,
        coordinator: RunCoordinator,
        *,
        clock: Clock = time.time,
        grace: float = 15.0,
    ) -> None:
        self.instance = instance
        self.coordinator = coordinator
        self.clock = clock
        self.grace = grace

    def tick(self) -> list[str]:
        """Check every started run once; returns the ids marked failed."""
        failed = []
        for run in self.instance.get_runs(
            limit=None, statuses=[RunStatus.STARTING, RunStatus.STARTED]
        ):
            if self.coordinator.is_driving(run.run_id):
                continue
            reason = self._why_dead(run)
            if reason is not None:
                self.instance.store_event(
                    EventRecord(
                        run_id=run.run_id,
                        event_type=EventType.RUN_FAILURE,
                        timestamp=self.clock(),
                        message=f"Run monitoring marked this run failed: {reason}",
                        level="ERROR",
                        data={"monitor": True},
                    )
                )
                failed.append(run.run_id)
        return failed

    def _why_dead(self, run: RunRecord) -> str | None:
        events = self.instance.get_events(run.run_id)
        if not events or self.clock() - events[-1].timestamp < self.grace:
            return None  # between phases, or just started: give it time
        workers = [e for e in events if e.event_type == EventType.ENGINE and "pid" in e.data]
        if workers:
            pid = int(workers[-1].data["pid"])
            if _pid_alive(pid):
                return None
            return f"its run worker (pid {pid}) is no longer running and the run had not finished"
        return (
            f"no run worker has reported for {self.clock() - events[-1].timestamp:.0f} s and "
            "no process is driving the run"
        )
