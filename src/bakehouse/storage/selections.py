"""Keeps large run selections in `run_selections`, once per distinct selection (their asset keys
indexed in `run_selection_assets`), and reads them back for the runs that refer to them.

A selection row never changes (its key is the digest of its content), so what one read found is
kept in a small process-wide cache: a list of 50 runs of `*` reads its 20,000 keys once, and a
process that lists runs again (the web's change feed, the daemon) reads them not at all.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.errors import StorageError
from bakehouse.storage import codec, dialect
from bakehouse.storage.codec import Selection
from bakehouse.storage.records import RunRecord
from bakehouse.storage.schema import run_selection_assets, run_selections

# The cache holds at most this many keys in all (a 20,000-key selection is ~2 MB of tuples).
_CACHED_KEYS = 200_000
# Stay far below every backend's limit on bound parameters in one statement.
_DIGESTS_PER_QUERY = 500
_INSERT_ASSETS = sa.insert(run_selection_assets)


class _Cache:
    """Selections by digest, least recently used first out, bounded by their number of keys."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[str, Selection] = OrderedDict()
        self._keys = 0
        self._lock = threading.Lock()

    def get(self, digest: str) -> Selection | None:
        with self._lock:
            found = self._items.get(digest)
            if found is not None:
                self._items.move_to_end(digest)
            return found

    def put(self, digest: str, selection: Selection) -> None:
        size = _size(selection)
        if size > self._capacity:
            return
        with self._lock:
            if digest in self._items:
                return
            self._items[digest] = selection
            self._keys += size
            while self._keys > self._capacity:
                _, dropped = self._items.popitem(last=False)
                self._keys -= _size(dropped)


def _size(selection: Selection) -> int:
    return len(selection.asset_selection) + len(selection.check_selection) + 1


_cache = _Cache(_CACHED_KEYS)


def store(conn: Connection, run: RunRecord) -> str | None:
    """Keep `run`'s selection in `run_selections` when it is large, and return its digest (the
    run row's `selection_digest`); None when the run's body should hold it."""
    if not codec.by_reference(run):
        return None
    digest = codec.selection_digest(run)
    # Inserted even when cached: the cache is the process's, and this database may not have
    # the row yet. A row that exists (an earlier run of the same selection) is left as it is,
    # and so are its asset keys, written with it.
    if dialect.insert_run_selection(conn, codec.selection_row(run, digest, time.time())):
        rows = codec.selection_asset_rows(run, digest)
        if rows:  # a selection of checks alone has none
            conn.execute(_INSERT_ASSETS, rows)
    selection = Selection(asset_selection=run.asset_selection, check_selection=run.check_selection)
    _cache.put(digest, selection)
    return digest


def load(conn: Connection, digests: Iterable[str | None]) -> dict[str, Selection | Exception]:
    """The selections of `digests` (None ones skipped), read in as few queries as it takes;
    one that is missing or cannot be decoded maps to the exception that says so."""
    found: dict[str, Selection | Exception] = {}
    wanted: list[str] = []
    for digest in dict.fromkeys(d for d in digests if d is not None):
        cached = _cache.get(digest)
        if cached is not None:
            found[digest] = cached
        else:
            wanted.append(digest)
    for start in range(0, len(wanted), _DIGESTS_PER_QUERY):
        chunk = wanted[start : start + _DIGESTS_PER_QUERY]
        stmt = sa.select(run_selections.c.selection_digest, run_selections.c.body).where(
            run_selections.c.selection_digest.in_(chunk)
        )
        for row in conn.execute(stmt):
            try:
                selection = codec.selection_from_body(row.body, row.selection_digest)
            except StorageError as exc:  # the runs that refer to it read as corrupt
                found[row.selection_digest] = exc
                continue
            found[row.selection_digest] = selection
            _cache.put(row.selection_digest, selection)
    for digest in wanted:
        if digest not in found:
            found[digest] = StorageError(f"its selection {digest} is missing from run_selections")
    return found
