"""A process forked while another of its threads writes to SQLite can still write.

SQLite keeps a process's file locks in memory its connections share; a child forked in the
middle of another thread's write transaction inherits the record of a lock it does not hold and
waits for it forever ("database is locked" on every write). `fork_guard` makes the fork wait
for the transaction instead. The children here are real forks (multiprocessing's fork start, as
Celery's prefork pool and the multiprocess executor use)."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from pathlib import Path

from bakehouse.storage import fork_guard
from bakehouse.storage.database import Database

FORK = multiprocessing.get_context("fork")


def _write_from_child(path: str, must_see: str | None, must_not_see: str | None) -> None:
    """Exit 0 when this process, just forked, sees (or not) the parent's rows as asked and
    can then write to `path`; 3 when a row is, or is not, there; 2 when the database stays
    locked."""
    connection = sqlite3.connect(path, timeout=5, isolation_level=None)
    rows = {row[0] for row in connection.execute("SELECT who FROM probe")}
    if (must_see is not None and must_see not in rows) or must_not_see in rows:
        raise SystemExit(3)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO probe VALUES ('child')")
        connection.execute("COMMIT")
    except sqlite3.OperationalError:
        raise SystemExit(2) from None
    raise SystemExit(0)


def _database(tmp_path: Path) -> tuple[Database, str]:
    path = tmp_path / "fork.db"
    db = Database(f"sqlite:///{path}")
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE probe (who TEXT)")
    return db, str(path)


def test_a_fork_waits_for_another_threads_write_and_the_child_can_write(tmp_path: Path) -> None:
    db, path = _database(tmp_path)
    inside, release = threading.Event(), threading.Event()

    def write_slowly() -> None:
        with db.write() as conn:
            conn.exec_driver_sql("INSERT INTO probe VALUES ('parent')")
            inside.set()
            release.wait(10)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        assert inside.wait(10)
        assert fork_guard.open_transactions() == 1
        # The write ends a moment after the fork was asked for, so the fork has to wait.
        threading.Timer(0.3, release.set).start()
        started = time.monotonic()
        child = FORK.Process(target=_write_from_child, args=(path, "parent", None))
        child.start()
        waited = time.monotonic() - started
        child.join(30)
    finally:
        release.set()
        writer.join(10)
        db.close()
    assert child.exitcode == 0, {2: "the child found the database locked", 3: "forked mid-write"}[
        child.exitcode or 0
    ]
    assert waited >= 0.2
    assert fork_guard.open_transactions() == 0


def test_a_fork_from_inside_a_threads_own_transaction_does_not_wait(tmp_path: Path) -> None:
    db, _path = _database(tmp_path)
    try:
        with db.read():
            started = time.monotonic()
            child = FORK.Process(target=lambda: None)
            child.start()
            forked_after = time.monotonic() - started
            child.join(30)
    finally:
        db.close()
    assert child.exitcode == 0
    assert forked_after < 5  # not FORK_WAIT_SECONDS: it does not wait for itself


def test_transactions_started_while_a_fork_waits_wait_for_the_fork(tmp_path: Path) -> None:
    """A transaction another thread starts while a fork waits does not slip in before it: the
    child, forked as soon as the first write ends, does not find the later one's row."""
    db, path = _database(tmp_path)
    inside, release = threading.Event(), threading.Event()

    def hold_a_write() -> None:
        with db.write():
            inside.set()
            release.wait(10)

    def write_later() -> None:
        with db.write() as conn:
            conn.exec_driver_sql("INSERT INTO probe VALUES ('late')")
            # Open a while: a fork that waited for it would hand the child its row.
            time.sleep(1.0)

    holder = threading.Thread(target=hold_a_write)
    holder.start()
    assert inside.wait(10)
    late = threading.Thread(target=write_later)

    def start_late_then_release() -> None:
        # Start the late write only once the fork waits: from then on it must wait too.
        deadline = time.monotonic() + 20
        while not fork_guard.fork_waiting() and time.monotonic() < deadline:
            time.sleep(0.01)
        late.start()
        time.sleep(0.2)
        release.set()

    helper = threading.Thread(target=start_late_then_release)
    helper.start()
    try:
        child = FORK.Process(target=_write_from_child, args=(path, None, "late"))
        child.start()
        child.join(30)
    finally:
        release.set()
        helper.join(10)
        holder.join(10)
        late.join(10)
    with db.read() as conn:
        rows = {row[0] for row in conn.exec_driver_sql("SELECT who FROM probe")}
    db.close()
    assert child.exitcode == 0, "the late write happened before the fork"
    assert rows == {"late", "child"}
