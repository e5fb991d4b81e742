"""Reads and writes backfills and the runs their partitions got.

A backfill is a row of `backfills` (JSON body); which run each of its partitions got is a row of
`backfill_partition_runs` per partition, whose primary key makes claiming a partition atomic
across daemons: a partition is recorded once, and a daemon restarted after a crash reads what
was claimed instead of launching a partition twice.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bakehouse.errors import StorageError
from bakehouse.serdes import replace
from bakehouse.storage import codec, dialect
from bakehouse.storage.corrupt import read_or_mark, read_or_raise
from bakehouse.storage.records import BackfillRecord, BackfillStatus, CorruptRecord
from bakehouse.storage.schema import backfill_partition_runs, backfills

# Rows per statement: five bound parameters each stays below SQLite's limit (32766) and
# PostgreSQL's (65535), and far below for many keys in one IN list.
_ROWS_PER_STATEMENT = 500

_B = backfills.c
_R = backfill_partition_runs.c


def insert_backfill(conn: Connection, backfill: BackfillRecord) -> BackfillRecord:
    """Store a new backfill (with any partition_runs it carries), stamping unset times."""
    if not backfill.created_at:
        backfill = replace(backfill, created_at=time.time())
    if not backfill.updated_at:
        backfill = replace(backfill, updated_at=backfill.created_at)
    try:
        conn.execute(sa.insert(backfills), codec.backfill_to_row(backfill))
    except IntegrityError as exc:
        raise StorageError(f"a backfill with id '{backfill.backfill_id}' already exists") from exc
    for partition_key, run_id in backfill.partition_runs.items():
        _insert_claims(conn, backfill.backfill_id, [partition_key], run_id, backfill.created_at)
    return select_backfill(conn, backfill.backfill_id) or backfill


def select_backfill(
    conn: Connection, backfill_id: str, *, for_update: bool = False
) -> BackfillRecord | None:
    """The backfill `backfill_id`, or None; `for_update` locks its row (PostgreSQL)."""
    stmt = sa.select(_B.body).where(_B.backfill_id == backfill_id)
    if for_update:
        stmt = stmt.with_for_update()
    body = conn.execute(stmt).scalar_one_or_none()
    if body is None:
        return None
    claims = _partition_runs(conn, [backfill_id])[backfill_id]
    return read_or_raise("backfills", backfill_id, partial(codec.backfill_from_body, body, claims))


def select_backfills(
    conn: Connection, *, statuses: Sequence[BackfillStatus] | None, limit: int | None
) -> list[BackfillRecord | CorruptRecord]:
    """Backfills newest first (by created_at, then id), optionally of some statuses only; a row
    that cannot be read is a `CorruptRecord` in its place."""
    stmt = sa.select(_B.backfill_id, _B.created_at, _B.body).order_by(
        _B.created_at.desc(), _B.backfill_id.desc()
    )
    if statuses is not None:
        stmt = stmt.where(_B.status.in_([BackfillStatus(s).value for s in statuses]))
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = list(conn.execute(stmt))
    claims = _partition_runs(conn, [row.backfill_id for row in rows])
    return [
        read_or_mark(
            "backfills",
            row.backfill_id,
            partial(codec.backfill_from_body, row.body, claims[row.backfill_id]),
            created_at=row.created_at,
        )
        for row in rows
    ]


def update_backfill(conn: Connection, backfill_id: str, changes: dict[str, Any]) -> BackfillRecord:
    """Apply `changes` (BackfillRecord fields) and return the backfill; updated_at defaults to now.

    Its id and partition_runs (see `claim_partitions`) cannot change; raises StorageError.
    """
    if changes.get("backfill_id", backfill_id) != backfill_id:
        raise StorageError(f"cannot change the id of backfill '{backfill_id}'")
    if "partition_runs" in changes:
        raise StorageError(
            f"update_backfill cannot change partition_runs of backfill '{backfill_id}': "
            "partitions get runs through claim_backfill_partitions"
        )
    current = select_backfill(conn, backfill_id, for_update=True)
    if current is None:
        raise StorageError(f"there is no backfill '{backfill_id}'")
    changes = {"updated_at": time.time(), **changes}
    if "status" in changes:
        changes["status"] = BackfillStatus(changes["status"])
    for name in ("partition_keys", "asset_selection"):
        if name in changes:
            changes[name] = tuple(changes[name])
    try:
        updated = replace(current, **changes)
    except TypeError as exc:
        raise TypeError(
            f"update_backfill: {exc}; valid fields are those of BackfillRecord"
        ) from None
    conn.execute(
        sa.update(backfills)
        .where(_B.backfill_id == backfill_id)
        .values(codec.backfill_to_row(updated))
    )
    return updated


def claim_partitions(
    conn: Connection, backfill_id: str, partition_keys: Sequence[str], run_id: str
) -> dict[str, str]:
    """Record that `partition_keys` of the backfill got run `run_id`, all or none.

    Returns {} when every key was recorded. If any was claimed before, nothing is recorded and
    the result maps each such key to the run it got.
    """
    if isinstance(partition_keys, str):
        raise TypeError("partition_keys is a list of keys, not one string")
    if conn.execute(sa.select(_B.backfill_id).where(_B.backfill_id == backfill_id)).first() is None:
        raise StorageError(f"there is no backfill '{backfill_id}'")
    keys = list(dict.fromkeys(partition_keys))
    inserted = _insert_claims(conn, backfill_id, keys, run_id, time.time())
    if len(inserted) == len(keys):
        return {}
    # Some were taken: take back what this call inserted, and report the earlier claims.
    ours = [codec.digest(key) for key in keys if codec.digest(key) in inserted]
    for start in range(0, len(ours), _ROWS_PER_STATEMENT):
        conn.execute(
            sa.delete(backfill_partition_runs).where(
                _R.backfill_id == backfill_id,
                _R.partition_digest.in_(ours[start : start + _ROWS_PER_STATEMENT]),
            )
        )
    taken = [key for key in keys if codec.digest(key) not in inserted]
    claimed = _partition_runs(conn, [backfill_id])[backfill_id]
    missing = [key for key in taken if key not in claimed]
    if missing:  # a digest shared with another key: SHA-256 collided
        raise StorageError(f"partition keys {missing!r} of backfill '{backfill_id}' collide")
    return {key: claimed[key] for key in taken}


def _insert_claims(
    conn: Connection, backfill_id: str, keys: list[str], run_id: str, now: float
) -> set[str]:
    # In digest order: concurrent claims then wait on each other's rows in one order (PostgreSQL
    # holds a conflicting insert until the other transaction ends), so they cannot deadlock.
    rows = sorted(
        (
            {
                "backfill_id": backfill_id,
                "partition_digest": codec.digest(key),
                "partition_key": key,
                "run_id": run_id,
                "created_at": now,
            }
            for key in keys
        ),
        key=lambda row: str(row["partition_digest"]),
    )
    inserted: set[str] = set()
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start : start + _ROWS_PER_STATEMENT]
        inserted |= dialect.insert_backfill_partition_runs(conn, chunk)
    return inserted


def _partition_runs(conn: Connection, backfill_ids: list[str]) -> dict[str, dict[str, str]]:
    """The claimed partitions of each backfill, partition key → run id (`codec` orders them)."""
    found: dict[str, dict[str, str]] = {backfill_id: {} for backfill_id in backfill_ids}
    unique = list(found)
    for start in range(0, len(unique), _ROWS_PER_STATEMENT):
        stmt = sa.select(_R.backfill_id, _R.partition_key, _R.run_id).where(
            _R.backfill_id.in_(unique[start : start + _ROWS_PER_STATEMENT])
        )
        for row in conn.execute(stmt):
            found[row.backfill_id][row.partition_key] = row.run_id
    return found
