"""Appends events to the log, with the run status, asset index and partition status changes they
imply, and reads it.

An event and its consequences are written in one transaction, so no reader ever sees a
RUN_SUCCESS whose run is still STARTED, or a materialization missing from the asset index or
from its partition's status.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.errors import StorageError
from bakehouse.serdes import replace
from bakehouse.storage import assets, codec, dialect, partitions, runs
from bakehouse.storage.corrupt import read_or_mark, skip_corrupt
from bakehouse.storage.records import RUN_STATUS_BY_EVENT, CorruptRecord, EventRecord, EventType
from bakehouse.storage.schema import asset_keys, event_logs

# Stay far below every backend's limit on bound parameters in one statement.
_KEYS_PER_QUERY = 500

_NEEDS_ASSET_KEY = (EventType.ASSET_MATERIALIZATION, EventType.ASSET_MATERIALIZATION_PLANNED)
_CHANGES_PARTITION_STATUS = (
    EventType.ASSET_MATERIALIZATION,
    EventType.ASSET_MATERIALIZATION_PLANNED,
    EventType.STEP_FAILURE,
)


def store_event(conn: Connection, event: EventRecord) -> EventRecord:
    """Append `event` and apply its consequences; returns it with its storage_id."""
    return store_events(conn, [event])[0]


def store_events(conn: Connection, events: Sequence[EventRecord]) -> list[EventRecord]:
    """Append `events` in order and apply their consequences; returns them with storage_ids.

    One lock per run and one insert for all the rows (a step's events come together), then
    each event's consequences in log order, all in the caller's transaction.
    """
    types = [EventType(event.event_type) for event in events]
    for event, event_type in zip(events, types, strict=True):
        if event_type in _NEEDS_ASSET_KEY and not event.asset_key:
            raise StorageError(f"{event_type.value} event of run '{event.run_id}' has no asset_key")
    # Each run's log lock (`dialect.lock_run_log`) is taken by the insert, first.
    ids = dialect.insert_events(
        conn,
        [codec.event_to_row(event) for event in events],
        lock_runs=sorted({event.run_id for event in events}),
    )
    stored = [
        replace(event, event_type=event_type, storage_id=storage_id)
        for event, event_type, storage_id in zip(events, types, ids, strict=True)
    ]
    for event in stored:
        event_type = event.event_type
        if event_type in RUN_STATUS_BY_EVENT:
            runs.apply_lifecycle_event(conn, event)
        elif event_type is EventType.ASSET_MATERIALIZATION:
            assets.index_materialization(conn, event)
        if event_type in _CHANGES_PARTITION_STATUS:
            partitions.record_event(conn, event)
    return stored


def select_events(
    conn: Connection,
    run_id: str,
    *,
    after_storage_id: int,
    limit: int | None,
    event_types: Sequence[EventType] | None,
) -> list[EventRecord | CorruptRecord]:
    """The run's events with a storage_id above `after_storage_id`, in log order; a row that
    cannot be read is a `CorruptRecord` in its place."""
    stmt = (
        sa.select(event_logs.c.id, event_logs.c.body)
        .where(event_logs.c.run_id == run_id, event_logs.c.id > after_storage_id)
        .order_by(event_logs.c.id)
    )
    if event_types is not None:
        stmt = stmt.where(event_logs.c.event_type.in_([EventType(t).value for t in event_types]))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [mark_event(row) for row in conn.execute(stmt)]


def mark_event(row: Any) -> EventRecord | CorruptRecord:
    """The event of an `event_logs` row (its id and body), or the marker of a corrupt one."""
    return read_or_mark("event_logs", row.id, partial(codec.event_from_row, row.id, row.body))


def select_asset_events(
    conn: Connection, asset_key: str, event_types: Sequence[EventType], *, limit: int
) -> list[EventRecord]:
    """The newest events of `event_types` about `asset_key`, newest first (across runs)."""
    stmt = (
        sa.select(event_logs.c.id, event_logs.c.body)
        .where(
            event_logs.c.asset_key == asset_key,
            event_logs.c.event_type.in_([EventType(t).value for t in event_types]),
        )
        .order_by(event_logs.c.id.desc())
        .limit(limit)
    )
    return skip_corrupt(mark_event(row) for row in conn.execute(stmt))


def select_asset_events_of_many(
    conn: Connection,
    asset_keys_: Sequence[str],
    event_types: Sequence[EventType],
    *,
    per_asset: int,
) -> dict[str, list[EventRecord]]:
    """The newest `per_asset` events of `event_types` about each of `asset_keys_`, newest first:
    one windowed query per chunk of keys instead of one query per asset."""
    found: dict[str, list[EventRecord]] = {}
    unique = list(dict.fromkeys(asset_keys_))
    for start in range(0, len(unique), _KEYS_PER_QUERY):
        ranked = (
            sa.select(
                event_logs.c.id,
                event_logs.c.body,
                event_logs.c.asset_key,
                sa.func.row_number()
                .over(partition_by=event_logs.c.asset_key, order_by=event_logs.c.id.desc())
                .label("newness"),
            )
            .where(
                event_logs.c.asset_key.in_(unique[start : start + _KEYS_PER_QUERY]),
                event_logs.c.event_type.in_([EventType(t).value for t in event_types]),
            )
            .subquery()
        )
        stmt = (
            sa.select(ranked.c.id, ranked.c.body, ranked.c.asset_key)
            .where(ranked.c.newness <= per_asset)
            .order_by(ranked.c.asset_key, ranked.c.id.desc())
        )
        for row in conn.execute(stmt):
            for event in skip_corrupt([mark_event(row)]):
                found.setdefault(row.asset_key, []).append(event)
    return found


def delete_events(conn: Connection, run_id: str) -> None:
    """Delete the run's events, and re-point the asset index and the partition status at what
    materializations remain."""
    indexed_by_run = conn.execute(
        sa.select(asset_keys.c.asset_key).where(asset_keys.c.last_run_id == run_id)
    ).scalars()
    keys = list(indexed_by_run)
    touched = partitions.partitions_touched_by_run(conn, run_id)
    conn.execute(sa.delete(event_logs).where(event_logs.c.run_id == run_id))
    assets.reindex(conn, keys)
    partitions.rederive(conn, touched)


def select_max_storage_id(conn: Connection) -> int:
    """The newest event's storage id, 0 if the log is empty."""
    found = conn.execute(sa.select(sa.func.max(event_logs.c.id))).scalar_one_or_none()
    return int(found or 0)
