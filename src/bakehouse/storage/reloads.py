"""Reads and writes the reload history of code locations (`location_reloads`, the newest
`RELOADS_KEPT` per location)."""

from __future__ import annotations

from functools import partial

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.serdes import decode, encode, replace
from bakehouse.storage.corrupt import read_or_mark, skip_corrupt
from bakehouse.storage.reload_records import ReloadRecord
from bakehouse.storage.schema import location_reloads

RELOADS_KEPT = 500
"""Reloads kept per location; older ones are deleted as new ones are stored."""

_R = location_reloads.c


def _from_row(storage_id: int, body: str) -> ReloadRecord:
    found = decode(body, ReloadRecord, what=f"location reload {storage_id}")
    return replace(found, storage_id=storage_id)


def insert(conn: Connection, record: ReloadRecord) -> ReloadRecord:
    """Store `record` and drop the location's reloads beyond the newest `RELOADS_KEPT`."""
    result = conn.execute(
        sa.insert(location_reloads).values(
            location_name=record.location,
            started_at=record.started_at,
            loaded=record.loaded,
            body=encode(replace(record, storage_id=None)),
        )
    )
    inserted = result.inserted_primary_key
    assert inserted is not None  # an INSERT of one row always has one
    oldest_kept = (
        sa.select(_R.id)
        .where(_R.location_name == record.location)
        .order_by(_R.id.desc())
        .offset(RELOADS_KEPT - 1)
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(
        sa.delete(location_reloads).where(_R.location_name == record.location, _R.id < oldest_kept)
    )
    return replace(record, storage_id=int(inserted[0]))


def select(
    conn: Connection, location: str, *, limit: int | None, before_id: int | None = None
) -> list[ReloadRecord]:
    """The location's reloads, newest first (page with `before_id`)."""
    stmt = sa.select(_R.id, _R.body).where(_R.location_name == location).order_by(_R.id.desc())
    if before_id is not None:
        stmt = stmt.where(_R.id < before_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return skip_corrupt(
        read_or_mark("location_reloads", row.id, partial(_from_row, row.id, row.body))
        for row in conn.execute(stmt)
    )
