"""Converts records to table rows and back: query columns plus the whole record as a JSON body.

Reading trusts only the body (the columns are copies for queries) and validates it, since a row
may have been written by another version of bakehouse: unknown keys are ignored, a body that is
not a record raises StorageError.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from typing import Any

from bakehouse.errors import StorageError
from bakehouse.storage.records import (
    AssetMaterializationRecord,
    BackfillRecord,
    BackfillStatus,
    EventRecord,
    EventType,
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    PartitionStatus,
    RunRecord,
    RunStatus,
    TickRecord,
    TickStatus,
)

_RUN_FIELDS = frozenset(f.name for f in fields(RunRecord))
_EVENT_FIELDS = frozenset(f.name for f in fields(EventRecord)) - {"storage_id"}
_INSTIGATOR_FIELDS = frozenset(f.name for f in fields(InstigatorState))
_TICK_FIELDS = frozenset(f.name for f in fields(TickRecord)) - {"tick_id"}
# partition_runs has a table of its own (backfill_partition_runs), not a place in the body.
_BACKFILL_FIELDS = frozenset(f.name for f in fields(BackfillRecord)) - {"partition_runs"}


def dumps(value: Any) -> str:
    """Compact JSON text for a body or metadata column."""
    return json.dumps(value, separators=(",", ":"))


def loads_object(text: str, what: str) -> dict[str, Any]:
    """Parse a JSON object stored in a column; raises StorageError if it is not one."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"corrupt {what}: {exc}") from exc
    if not isinstance(value, dict):
        raise StorageError(f"corrupt {what}: expected a JSON object, got {type(value).__name__}")
    return value


def run_to_row(run: RunRecord) -> dict[str, Any]:
    """The `runs` row of `run`."""
    body = {name: getattr(run, name) for name in _RUN_FIELDS}
    # Callers across a process boundary may hand us the plain string; the enum checks it.
    status = RunStatus(run.status).value
    body["status"] = status
    body["asset_selection"] = list(run.asset_selection)
    return {
        "run_id": run.run_id,
        "status": status,
        "job_name": run.job_name,
        "location_name": run.location_name,
        "partition_key": run.partition_key,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "updated_at": run.updated_at,
        "body": body_text(body),
    }


def run_from_body(body: str) -> RunRecord:
    """The run stored as `body`."""
    data = loads_object(body, "run record")
    kwargs = {name: value for name, value in data.items() if name in _RUN_FIELDS}
    try:
        kwargs["status"] = RunStatus(kwargs["status"])
        kwargs["asset_selection"] = tuple(kwargs.get("asset_selection") or ())
        return RunRecord(**kwargs)
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"corrupt run record: {exc!r}") from exc


def event_to_row(event: EventRecord) -> dict[str, Any]:
    """The `event_logs` row of `event`, without its id (the database assigns it)."""
    body = {name: getattr(event, name) for name in _EVENT_FIELDS}
    event_type = EventType(event.event_type).value
    body["event_type"] = event_type
    return {
        "run_id": event.run_id,
        "event_type": event_type,
        "timestamp": event.timestamp,
        "step_key": event.step_key,
        "asset_key": event.asset_key,
        "partition_key": event.partition_key,
        "level": event.level,
        "message": event.message,
        "body": body_text(body),
    }


def body_text(body: dict[str, Any]) -> str:
    """`dumps`, raising StorageError when a record holds something JSON cannot express."""
    try:
        return dumps(body)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"record is not JSON-serializable: {exc}") from exc


def event_from_row(storage_id: int, body: str) -> EventRecord:
    """The event stored as `body` under `storage_id`."""
    data = loads_object(body, "event record")
    kwargs = {name: value for name, value in data.items() if name in _EVENT_FIELDS}
    try:
        kwargs["event_type"] = EventType(kwargs["event_type"])
        return EventRecord(**kwargs, storage_id=storage_id)
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"corrupt event record {storage_id}: {exc!r}") from exc


def materialization_to_row(event: EventRecord) -> dict[str, Any]:
    """The `asset_keys` index row that a stored materialization event makes."""
    return {
        "asset_key": event.asset_key,
        "last_materialization_storage_id": event.storage_id,
        "last_run_id": event.run_id,
        "last_materialization_timestamp": event.timestamp,
        "partition_key": event.partition_key,
        "metadata": body_text(event.data.get("metadata") or {}),
    }


def materialization_from_row(row: Any) -> AssetMaterializationRecord:
    """The record of an `asset_keys` row."""
    return AssetMaterializationRecord(
        asset_key=row.asset_key,
        run_id=row.last_run_id,
        storage_id=row.last_materialization_storage_id,
        timestamp=row.last_materialization_timestamp,
        partition_key=row.partition_key,
        metadata=loads_object(row.metadata, f"metadata of asset '{row.asset_key}'"),
    )


def materialization_from_event(event: EventRecord) -> AssetMaterializationRecord:
    """The materialization record of a stored ASSET_MATERIALIZATION event."""
    metadata = event.data.get("metadata") or {}
    if event.asset_key is None or event.storage_id is None or not isinstance(metadata, dict):
        raise StorageError(f"corrupt materialization event {event.storage_id}")
    return AssetMaterializationRecord(
        asset_key=event.asset_key,
        run_id=event.run_id,
        storage_id=event.storage_id,
        timestamp=event.timestamp,
        partition_key=event.partition_key,
        metadata=metadata,
    )


