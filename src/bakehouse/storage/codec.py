"""Converts records to table rows and back: query columns plus the whole record as a JSON body.

Bodies are the records as `bakehouse.serdes` writes them. Reading trusts only the body (the
columns are copies for queries) and validates it, since a row may have been written by another
version of bakehouse: unknown keys are ignored, missing ones take their defaults, and a body that
is not a record raises StorageError naming the record and row.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from bakehouse.errors import DecodeError, StorageError
from bakehouse.serdes import Record, decode, encode, replace
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
    WorkerRecord,
)

T = TypeVar("T")


def dumps(value: Any) -> str:
    """Compact JSON text for a body or metadata column."""
    return encode(value)


def loads_object(text: str, what: str) -> dict[str, Any]:
    """Parse a JSON object stored in a column; raises StorageError if it is not one."""
    return _decode(text, dict[str, Any], what)


def _decode(text: str, type_: type[T], what: str) -> T:
    """The `type_` stored as `text`; any way it is not one is a StorageError naming `what`."""
    try:
        return decode(text, type_, what=what)
    except DecodeError as exc:
        raise StorageError(str(exc)) from None


# A run selecting more keys (assets and checks) than this keeps them in `run_selections`, once
# per distinct selection, and its body leaves them out; fewer are cheaper inline than a lookup.
INLINE_SELECTION_KEYS = 16


class Selection(Record, frozen=True, kw_only=True):
    """The keys of a run selection as `run_selections` keeps them (the row's ``body``)."""

    asset_selection: tuple[str, ...] = ()
    check_selection: tuple[str, ...] = ()


def by_reference(run: RunRecord) -> bool:
    """Whether `run`'s selection is stored in `run_selections` rather than in its body."""
    return len(run.asset_selection) + len(run.check_selection) > INLINE_SELECTION_KEYS


def selection_digest(run: RunRecord) -> str:
    """The digest of `run`'s asset and check selections (in order): equal selections, one row."""
    text = dumps([list(run.asset_selection), list(run.check_selection)])
    return hashlib.sha256(text.encode()).hexdigest()


def selection_row(run: RunRecord, digest_: str, created_at: float) -> dict[str, Any]:
    """The `run_selections` row that holds `run`'s selection under `digest_`."""
    selection = Selection(asset_selection=run.asset_selection, check_selection=run.check_selection)
    return {
        "selection_digest": digest_,
        "asset_count": len(run.asset_selection),
        "body": body_text(selection),
        "created_at": created_at,
    }


def selection_from_body(body: str, digest_: str) -> Selection:
    """The selection stored as `body` under `digest_`."""
    return _decode(body, Selection, f"run selection {digest_}")


def run_to_row(run: RunRecord, selection_digest: str | None = None) -> dict[str, Any]:
    """The `runs` row of `run`: with `selection_digest` its body leaves the selection out (the
    caller keeps it in `run_selections` under that digest)."""
    # Callers across a process boundary may hand us the plain string; the enum checks it.
    status = RunStatus(run.status).value
    body = run if selection_digest is None else replace(run, asset_selection=(), check_selection=())
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
        "selection_digest": selection_digest,
    }


def run_from_body(body: str, selection: Selection | None = None) -> RunRecord:
    """The run stored as `body`, with `selection` (from `run_selections`) when its row refers to
    one; a body from before 0014, or of a small selection, holds its keys itself."""
    run = _run_from_body(body)
    if selection is None:
        return run
    return replace(
        run, asset_selection=selection.asset_selection, check_selection=selection.check_selection
    )


def _run_from_body(body: str) -> RunRecord:
    try:
        return decode(body, RunRecord, what="run record")
    except DecodeError:
        # Bodies written before records were typed on the way in may hold tags that are not
        # text: read them as their str(), which is what the run_tags index holds for them.
        data = loads_object(body, "run record")
        tags = data.get("tags")
        if isinstance(tags, dict):
            data["tags"] = {key: str(value) for key, value in tags.items()}
        return _decode(dumps(data), RunRecord, "run record")


def event_to_row(event: EventRecord) -> dict[str, Any]:
    """The `event_logs` row of `event`, without its id (the database assigns it)."""
    event_type = EventType(event.event_type).value
    return {
        "run_id": event.run_id,
        "event_type": event_type,
        "timestamp": event.timestamp,
        "step_key": event.step_key,
        "asset_key": event.asset_key,
        "partition_key": event.partition_key,
        "level": event.level,
        "message": event.message,
        "body": body_text(replace(event, storage_id=None)),
    }


def body_text(body: Any) -> str:
    """`dumps`, raising StorageError when a record holds something JSON cannot express."""
    try:
        return dumps(body)
    except (TypeError, ValueError, OverflowError) as exc:
        raise StorageError(f"record is not JSON-serializable: {exc}") from exc


