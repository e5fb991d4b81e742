"""Opening a DuckDB database file while other processes may hold its write lock.

DuckDB lets one process at a time open a file for writing; another process gets an IO error
naming the lock. Steps of one run that share a database take turns instead of failing: the
connection is retried with exponential back-off, as Dagster's resource does, until a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

# Long enough for a step holding the lock to finish a heavy query; a step waiting longer than
# this is more likely stuck behind a connection someone forgot to close.
LOCK_WAIT_SECONDS = 120.0
_FIRST_DELAY = 0.05
_MAX_DELAY = 2.0


def is_lock_conflict(exc: BaseException) -> bool:
    """True when `exc` says another process holds the database file's lock."""
    return "lock" in str(exc).lower()


def connect_with_retry(
    database: str,
    *,
    config: Mapping[str, Any] | None = None,
    read_only: bool = False,
    wait_seconds: float = LOCK_WAIT_SECONDS,
) -> Any:
    """A connection to `database`, retried with back-off while another process holds its lock.

    Other errors (a missing folder, a file that is not a database) are raised at once: waiting
    would not fix them.
    """
    import duckdb

    deadline = time.monotonic() + wait_seconds
    delay = _FIRST_DELAY
    while True:
        try:
            return duckdb.connect(database, read_only=read_only, config=dict(config or {}))
        except duckdb.IOException as exc:
            if not is_lock_conflict(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, _MAX_DELAY)
