"""Run monitoring: runs left STARTED by a host or launcher that was killed get their end.

Runs this deployment drives are watched by their coordinator, which sees the worker exit and
records how the run ended. When that coordinator dies (a daemon killed mid-backfill, say), its
run workers carry on and finish their steps, but nobody records the run's end. Once such a run's
last worker is gone, the monitor reads the run's events and records what they show: success
when every selected asset was materialized, failure naming the failed steps, or failure naming
what was left unfinished and why.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from bakehouse.daemon.loop import Clock, Loop
from bakehouse.host.run_coordinator import RunCoordinator
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


class RunMonitor(Loop):
    """Fails runs whose worker is gone; quiet runs get `grace` seconds between phases."""

    name = "run-monitor"

    def __init__(
        self,
        instance: Instance,
        coordinator: RunCoordinator,
        *,
        clock: Clock = time.time,
        grace: float = 15.0,
        interval: float = 5.0,
    ) -> None:
        super().__init__(interval=interval, clock=clock)
        self.instance = instance
        self.coordinator = coordinator
        self.grace = grace

    def tick(self) -> list[str]:
        """Check every started run once; returns the ids marked failed."""
        failed = []
        for run in self.instance.get_runs(
            limit=None, statuses=[RunStatus.STARTING, RunStatus.STARTED]
        ):
            if self.coordinator.is_driving(run.run_id):
                continue
            ending = self._ending(run)
            if ending is None:
                continue
            self.instance.store_event(ending)
            if ending.event_type == EventType.RUN_FAILURE:
                failed.append(run.run_id)
        return failed

    def _ending(self, run: RunRecord) -> EventRecord | None:
        """The event that ends `run`, or None while it may still be making progress."""
        events = self.instance.get_events(run.run_id)
        if not events or self.clock() - events[-1].timestamp < self.grace:
            return None  # between phases, or just started: give it time
        workers = [e for e in events if e.event_type == EventType.ENGINE and "pid" in e.data]
        if not workers:
            if any(e.event_type == EventType.RUN_STARTING for e in events):
                # The run queue took it, then its daemon died before a worker started: nothing
                # ran, so it goes back to the queue rather than failing.
                return EventRecord(
                    run_id=run.run_id,
                    event_type=EventType.RUN_QUEUED,
                    timestamp=self.clock(),
                    message="Run monitoring queued this run again: the process starting it "
                    "stopped before any run worker started.",
                    level="WARNING",
                    data={"monitor": True},
                )
            quiet = self.clock() - events[-1].timestamp
            return self._failure(
                run, f"no run worker has reported for {quiet:.0f} s and no process is driving it"
            )
        pid = int(workers[-1].data["pid"])
        if _pid_alive(pid):
            return None
        return self._judge(run, events, f"its run worker (pid {pid}) is no longer running")

    def _judge(self, run: RunRecord, events: list[EventRecord], gone: str) -> EventRecord:
        """How a run whose worker is gone ended, from what its steps recorded."""
        ended = {EventType.STEP_SUCCESS, EventType.STEP_FAILURE, EventType.STEP_SKIPPED}
        started = {e.step_key for e in events if e.event_type == EventType.STEP_START}
        finished = {e.step_key for e in events if e.event_type in ended}
        cut_short = sorted(k for k in started - finished if k)
        if cut_short:
            return self._failure(run, f"{gone}; it died during step {', '.join(cut_short)}")
        failed = sorted(
            {
                e.step_key
                for e in events
                if e.event_type in (EventType.STEP_FAILURE, EventType.STEP_SKIPPED) and e.step_key
            }
        )
        materialized = {
            e.asset_key for e in events if e.event_type == EventType.ASSET_MATERIALIZATION
        }
        missing = [k for k in run.asset_selection if k not in materialized]
        if failed:
            return self._failure(run, f"{gone}; steps failed: {', '.join(failed)}")
        if missing:
            return self._failure(
                run, f"{gone} and the run had not finished: {', '.join(missing)} never ran"
            )
        # Every selected asset materialized: the worker finished the run, only its coordinator
        # was not there to say so.
        return EventRecord(
            run_id=run.run_id,
            event_type=EventType.RUN_SUCCESS,
            timestamp=self.clock(),
            message=(
                f"Finished run {run.run_id}: its coordinator had stopped, so run monitoring "
                "recorded the end from the steps' events."
            ),
            data={"monitor": True},
        )

    def _failure(self, run: RunRecord, reason: str) -> EventRecord:
        return EventRecord(
            run_id=run.run_id,
            event_type=EventType.RUN_FAILURE,
            timestamp=self.clock(),
            message=f"Run monitoring marked this run failed: {reason}",
            level="ERROR",
            data={"monitor": True},
        )
