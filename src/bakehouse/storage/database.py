"""An open database at head revision, and the read and write transactions storage calls run in.

Database errors leave here as StorageError, whatever the backend, so callers handle one type.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError

from bakehouse.errors import StorageError
from bakehouse.storage import dialect, fork_guard, migrate
from bakehouse.storage.durability import DEFAULT_DURABILITY, Durability


class Database:
    """One engine on one database, opened and migrated to head on construction."""

    def __init__(
        self,
        url: str | URL,
        *,
        storage_dir: Path | None = None,
        durability: Durability | None = None,
    ) -> None:
        """Open `url` and bring its schema to head; `storage_dir` is the instance's storage
        folder, where a migration may find data older versions kept in files.

        Commits are as durable as the URL's ``durability`` parameter says, else `durability`,
        else the default (``normal``).
        """
        self.url, in_url = dialect.split_durability(dialect.parse_url(url))
        self.durability: Durability = in_url or durability or DEFAULT_DURABILITY
        self.engine = dialect.create_engine(self.url, self.durability)
        # An in-memory SQLite database is one connection shared by all threads; they take turns.
        self._turn: AbstractContextManager[Any] = (
            threading.RLock() if dialect.shares_one_connection(self.url) else nullcontext()
        )
        # A fork must not happen inside a transaction on a SQLite file (see `fork_guard`).
        self._span: Callable[[], AbstractContextManager[Any]] = (
            fork_guard.transaction if dialect.sqlite_file(self.url) is not None else nullcontext
        )
        self._closed = False
        # Counts this process's committed writes, so a change watcher (`changes.py`) wakes at
        # once for them; other processes' commits reach it through the database itself.
        self._generation = 0
        self._committed = threading.Condition()
        try:
            with self._span(), self._turn, self._errors("open"):
                migrate.ensure_schema(self.engine, storage_dir=storage_dir)
        except BaseException:
            self.engine.dispose()
            raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction: one consistent snapshot, rolled back at the end."""
        self._check_open()
        with self._span(), self._turn, self._errors("read"), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction, committed at the end unless an error escapes."""
        self._check_open()
        with self._span(), self._turn, self._errors("write"), self.engine.connect() as conn:
            conn.execution_options(**dialect.WRITE_OPTIONS)
            with conn.begin():
                yield conn
        with self._committed:
            self._generation += 1
            self._committed.notify_all()

    @property
    def generation(self) -> int:
        """How many write transactions this object has committed."""
        return self._generation

    def wait_for_write(self, seen: int, timeout: float) -> int:
        """Block until this object commits a write after generation `seen`, or `timeout`
        seconds pass; return the generation then."""
        with self._committed:
            if self._generation == seen:
                self._committed.wait(timeout)
            return self._generation

    def close(self) -> None:
        """Close every pooled connection; further use raises StorageError."""
        if not self._closed:
            self._closed = True
            self.engine.dispose()

    @property
    def closed(self) -> bool:
        """True once `close` has been called."""
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError("this storage instance is closed")

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            where = self.url.render_as_string(hide_password=True)
            raise StorageError(f"cannot {action} storage at {where}: {exc}") from exc
