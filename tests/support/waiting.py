"""Waiting on a condition another process or thread will make true, instead of sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    predicate: Callable[[], T | None],
    *,
    message: str,
    timeout: float = 60.0,
    interval: float = 0.02,
) -> T:
    """The first truthy value `predicate()` returns; fails saying what did not happen (`message`)
    after `timeout` seconds.

    Polling is for state owned by another process (a run in the database, a location's status);
    within one process, wait on an event.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s: {message}")
        time.sleep(interval)