def event_from_row(storage_id: int, body: str) -> EventRecord:
    """The event stored as `body` under `storage_id`."""
    event = _decode(body, EventRecord, f"event record {storage_id}")
    return replace(event, storage_id=storage_id)


def materialization_to_row(event: EventRecord) -> dict[str, Any]:
    """The `asset_keys` index row that a stored materialization event makes."""
    return {
        "asset_key": event.asset_key,
        "last_materialization_storage_id": event.storage_id,
        "last_run_id": event.run_id,
        "last_materialization_timestamp": event.timestamp,
        "partition_key": event.partition_key,
        "metadata": body_text(event.data.get("metadata") or {}),
        "code_version": _code_version(event.data),
    }


def _code_version(data: dict[str, Any]) -> str | None:
    found = data.get("code_version")
    return found if isinstance(found, str) else None


def materialization_from_row(row: Any) -> AssetMaterializationRecord:
    """The record of an `asset_keys` row."""
    return AssetMaterializationRecord(
        asset_key=row.asset_key,
        run_id=row.last_run_id,
        storage_id=row.last_materialization_storage_id,
        timestamp=row.last_materialization_timestamp,
        partition_key=row.partition_key,
        metadata=loads_object(row.metadata, f"metadata of asset '{row.asset_key}'"),
        code_version=row.code_version,
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
        code_version=_code_version(event.data),
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
    # json's spelling (ASCII, "\\u" escapes), which the stored digests were computed with.
    return hashlib.sha256(json.dumps(list(parts), separators=(",", ":")).encode()).hexdigest()


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


def run_asset_rows(run: RunRecord) -> list[dict[str, Any]]:
    """The `run_assets` rows of `run`, one per asset key it selects; none when its selection
    is kept by reference (`selection_asset_rows` index those keys, once per selection)."""
    if by_reference(run):
        return []
    return [
        {
            "run_id": run.run_id,
            "asset_key": key,
            "asset_digest": digest(key),
            "created_at": run.created_at,
        }
        for key in dict.fromkeys(str(k) for k in run.asset_selection)
    ]


def selection_asset_rows(run: RunRecord, digest_: str) -> list[dict[str, Any]]:
    """The `run_selection_assets` rows of `run`'s selection kept under `digest_`, one per
    asset key."""
    return [
        {"asset_digest": digest(key), "selection_digest": digest_, "asset_key": key}
        for key in dict.fromkeys(str(k) for k in run.asset_selection)
    ]


def instigator_to_row(state: InstigatorState) -> dict[str, Any]:
    """The `instigators` row of `state`."""
    return {
        "origin": state.origin,
        "type": InstigatorType(state.type).value,
        "status": InstigatorStatus(state.status).value,
        "updated_at": state.updated_at,
        "body": body_text(state),
    }


def instigator_from_body(body: str) -> InstigatorState:
    """The schedule or sensor state stored as `body`."""
    return _decode(body, InstigatorState, "instigator state")


def tick_to_row(tick: TickRecord) -> dict[str, Any]:
    """The `ticks` row of `tick`, without its id."""
    return {
        "origin": tick.origin,
        "type": InstigatorType(tick.type).value,
        "tick_at": tick.tick_at,
        "status": TickStatus(tick.status).value,
        "created_at": tick.created_at,
        "updated_at": tick.updated_at,
        "body": body_text(replace(tick, tick_id=None)),
    }


def tick_from_row(tick_id: int, body: str) -> TickRecord:
    """The tick stored as `body` under `tick_id`."""
    tick = _decode(body, TickRecord, f"tick record {tick_id}")
    return replace(tick, tick_id=tick_id)


def backfill_to_row(backfill: BackfillRecord) -> dict[str, Any]:
    """The `backfills` row of `backfill` (its partition_runs are rows of their own table)."""
    return {
        "backfill_id": backfill.backfill_id,
        "status": BackfillStatus(backfill.status).value,
        "created_at": backfill.created_at,
        "updated_at": backfill.updated_at,
        # partition_runs has a table of its own (backfill_partition_runs), not a place here.
        "body": body_text(replace(backfill, partition_runs={})),
    }


def backfill_from_body(body: str, partition_runs: dict[str, str]) -> BackfillRecord:
    """The backfill stored as `body`, with the runs its partitions got, in partition order."""
    backfill = _decode(body, BackfillRecord, "backfill record")
    keys = backfill.partition_keys
    ordered = {key: partition_runs[key] for key in keys if key in partition_runs}
    ordered.update(partition_runs)  # keys outside the backfill's list (changed since) last
    return replace(backfill, partition_runs=ordered)


def worker_from_body(body: str) -> WorkerRecord:
    """The `WorkerRecord` a `workers` row holds."""
    return _decode(body, WorkerRecord, "worker record")
