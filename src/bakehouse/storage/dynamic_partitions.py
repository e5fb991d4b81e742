"""Reads and writes the keys of dynamic partitions definitions (table `dynamic_partitions`).

A key is one row: its id is the order keys were added in, and a unique index on the digests of
(definition name, key) makes adding a key that is there already a no-op, whatever process adds
it. The database serves every host of a deployment; until revision 0004 the keys lived in a
JSON file per machine, which that migration imports.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.storage import codec, dialect
from bakehouse.storage.schema import dynamic_partitions

# Rows per INSERT: six bound parameters each stays far below SQLite's and PostgreSQL's limits.
_ROWS_PER_STATEMENT = 500

_D = dynamic_partitions.c


def _of(name: str) -> sa.ColumnElement[bool]:
    # The digest finds the rows through the index; the text comparison makes a collision harmless.
    return sa.and_(_D.partitions_def_digest == codec.digest(name), _D.partitions_def_name == name)


def _key(key: str) -> sa.ColumnElement[bool]:
    return sa.and_(_D.partition_digest == codec.digest(key), _D.partition_key == key)


def add(conn: Connection, name: str, keys: Sequence[str]) -> None:
    """Add `keys` to definition `name` after the keys it has, in the order given; keys it has
    already (or given twice) keep their place."""
    new = list(dict.fromkeys(keys))
    if not new:
        return
    # Concurrent adders of one definition take turns, so each batch's ids are contiguous and
    # PostgreSQL transactions inserting overlapping keys in different orders cannot deadlock.
    dialect.lock_dynamic_partitions(conn, name)
    now = time.time()
    name_digest = codec.digest(name)
    rows = [
        {
            "partitions_def_digest": name_digest,
            "partition_digest": codec.digest(key),
            "partitions_def_name": name,
            "partition_key": key,
            "created_at": now,
        }
        for key in new
    ]
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        dialect.insert_dynamic_partitions(conn, rows[start : start + _ROWS_PER_STATEMENT])


def delete(conn: Connection, name: str, key: str) -> None:
    """Remove `key` from `name`; a key that is not there is no error (as in Dagster)."""
    conn.execute(sa.delete(dynamic_partitions).where(_of(name), _key(key)))


def select_keys(conn: Connection, name: str) -> list[str]:
    """The keys of `name` in the order they were added."""
    stmt = sa.select(_D.partition_key).where(_of(name)).order_by(_D.id)
    return list(conn.execute(stmt).scalars())


def has_key(conn: Connection, name: str, key: str) -> bool:
    """True if `key` was added to `name` and not deleted since."""
    stmt = sa.select(_D.id).where(_of(name), _key(key)).limit(1)
    return conn.execute(stmt).first() is not None
