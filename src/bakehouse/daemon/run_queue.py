"""The run queue: starts QUEUED runs, at most `max_concurrent_runs` at a time.

Each started run is driven by the run coordinator in a thread of its own; the run workers it
starts are processes in the locations' interpreters.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from bakehouse.location.global_graph import GlobalAssetGraph
from bakehouse.location.run_coordinator import RunCoordinator
from bakehouse.storage.records import EventRecord, EventType, RunStatus

log = logging.getLogger("bakehouse.daemon.run_queue")


class RunQueue:
    """Polls storage for QUEUED runs and executes them in dequeue order (oldest first)."""

    def __init__(
        self,
        instance: Any,
        coordinator: RunCoordinator,
        graph: Callable[[], GlobalAssetGraph],
        *,
        max_concurrent_runs: int = 10,
        interval: float = 0.2,
    ) -> None:
        self.instance = instance
        self.coordinator = coordinator
        self.graph = graph
        self.max_concurrent_runs = max_concurrent_runs
        self.interval = interval
        self._active: dict[str, threading.Thread] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def start(self) -> None:
        """Start polling in a background thread."""
        self._thread = threading.Thread(target=self._loop, name="run-queue", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the queue now rather than at the next tick (after a launch)."""
        self._wake.set()

    @property
    def active_run_ids(self) -> list[str]:
        """Runs being executed now."""
        return [run_id for run_id, t in self._active.items() if t.is_alive()]

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the queue must outlive one bad tick
                log.exception("run queue tick failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def tick(self) -> list[str]:
        """Start as many queued runs as the limit allows; returns the ids started."""
        self._active = {k: t for k, t in self._active.items() if t.is_alive()}
        free = self.max_concurrent_runs - len(self._active)
        if free <= 0:
            return []
        queued = self.instance.get_runs(limit=None, statuses=[RunStatus.QUEUED])
        started = []
        for run in sorted(queued, key=lambda r: r.created_at)[:free]:
            if run.run_id in self._active:
                continue
            thread = threading.Thread(
                target=self._execute, args=(run.run_id,), name=f"run-{run.run_id[:8]}", daemon=True
            )
            self._active[run.run_id] = thread
            self.instance.store_event(
                EventRecord(
                    run_id=run.run_id,
                    event_type=EventType.RUN_STARTING,
                    timestamp=time.time(),
                    message="Dequeued; starting run workers.",
                )
            )
            thread.start()
            started.append(run.run_id)
        return started

    def _execute(self, run_id: str) -> None:
        try:
            self.coordinator.execute(run_id, self.graph())
        except Exception as exc:  # recorded as the run's failure below
            log.exception("run %s failed in the coordinator", run_id)
            self.instance.store_event(
                EventRecord(
                    run_id=run_id,
                    event_type=EventType.RUN_FAILURE,
                    timestamp=time.time(),
                    message=f"Run {run_id} failed in the deployment: {exc}",
                    level="ERROR",
                )
            )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling; runs in progress continue in their workers until they end."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
