"""Keeps the status of each partition of each asset from the events that change it, and reads it.

Writes happen in the transaction of `event_log.store_event`: ASSET_MATERIALIZATION_PLANNED marks
an (asset, partition) IN_PROGRESS, ASSET_MATERIALIZATION marks it MATERIALIZED, STEP_FAILURE
marks FAILED what its step planned in that run and did not materialize. The latest attempt wins:
a partition materialized before and failed since is FAILED (as Dagster shows it); the row still
remembers its last materialization.

A marker stays IN_PROGRESS in the table when its run ends without saying more (a killed worker
that run monitoring marked failed, a step skipped behind a failure). Reads resolve it against
the run's status instead of the run's end rewriting the rows: a join on the run's primary key is
cheap, and it stays right however the run ended (an event, `update_run`, or a deleted run),
where a rewrite would have to catch every one of those paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.storage import assets, codec, dialect
from bakehouse.storage.corrupt import read_or_mark, read_or_raise, skip_corrupt
from bakehouse.storage.records import (
    AssetMaterializationRecord,
    EventRecord,
    EventType,
    PartitionStatus,
    RunStatus,
)
from bakehouse.storage.schema import asset_partitions, event_logs, runs

# Stay far below every backend's limit on bound parameters in one statement.
_KEYS_PER_QUERY = 500

_MATERIALIZED = PartitionStatus.MATERIALIZED.value
_FAILED = PartitionStatus.FAILED.value
_IN_PROGRESS = PartitionStatus.IN_PROGRESS.value
_UNFINISHED_RUNS = [s.value for s in RunStatus if not s.is_finished]
_FAILED_RUNS = [RunStatus.FAILURE.value, RunStatus.CANCELED.value]

_P = asset_partitions.c

# The status a reader sees. A marker whose run is still going is IN_PROGRESS; one whose run
# failed or was canceled is FAILED; one whose run succeeded without materializing it (or whose
# run is gone) falls back to what the partition had: MATERIALIZED if it ever was, else no status.
_RESOLVED_STATUS = sa.case(
    (_P.status != _IN_PROGRESS, _P.status),
    (runs.c.status.in_(_UNFINISHED_RUNS), _IN_PROGRESS),
    (runs.c.status.in_(_FAILED_RUNS), _FAILED),
    (_P.materialization_storage_id.is_not(None), _MATERIALIZED),
    else_=sa.null(),
)
_WITH_RUNS = asset_partitions.outerjoin(runs, runs.c.run_id == _P.run_id)

_FAIL_PLANNED = (
    sa.update(asset_partitions)
    .where(
        _P.run_id == sa.bindparam("run_id_"),
        _P.step_key == sa.bindparam("step_key_"),
        _P.status == _IN_PROGRESS,
        _P.storage_id < sa.bindparam("storage_id_"),
    )
    .values(
        status=_FAILED,
        storage_id=sa.bindparam("storage_id_"),
        timestamp=sa.bindparam("timestamp_"),
    )
)


# -- writing -------------------------------------------------------------------------------------


def record_event(conn: Connection, event: EventRecord) -> None:
    """Apply a stored event's consequence to the partition status, if it has one."""
    if event.event_type is EventType.ASSET_MATERIALIZATION:
        if event.partition_key is not None:
            row = codec.asset_partition_row(event, PartitionStatus.MATERIALIZED)
            dialect.upsert_asset_partition(conn, row)
    elif event.event_type is EventType.ASSET_MATERIALIZATION_PLANNED:
        if event.partition_key is not None:
            row = codec.asset_partition_row(event, PartitionStatus.IN_PROGRESS)
            dialect.upsert_asset_partition(conn, row)
    elif event.event_type is EventType.STEP_FAILURE and event.step_key is not None:
        # What the step planned in this run and has not materialized (a multi-asset step may
        # have materialized some of its assets before failing). A later run's marker has another
        # run_id and is left alone.
        conn.execute(
            _FAIL_PLANNED,
            {
                "run_id_": event.run_id,
                "step_key_": event.step_key,
                "storage_id_": event.storage_id,
                "timestamp_": event.timestamp,
            },
        )


def partitions_touched_by_run(conn: Connection, run_id: str) -> list[tuple[str, str]]:
    """The (asset, partition) pairs whose status or last materialization `run_id` set."""
    own_events = sa.select(event_logs.c.id).where(event_logs.c.run_id == run_id)
    stmt = sa.select(_P.asset_key, _P.partition_key).where(
        sa.or_(_P.run_id == run_id, _P.materialization_storage_id.in_(own_events))
    )
    return [(row.asset_key, row.partition_key) for row in conn.execute(stmt)]


