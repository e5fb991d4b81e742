"""A server-sent events client for tests: reads a stream in a thread, hands out its events."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Sent:
    """One event as the server sent it."""

    name: str
    id: str | None
    data: Any


class EventStream:
    """The events of one open stream, in order."""

    def __init__(self) -> None:
        self.events: queue.Queue[Sent] = queue.Queue()
        self.status: int | None = None

    def next(self, timeout: float = 30) -> Sent:
        """The next event; fails after `timeout` seconds without one."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout}s") from None

    def until(self, name: str, timeout: float = 30) -> Sent:
        """The next event called `name`, skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.next(max(0.01, deadline - time.monotonic()))
            if event.name == name:
                return event

    def quiet(self, seconds: float) -> list[Sent]:
        """Every event sent in the next `seconds` (ideally none)."""
        deadline = time.monotonic() + seconds
        found = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                found.append(self.events.get(timeout=left))
            except queue.Empty:
                break
        return found


@contextmanager
def open_stream(url: str, headers: dict[str, str] | None = None) -> Iterator[EventStream]:
    """Open `url` as an event stream for the block; closed (and its thread ended) after it."""
    stream = EventStream()
    client = httpx.Client(timeout=httpx.Timeout(10, read=None))
    opened = threading.Event()

    def read() -> None:
        name: str = "message"
        event_id: str | None = None
        data: list[str] = []
        try:
            with client.stream("GET", url, headers=headers or {}) as response:
                stream.status = response.status_code
                opened.set()
                for line in response.iter_lines():
                    if line.startswith(":"):
                        continue
                    if not line:
                        if data:
                            text = "\n".join(data)
                            stream.events.put(Sent(name, event_id, json.loads(text)))
                        name, event_id, data = "message", None, []
                        continue
                    field, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if field == "event":
                        name = value
                    elif field == "id":
                        event_id = value
                    elif field == "data":
                        data.append(value)
        except (httpx.HTTPError, RuntimeError, ValueError):
            pass  # closed by the test
        finally:
            opened.set()

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    opened.wait(30)
    try:
        yield stream
    finally:
        client.close()
        thread.join(timeout=10)
