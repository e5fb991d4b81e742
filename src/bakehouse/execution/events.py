"""Writing a run's events: to instance storage, and to in-process listeners for live progress.

Events are buffered and stored in one transaction per step boundary: a step's STEP_START,
inputs, logs, outputs and materializations are committed together with its STEP_SUCCESS (or
STEP_FAILURE), so no reader ever sees a step succeed without what it produced, and a run costs
one commit per step instead of one per event. Live views still see a long step within
`FLUSH_INTERVAL`: what is buffered longer than that is stored by a background thread (and by
the next emit). A process killed outright loses at most the events of that last interval, never
a step's outcome without its events.

An emit never wakes the background thread: it sleeps at most `FLUSH_INTERVAL` at a time and
looks at the buffer when it wakes, so a step's few events cost no thread switch (a wake-up per
event, and the GIL hand-over it brings, cost more than the events themselves).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from bakehouse.errors import StorageError
from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import EventRecord, EventType

EventListener = Callable[[EventRecord], None]

# The longest an event waits in the buffer before it is stored, so live views (the run page,
# `bh launch`) follow a long step.
FLUSH_INTERVAL = 0.1

# The events that end a stretch of the log: the buffer is stored with them, at once.
BOUNDARIES = frozenset(
    {
        EventType.RUN_START,
        EventType.RUN_SUCCESS,
        EventType.RUN_FAILURE,
        EventType.RUN_CANCELED,
        EventType.STEP_SUCCESS,
        EventType.STEP_FAILURE,
        EventType.STEP_SKIPPED,
        EventType.STEP_UP_FOR_RETRY,
    }
)

# A background flusher with nothing to store for this long ends; the next event starts one.
_IDLE_SECONDS = 2.0


class EventWriter:
    """Stores the events of one run, a step boundary at a time, then tells the listeners.

    Thread-safe (a step's own threads may log). Close it when the run's part is done (or use it
    as a context manager): that stores what is left and ends the background flusher.
    """

    def __init__(
        self,
        instance: InstanceProtocol | None,
        run_id: str,
        listeners: Iterable[EventListener] = (),
        *,
        flush_interval: float = FLUSH_INTERVAL,
    ) -> None:
        self.instance = instance
        self.run_id = run_id
        self.listeners = list(listeners)
        self.flush_interval = flush_interval
        self._pending: list[EventRecord] = []
        self._oldest = 0.0  # monotonic time the oldest pending event was emitted
        # One lock orders emits and stores: events reach storage in the order they were emitted.
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._flusher: threading.Thread | None = None
        self._closed = False

    def emit(
        self,
        event_type: EventType,
        message: str = "",
        *,
        level: str = "INFO",
        step_key: str | None = None,
        asset_key: str | None = None,
        partition_key: str | None = None,
        data: dict[str, Any] | None = None,
        defer: bool | None = None,
    ) -> EventRecord:
        """Buffer one event; store the buffer now when the event is a step or run boundary
        (`BOUNDARIES`), `defer` is False, or the oldest buffered event has waited
        `flush_interval`. Returns the event (with its storage_id once stored)."""
        event = EventRecord(
            run_id=self.run_id,
            event_type=event_type,
            timestamp=time.time(),
            message=message,
            level=level,
            step_key=step_key,
            asset_key=asset_key,
            partition_key=partition_key,
            data=data or {},
        )
        now_ = defer is False or (defer is None and event_type in BOUNDARIES)
        with self._lock:
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append(event)
            if now_ or time.monotonic() - self._oldest >= self.flush_interval:
                return self._flush_locked()[-1]
            self._ensure_flusher()
        return event

    def flush(self) -> list[EventRecord]:
        """Store every buffered event in one transaction; return them as stored."""
        with self._lock:
            return self._flush_locked()

    def close(self) -> None:
        """Store what is buffered and stop the background flusher; idempotent."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()
            self._flush_locked()
        flusher = self._flusher
        if flusher is not None and flusher is not threading.current_thread():
            flusher.join()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def step_logger(
        self, step_key: str, partition_key: str | None = None
    ) -> Callable[[str, str], None]:
        """A sink for ``context.log`` lines of one step (of one partition)."""

        def sink(level: str, message: str) -> None:
            self.emit(
                EventType.LOG, message, level=level, step_key=step_key, partition_key=partition_key
            )

        return sink

    def _flush_locked(self) -> list[EventRecord]:
        pending, self._pending = self._pending, []
        if not pending:
            return []
        try:
            stored = self.instance.store_events(pending) if self.instance is not None else pending
        except BaseException:
            # Nothing was stored (one transaction): keep the events for the next try.
            self._pending = pending + self._pending
            raise
        for event in stored:
            for listener in self.listeners:
                listener(event)
        return list(stored)

    def _ensure_flusher(self) -> None:
        # A running flusher is not woken: it wakes by itself within the flush interval, which
        # is as late as the oldest pending event may be stored (see `_flush_in_background`).
        if self._closed or self.instance is None or self._flusher is not None:
            return
        self._flusher = threading.Thread(
            target=self._flush_in_background, name=f"events-{self.run_id[:8]}", daemon=True
        )
        self._flusher.start()

    def _flush_in_background(self) -> None:
        """Store what has waited `flush_interval`, until closed or idle for a while.

        Emits do not wake this thread, so it never sleeps longer than `flush_interval` with an
        empty buffer: an event buffered meanwhile is due no earlier than the next wake-up, which
        then sleeps until it is due. Closing wakes it at once.
        """
        with self._lock:
            idle_since = time.monotonic()
            while not self._closed:
                now = time.monotonic()
                if not self._pending:
                    if now - idle_since >= _IDLE_SECONDS:
                        # Said under the lock: an emit after this starts a new flusher.
                        self._flusher = None
                        return
                    self._wake.wait(self.flush_interval)
                    continue
                idle_since = now
                due = self._oldest + self.flush_interval - now
                if due > 0:
                    self._wake.wait(due)
                    continue
                try:
                    self._flush_locked()
                except StorageError:
                    # The run's own next store raises it where it is handled; do not spin on
                    # it here: try again after a pause (the events stay buffered).
                    self._wake.wait(_IDLE_SECONDS)
