"""No fork while a thread of this process is inside a SQLite transaction.

SQLite records the file locks of a process in memory that all its connections to one file
share. A child forked while another thread of its parent held the write lock inherits that
record but not the lock: every connection the child opens to the file then waits for a writer
that does not exist, and each of its writes fails with "database is locked" after the busy
timeout, for as long as it lives. A Celery worker whose heartbeat thread was writing when its
pool forked lost every step that way.

So each transaction on a SQLite file is counted here (`transaction`), and a fork (``os.fork``,
``multiprocessing``'s fork start, Celery's prefork pool) first waits until no other thread is
inside one; transactions that start meanwhile wait for the fork. Transactions are short, so a
fork waits at most a write or two. The thread that forks may itself be inside a transaction
(its own; SQLite's advice is still never to use a connection across a fork): it is not waited
for, so a fork never deadlocks on itself.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import AbstractContextManager

# How long a fork waits for other threads' transactions. Longer than SQLite's busy timeout
# would be pointless: a transaction still open after it is stuck, and forking beats hanging.
FORK_WAIT_SECONDS = 35.0


class _Guard:
    """The count of open transactions, and the lock a fork holds while it happens."""

    def __init__(self) -> None:
        # A plain Lock, not an RLock: the child releases the copy its parent's fork acquired.
        self.condition = threading.Condition(threading.Lock())
        self.active = 0
        # True while a fork waits for open transactions: new ones wait for the fork instead of
        # slipping in (a busy process would otherwise keep a fork waiting until its deadline).
        self.forking = False
        self.mine = threading.local()

    def own(self) -> int:
        return int(getattr(self.mine, "count", 0))


_guard = _Guard()


class _Transaction:
    """The span of one transaction (a class, not a generator: it is on every write's path)."""

    __slots__ = ("guard",)

    def __enter__(self) -> None:
        self.guard = guard = _guard
        own = guard.own()
        with guard.condition:
            # A thread already inside a transaction goes on: the fork does not wait for it.
            while guard.forking and own == 0:
                guard.condition.wait()
            guard.active += 1
        guard.mine.count = own + 1

    def __exit__(self, *exc_info: object) -> None:
        guard = self.guard
        guard.mine.count -= 1
        with guard.condition:
            guard.active -= 1
            if guard.forking:  # only a fork waits on a count
                guard.condition.notify_all()


def transaction() -> AbstractContextManager[None]:
    """Count the enclosed block as an open transaction: a fork from another thread waits for
    its end."""
    return _Transaction()


def open_transactions() -> int:
    """How many transactions threads of this process have open now."""
    return _guard.active


def fork_waiting() -> bool:
    """True while a fork waits for other threads' transactions to end."""
    return _guard.forking


def _before_fork() -> None:
    guard = _guard
    guard.condition.acquire()
    guard.forking = True
    deadline = time.monotonic() + FORK_WAIT_SECONDS
    # Held from here until the fork is done (but while waiting): no transaction starts meanwhile.
    while guard.active > guard.own():
        left = deadline - time.monotonic()
        if left <= 0:
            break
        guard.condition.wait(left)


def _after_fork_in_parent() -> None:
    guard = _guard
    guard.forking = False
    guard.condition.notify_all()
    guard.condition.release()


def _after_fork_in_child() -> None:
    guard = _guard
    # Only the thread that forked lives on in the child: its own transactions are all there are.
    guard.active = guard.own()
    guard.forking = False
    guard.condition.release()


os.register_at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)