def rederive(conn: Connection, pairs: Sequence[tuple[str, str]]) -> None:
    """Rebuild the rows of `pairs` from the materializations left in the event log.

    Used after a run's events are deleted. Only materializations are replayed: a pair whose
    newest remaining attempt failed or is in progress reads as its newest materialization (or
    as missing), which is what is left to know without replaying every run's steps.
    """
    for asset_key, partition_key in pairs:
        conn.execute(
            sa.delete(asset_partitions).where(
                _P.asset_digest == codec.digest(asset_key),
                _P.partition_digest == codec.digest(partition_key),
            )
        )
        latest = assets.select_history(conn, asset_key, partition_key=partition_key, limit=1)
        if latest:
            record_event(conn, latest[0])


# -- reading -------------------------------------------------------------------------------------


def select_statuses(conn: Connection, asset_key: str) -> dict[str, PartitionStatus]:
    """The status of each partition of `asset_key` that has one."""
    stmt = (
        sa.select(_P.partition_key, _RESOLVED_STATUS.label("resolved"))
        .select_from(_WITH_RUNS)
        .where(*_of_asset(asset_key))
    )
    return {
        row.partition_key: PartitionStatus(row.resolved)
        for row in conn.execute(stmt)
        if row.resolved is not None
    }


def count_statuses(conn: Connection, asset_key: str) -> dict[PartitionStatus, int]:
    """How many partitions of `asset_key` have each status (statuses with none are absent)."""
    resolved = (
        sa.select(_RESOLVED_STATUS.label("resolved"))
        .select_from(_WITH_RUNS)
        .where(*_of_asset(asset_key))
        .subquery()
    )
    stmt = (
        sa.select(resolved.c.resolved, sa.func.count().label("n"))
        .where(resolved.c.resolved.is_not(None))
        .group_by(resolved.c.resolved)
    )
    return {PartitionStatus(row.resolved): int(row.n) for row in conn.execute(stmt)}


def count_statuses_of_many(
    conn: Connection, asset_keys: Sequence[str] | None
) -> dict[str, dict[PartitionStatus, int]]:
    """For each of `asset_keys` (every asset with a partition status if None) that has one,
    how many of its partitions have each status: one grouped query per chunk of keys."""
    resolved = sa.select(_P.asset_key, _RESOLVED_STATUS.label("resolved")).select_from(_WITH_RUNS)
    chunks: list[Any] = []
    if asset_keys is None:
        chunks.append(resolved)
    else:
        unique = list(dict.fromkeys(asset_keys))
        for start in range(0, len(unique), _KEYS_PER_QUERY):
            digests = [codec.digest(key) for key in unique[start : start + _KEYS_PER_QUERY]]
            chunks.append(resolved.where(_P.asset_digest.in_(digests)))
    wanted = None if asset_keys is None else set(asset_keys)
    counts: dict[str, dict[PartitionStatus, int]] = {}
    for chunk in chunks:
        sub = chunk.subquery()
        stmt = (
            sa.select(sub.c.asset_key, sub.c.resolved, sa.func.count().label("n"))
            .where(sub.c.resolved.is_not(None))
            .group_by(sub.c.asset_key, sub.c.resolved)
        )
        for row in conn.execute(stmt):
            # The digest found the rows; the text makes a collision harmless.
            if wanted is None or row.asset_key in wanted:
                counts.setdefault(row.asset_key, {})[PartitionStatus(row.resolved)] = int(row.n)
    return counts


def select_latest(
    conn: Connection, asset_key: str, partition_keys: Sequence[str] | None
) -> dict[str, AssetMaterializationRecord]:
    """The newest materialization of each partition of `asset_key` (of `partition_keys` only,
    if given) that was ever materialized."""
    stmt = (
        sa.select(event_logs.c.id, event_logs.c.body)
        .select_from(
            asset_partitions.join(event_logs, event_logs.c.id == _P.materialization_storage_id)
        )
        .where(*_of_asset(asset_key))
    )
    if partition_keys is None:
        rows: list[Any] = list(conn.execute(stmt))
    else:
        unique = list(dict.fromkeys(partition_keys))
        rows = []
        for start in range(0, len(unique), _KEYS_PER_QUERY):
            digests = [codec.digest(key) for key in unique[start : start + _KEYS_PER_QUERY]]
            rows.extend(conn.execute(stmt.where(_P.partition_digest.in_(digests))))
    records = skip_corrupt(
        read_or_mark("event_logs", row.id, partial(_materialization, row)) for row in rows
    )
    found = {r.partition_key: r for r in records if r.partition_key is not None}
    return found if partition_keys is None else {k: found[k] for k in partition_keys if k in found}


def _of_asset(asset_key: str) -> tuple[Any, ...]:
    # The digest finds the rows through the primary key; the text makes a collision harmless.
    return (_P.asset_digest == codec.digest(asset_key), _P.asset_key == asset_key)


def _event(row: Any) -> EventRecord:
    return read_or_raise("event_logs", row.id, partial(codec.event_from_row, row.id, row.body))


def _materialization(row: Any) -> AssetMaterializationRecord:
    return codec.materialization_from_event(codec.event_from_row(row.id, row.body))
