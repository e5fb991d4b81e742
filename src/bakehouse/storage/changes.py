"""A cheap signal that the database may have changed, for readers that follow it (the web feed).

Nothing here reads a table. A watcher blocks in `ChangeWatcher.wait` until a write may have
happened, by any process:

- a write through this process's `Database` wakes it at once (a condition variable);
- SQLite: ``PRAGMA data_version`` on a connection of the watcher's own, which changes whenever
  another connection (in any process) commits; it is read every `SQLITE_POLL_SECONDS` and costs
  a few microseconds, with no query and no lock;
- PostgreSQL: ``LISTEN`` on `CHANNEL`; statement-level triggers on the tables a feed follows
  ``pg_notify`` it (`schema.notify_trigger_sql`: made with a fresh database, and by migration
  0016), and the server delivers the notification when the writing transaction commits.

A wake says only "look again"; what changed is for the reader to find from its own cursor.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.storage import dialect, runs as runs_table
from bakehouse.storage.records import RUN_STATUS_BY_EVENT, EventType, RunRecord
from bakehouse.storage.schema import CHANGES_CHANNEL as CHANNEL, event_logs, runs

if TYPE_CHECKING:
    from bakehouse.storage.database import Database

# How often another process's commit to a SQLite file is looked for while someone waits.
SQLITE_POLL_SECONDS = 0.1


class ChangeWatcher:
    """Wakes its one caller when the database may have changed since the previous wake.

    Use from one thread at a time; `close` it (or use it as a context manager) when done.
    """

    def __init__(self, database: Database) -> None:
        """Start watching `database` (the first `wait` reports changes from now on)."""
        self._db = database
        self._generation = database.generation
        self._sqlite: sqlite3.Connection | None = None
        self._sqlite_version: int | None = None
        self._pg: Any = None
        url = database.url
        path = dialect.sqlite_file(url)
        if path is not None:
            # Its own connection: data_version ignores the commits of the connection reading it.
            self._sqlite = sqlite3.connect(str(path), check_same_thread=False)
            self._sqlite_version = self._data_version()
        elif url.get_backend_name() == "postgresql":
            import psycopg  # only a PostgreSQL deployment pays for it

            conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._pg = psycopg.connect(conninfo, autocommit=True)
            self._pg.execute(f"LISTEN {CHANNEL}")
        self._lock = threading.Lock()

    def _data_version(self) -> int:
        assert self._sqlite is not None
        row = self._sqlite.execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def wait(self, timeout: float) -> bool:
        """Block until the database may have changed since the previous wake (True), or until
        `timeout` seconds pass with no sign of a change (False)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                if self._moved():
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                if self._pg is not None:
                    if self._pg_notified(remaining):
                        return True
                    continue
                step = remaining if self._sqlite is None else min(remaining, SQLITE_POLL_SECONDS)
                self._db.wait_for_write(self._generation, step)

    def _moved(self) -> bool:
        if self._pg is not None:
            return False  # every write notifies, this process's too: one wake per change
        generation = self._db.generation
        moved = generation != self._generation
        self._generation = generation
        if self._sqlite is not None:
            version = self._data_version()
            moved = moved or version != self._sqlite_version
            self._sqlite_version = version
        return moved

    def _pg_notified(self, timeout: float) -> bool:
        # Every notification queued so far counts as one wake.
        got = any(True for _ in self._pg.notifies(timeout=timeout, stop_after=1))
        if got:
            for _ in self._pg.notifies(timeout=0.001):
                pass
        return got

    def close(self) -> None:
        """Release the watcher's own connection."""
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._pg is not None:
            self._pg.close()
            self._pg = None

    def __enter__(self) -> ChangeWatcher:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# The events a follower of changes reads: those that change a run's status or an asset's newest
# materialization.
FOLLOWED_EVENT_TYPES = (*RUN_STATUS_BY_EVENT, EventType.ASSET_MATERIALIZATION)


@dataclass(frozen=True)
class LoggedChange:
    """The indexed columns of one followed event (its body is not read)."""

    storage_id: int
    run_id: str
    event_type: EventType
    asset_key: str | None
    partition_key: str | None
    timestamp: float


@dataclass(frozen=True)
class RunHead:
    """A run's id, status and last update, without its body."""

    run_id: str
    status: str
    updated_at: float


def select_logged_changes(conn: Connection, after: int, *, limit: int) -> list[LoggedChange]:
    """The followed events with a storage id above `after`, oldest first, at most `limit`."""
    types = [t.value for t in FOLLOWED_EVENT_TYPES]
    c = event_logs.c
    stmt = (
        sa.select(c.id, c.run_id, c.event_type, c.asset_key, c.partition_key, c.timestamp)
        .where(c.id > after, c.event_type.in_(types))
        .order_by(c.id)
        .limit(limit)
    )
    return [
        LoggedChange(
            storage_id=int(row.id),
            run_id=row.run_id,
            event_type=EventType(row.event_type),
            asset_key=row.asset_key,
            partition_key=row.partition_key,
            timestamp=float(row.timestamp),
        )
        for row in conn.execute(stmt)
    ]


def select_run_heads(conn: Connection, *, limit: int) -> list[RunHead]:
    """The newest `limit` runs' heads, newest first (the runs list's order)."""
    stmt = (
        sa.select(runs.c.run_id, runs.c.status, runs.c.updated_at)
        .order_by(runs.c.created_at.desc(), runs.c.run_id.desc())
        .limit(limit)
    )
    return [RunHead(row.run_id, row.status, float(row.updated_at)) for row in conn.execute(stmt)]


def select_runs_by_id(conn: Connection, run_ids: Sequence[str]) -> list[RunRecord]:
    """The stored, readable runs among `run_ids`, newest first (a run deleted since, or whose
    row cannot be read, is left out: the runs list marks the latter)."""
    return [r for r in runs_table.select_runs_by_id(conn, run_ids) if isinstance(r, RunRecord)]
