"""Writing a run's events: to instance storage, and to in-process listeners for live progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import EventRecord, EventType

EventListener = Callable[[EventRecord], None]


class EventWriter:
    """Stores each event of one run as it happens, then tells the listeners.

    Debug-level bookkeeping (inputs loaded, outputs stored) may be deferred: it is stored in
    the same transaction as the next event that is not, which halves the commits per step
    without reordering the log.
    """

    def __init__(
        self,
        instance: InstanceProtocol | None,
        run_id: str,
        listeners: Iterable[EventListener] = (),
    ) -> None:
        self.instance = instance
        self.run_id = run_id
        self.listeners = list(listeners)
        self._pending: list[EventRecord] = []

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
        defer: bool = False,
    ) -> EventRecord:
        """Store one event (with any deferred ones before it) and return it."""
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
        self._pending.append(event)
        if defer:
            return event
        return self.flush()[-1]

    def flush(self) -> list[EventRecord]:
        """Store every pending event in one transaction; return them as stored."""
        pending, self._pending = self._pending, []
        if not pending:
            return []
        stored = self.instance.store_events(pending) if self.instance is not None else pending
        for event in stored:
            for listener in self.listeners:
                listener(event)
        return list(stored)

    def step_logger(
        self, step_key: str, partition_key: str | None = None
    ) -> Callable[[str, str], None]:
        """A sink for ``context.log`` lines of one step (of one partition)."""

        def sink(level: str, message: str) -> None:
            self.emit(
                EventType.LOG, message, level=level, step_key=step_key, partition_key=partition_key
            )

        return sink
