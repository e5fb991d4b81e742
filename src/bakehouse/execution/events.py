"""Writing a run's events: to instance storage, and to in-process listeners for live progress."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from bakehouse.storage.records import EventRecord, EventType

EventListener = Callable[[EventRecord], None]


class EventWriter:
    """Stores each event of one run as it happens, then tells the listeners."""

    def __init__(self, instance: Any, run_id: str, listeners: Iterable[EventListener] = ()) -> None:
        self.instance = instance
        self.run_id = run_id
        self.listeners = list(listeners)

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
    ) -> EventRecord:
        """Store one event and return it with its storage id."""
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
        stored = self.instance.store_event(event) if self.instance is not None else event
        for listener in self.listeners:
            listener(stored)
        return stored

    def step_logger(self, step_key: str) -> Callable[[str, str], None]:
        """A sink for ``context.log`` lines of one step."""

        def sink(level: str, message: str) -> None:
            self.emit(EventType.LOG, message, level=level, step_key=step_key)

        return sink