def asset_partition_row(event: EventRecord, status: PartitionStatus) -> dict[str, Any]:
    """The `asset_partitions` row that stored `event` (planned or materialized) makes."""
    assert event.asset_key is not None
    assert event.partition_key is not None
    materialized = status is PartitionStatus.MATERIALIZED
    return {
        "asset_digest": digest(event.asset_key),
        "partition_digest": digest(event.partition_key),
        "asset_key": event.asset_key,
        "partition_key": event.partition_key,
        "status": status.value,
        "run_id": event.run_id,
        "step_key": event.step_key,
        "storage_id": event.storage_id,
        "timestamp": event.timestamp,
        "materialization_storage_id": event.storage_id if materialized else None,
    }


def digest(*parts: str) -> str:
    """SHA-256 (hex) of a sequence of strings: the stand-in for user text in keys and indexes.

    Migrations 0002 and 0003 compute the same for existing rows; changing this needs a migration.
    """
    return hashlib.sha256(dumps(list(parts)).encode()).hexdigest()


def run_tag_rows(run: RunRecord) -> list[dict[str, Any]]:
    """The `run_tags` rows of `run`, one per tag."""
    # Tags are text; one that is not (the body keeps whatever it was given) is indexed as str().
    pairs = dict.fromkeys((str(key), str(value)) for key, value in run.tags.items())
    return [
        {
            "run_id": run.run_id,
            "key": key,
            "value": value,
            "tag_digest": digest(key, value),
            "created_at": run.created_at,
        }
        for key, value in pairs
    ]


def instigator_to_row(state: InstigatorState) -> dict[str, Any]:
    """The `instigators` row of `state`."""
    body = {name: getattr(state, name) for name in _INSTIGATOR_FIELDS}
    body["type"] = InstigatorType(state.type).value
    body["status"] = InstigatorStatus(state.status).value
    return {
        "origin": state.origin,
        "type": body["type"],
        "status": body["status"],
        "updated_at": state.updated_at,
        "body": body_text(body),
    }


def instigator_from_body(body: str) -> InstigatorState:
    """The schedule or sensor state stored as `body`."""
    data = loads_object(body, "instigator state")
    kwargs = {name: value for name, value in data.items() if name in _INSTIGATOR_FIELDS}
    try:
        kwargs["type"] = InstigatorType(kwargs["type"])
        kwargs["status"] = InstigatorStatus(kwargs["status"])
        return InstigatorState(**kwargs)
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"corrupt instigator state: {exc!r}") from exc


def tick_to_row(tick: TickRecord) -> dict[str, Any]:
    """The `ticks` row of `tick`, without its id."""
    body = {name: getattr(tick, name) for name in _TICK_FIELDS}
    body["type"] = InstigatorType(tick.type).value
    body["status"] = TickStatus(tick.status).value
    body["run_ids"] = list(tick.run_ids)
    body["run_keys"] = list(tick.run_keys)
    return {
        "origin": tick.origin,
        "type": body["type"],
        "tick_at": tick.tick_at,
        "status": body["status"],
        "created_at": tick.created_at,
        "updated_at": tick.updated_at,
        "body": body_text(body),
    }


def tick_from_row(tick_id: int, body: str) -> TickRecord:
    """The tick stored as `body` under `tick_id`."""
    data = loads_object(body, "tick record")
    kwargs = {name: value for name, value in data.items() if name in _TICK_FIELDS}
    try:
        kwargs["type"] = InstigatorType(kwargs["type"])
        kwargs["status"] = TickStatus(kwargs["status"])
        kwargs["run_ids"] = tuple(kwargs.get("run_ids") or ())
        kwargs["run_keys"] = tuple(kwargs.get("run_keys") or ())
        return TickRecord(**kwargs, tick_id=tick_id)
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"corrupt tick record {tick_id}: {exc!r}") from exc


def backfill_to_row(backfill: BackfillRecord) -> dict[str, Any]:
    """The `backfills` row of `backfill` (its partition_runs are rows of their own table)."""
    body = {name: getattr(backfill, name) for name in _BACKFILL_FIELDS}
    body["status"] = BackfillStatus(backfill.status).value
    body["partition_keys"] = list(backfill.partition_keys)
    body["asset_selection"] = list(backfill.asset_selection)
    body["unpartitioned_before"] = list(backfill.unpartitioned_before)
    body["unpartitioned_after"] = list(backfill.unpartitioned_after)
    return {
        "backfill_id": backfill.backfill_id,
        "status": body["status"],
        "created_at": backfill.created_at,
        "updated_at": backfill.updated_at,
        "body": body_text(body),
    }


def backfill_from_body(body: str, partition_runs: dict[str, str]) -> BackfillRecord:
    """The backfill stored as `body`, with the runs its partitions got, in partition order."""
    data = loads_object(body, "backfill record")
    kwargs = {name: value for name, value in data.items() if name in _BACKFILL_FIELDS}
    try:
        kwargs["status"] = BackfillStatus(kwargs["status"])
        kwargs["partition_keys"] = keys = tuple(kwargs.get("partition_keys") or ())
        kwargs["asset_selection"] = tuple(kwargs.get("asset_selection") or ())
        for name in ("unpartitioned_before", "unpartitioned_after"):
            kwargs[name] = tuple(kwargs.get(name) or ())
        ordered = {key: partition_runs[key] for key in keys if key in partition_runs}
        ordered.update(partition_runs)  # keys outside the backfill's list (changed since) last
        return BackfillRecord(**kwargs, partition_runs=ordered)
    except (KeyError, TypeError, ValueError) as exc:
        raise StorageError(f"corrupt backfill record: {exc!r}") from exc
