"""Keeps the index of each asset's latest materialization and reads materialization history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.storage import codec, dialect
from bakehouse.storage.corrupt import read_or_mark, skip_corrupt
from bakehouse.storage.records import AssetMaterializationRecord, EventRecord, EventType
from bakehouse.storage.schema import asset_keys, event_logs

# Stay far below every backend's limit on bound parameters in one statement.
_KEYS_PER_QUERY = 500

_MATERIALIZATION = EventType.ASSET_MATERIALIZATION.value


def index_materialization(conn: Connection, event: EventRecord) -> None:
    """Make a stored materialization event the asset's latest, unless a newer one is indexed."""
    dialect.upsert_asset_index(conn, codec.materialization_to_row(event))


def reindex(conn: Connection, keys: Iterable[str]) -> None:
    """Rebuild the index rows of `keys` from the event log, e.g. after events were deleted."""
    for key in keys:
        conn.execute(sa.delete(asset_keys).where(asset_keys.c.asset_key == key))
        history = select_history(conn, key, partition_key=None, limit=1)
        if history:
            index_materialization(conn, history[0])


def select_latest(
    conn: Connection, keys: Sequence[str] | None
) -> dict[str, AssetMaterializationRecord]:
    """The latest materialization of each of `keys` (of every indexed asset if None)."""
    stmt = sa.select(asset_keys)
    if keys is None:
        rows = list(conn.execute(stmt))
    else:
        unique = list(dict.fromkeys(keys))
        rows = []
        for start in range(0, len(unique), _KEYS_PER_QUERY):
            chunk = unique[start : start + _KEYS_PER_QUERY]
            rows.extend(conn.execute(stmt.where(asset_keys.c.asset_key.in_(chunk))))
    records = (
        read_or_mark("asset_keys", row.asset_key, partial(codec.materialization_from_row, row))
        for row in rows
    )
    return {record.asset_key: record for record in skip_corrupt(records)}


def select_history(
    conn: Connection, key: str, *, partition_key: str | None, limit: int | None
) -> list[EventRecord]:
    """The asset's materialization events (of one partition, if given), newest first."""
    stmt = (
        sa.select(event_logs.c.id, event_logs.c.body)
        .where(event_logs.c.asset_key == key, event_logs.c.event_type == _MATERIALIZATION)
        .order_by(event_logs.c.id.desc())
    )
    if partition_key is not None:
        # The (asset_key, event_type, id) index walks the asset's materializations newest
        # first and this filters them: a scan of the asset's history, stopped at `limit`.
        stmt = stmt.where(event_logs.c.partition_key == partition_key)
    if limit is not None:
        stmt = stmt.limit(limit)
    return skip_corrupt(
        read_or_mark("event_logs", row.id, partial(codec.event_from_row, row.id, row.body))
        for row in conn.execute(stmt)
    )
