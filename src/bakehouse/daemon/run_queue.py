"""The run queue: starts QUEUED runs, at most `max_concurrent_runs` at a time and within
per-tag limits.

Each started run is driven by the run coordinator in a thread of its own; the run workers it
starts are processes in the locations' interpreters. A run held back by a tag limit does not
hold back the runs queued after it. A run in a location that serves its last good definitions
because its files no longer load waits QUEUED (saying so once in its event log) until the
location loads again: started, it could only fail.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bakehouse.daemon.loop import Loop
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.run_coordinator import RunCoordinator
from bakehouse.protocol.wire import LOCATIONS_TAG
from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import EventRecord, EventType, RunRecord, RunStatus

log = logging.getLogger("bakehouse.daemon.run_queue")


@dataclass(frozen=True)
class TagConcurrencyLimit:
    """At most `limit` runs at once with tag `key` (equal to `value`, if given; counted per
    distinct value of the tag when `per_value`)."""

    key: str
    limit: int
    value: str | None = None
    per_value: bool = False

    def matches(self, run: RunRecord) -> bool:
        """True if `run` counts against this limit."""
        if self.key not in run.tags:
            return False
        return self.value is None or run.tags[self.key] == self.value

    def shares_slot(self, run: RunRecord, other: RunRecord) -> bool:
        """True if `other`, in progress, uses up a slot that `run` (which matches) needs."""
        if not self.matches(other):
            return False
        return not self.per_value or other.tags[self.key] == run.tags[self.key]


class RunQueue(Loop):
    """Polls storage for QUEUED runs and executes them in dequeue order (oldest first); runs in
    progress carry on in their workers when the queue stops."""

    name = "run-queue"

    def __init__(
        self,
        instance: InstanceProtocol,
        coordinator: RunCoordinator,
        graph: Callable[[], GlobalAssetGraph],
        *,
        max_concurrent_runs: int = 10,
        tag_concurrency_limits: Sequence[TagConcurrencyLimit] = (),
        interval: float = 0.2,
        only_tag: tuple[str, str] | None = None,
    ) -> None:
        super().__init__(interval=interval)
        self.instance = instance
        self.coordinator = coordinator
        self.graph = graph
        self.max_concurrent_runs = max_concurrent_runs
        self.tag_concurrency_limits = list(tag_concurrency_limits)
        # Only runs with this tag (key, value): a queue of one backfill, driven from the CLI.
        self.only_tag = only_tag
        self._active: dict[str, threading.Thread] = {}
        self._active_runs: dict[str, RunRecord] = {}
        # Runs held back for a location that does not load, each with the locations it told.
        self._waiting: dict[str, tuple[str, ...]] = {}

    @property
    def active_run_ids(self) -> list[str]:
        """Runs being executed now."""
        return [run_id for run_id, t in self._active.items() if t.is_alive()]

    def _allowed(self, run: RunRecord) -> bool:
        if len(self._active) >= self.max_concurrent_runs:
            return False
        for limit in self.tag_concurrency_limits:
            if limit.matches(run):
                busy = sum(1 for r in self._active_runs.values() if limit.shares_slot(run, r))
                if busy >= limit.limit:
                    return False
        return True

    def tick(self) -> list[str]:
        """Start as many queued runs as the limits allow; returns the ids started."""
        self._active = {k: t for k, t in self._active.items() if t.is_alive()}
        self._active_runs = {k: r for k, r in self._active_runs.items() if k in self._active}
        if len(self._active) >= self.max_concurrent_runs:
            return []
        if self.only_tag is not None:
            tagged = self.instance.get_runs_by_tag(*self.only_tag)
            queued = [r for r in tagged if r.status is RunStatus.QUEUED]
        else:
            queued = self.instance.get_runs(limit=None, statuses=[RunStatus.QUEUED])
        started = []
        stale = self.graph().stale if queued else {}
        for run in sorted(queued, key=lambda r: r.created_at):
            if run.run_id in self._active or not self._allowed(run):
                continue
            if self._held_back(run, stale):
                continue
            thread = threading.Thread(
                target=self._execute, args=(run.run_id,), name=f"run-{run.run_id[:8]}", daemon=True
            )
            self._active[run.run_id] = thread
            self._active_runs[run.run_id] = run
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

    def _held_back(self, run: RunRecord, stale: dict[str, str]) -> bool:
        """True if a location of `run` serves last good definitions whose files do not load;
        the first time (for these locations) the run's event log says why it waits."""
        blocked = tuple(
            name for name in run.tags.get(LOCATIONS_TAG, "").split(",") if name in stale
        )
        if not blocked:
            self._waiting.pop(run.run_id, None)
            return False
        if self._waiting.get(run.run_id) != blocked:
            self._waiting[run.run_id] = blocked
            why = "; ".join(
                f"'{n}' failed to reload ({(stale[n].strip() or 'no message').splitlines()[0]})"
                for n in blocked
            )
            self.instance.store_event(
                EventRecord(
                    run_id=run.run_id,
                    event_type=EventType.ENGINE,
                    timestamp=time.time(),
                    message=(
                        f"Waiting: code location {why}, so the run would import broken "
                        "files; it starts once the location loads again."
                    ),
                    level="WARNING",
                )
            )
        return True

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
