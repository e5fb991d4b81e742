"""Finds the rows of instance storage that cannot be read back as records, and moves them aside
into `quarantined_rows`, whole, so that nothing is lost.

Each table with a JSON body is read in pages of its primary key; every row goes through the same
decoding the queries use (`corrupt.read_or_mark`), so what the doctor calls corrupt is exactly what
pages and lists skip and mark.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.storage import assets, codec
from bakehouse.storage.corrupt import read_or_mark
from bakehouse.storage.records import CorruptRecord
from bakehouse.storage.schema import (
    asset_keys,
    backfills,
    event_logs,
    instigators,
    quarantined_rows,
    run_assets,
    run_tags,
    runs,
    ticks,
)

_PAGE = 1000


@dataclass(frozen=True)
class _Source:
    table: sa.Table
    key: sa.Column[Any]
    decode: Callable[[Any], object]


_SOURCES: tuple[_Source, ...] = (
    _Source(runs, runs.c.run_id, lambda row: codec.run_from_body(row.body)),
    _Source(event_logs, event_logs.c.id, lambda row: codec.event_from_row(row.id, row.body)),
    _Source(backfills, backfills.c.backfill_id, lambda r: codec.backfill_from_body(r.body, {})),
    _Source(ticks, ticks.c.id, lambda row: codec.tick_from_row(row.id, row.body)),
    _Source(instigators, instigators.c.origin, lambda r: codec.instigator_from_body(r.body)),
    _Source(asset_keys, asset_keys.c.asset_key, codec.materialization_from_row),
)
TABLES = tuple(source.table.name for source in _SOURCES)


def _rows(conn: Connection, source: _Source) -> Iterator[Any]:
    # Pages by primary key: a long event log is never held in memory at once.
    last: Any = None
    while True:
        stmt = sa.select(source.table).order_by(source.key).limit(_PAGE)
        if last is not None:
            stmt = stmt.where(source.key > last)
        page = list(conn.execute(stmt))
        yield from page
        if len(page) < _PAGE:
            return
        last = getattr(page[-1], source.key.name)


def _check(source: _Source, row: Any) -> CorruptRecord | None:
    key = getattr(row, source.key.name)
    marked = read_or_mark(source.table.name, key, lambda: source.decode(row))
    return marked if isinstance(marked, CorruptRecord) else None


def find_corrupt(conn: Connection) -> list[CorruptRecord]:
    """Every row that cannot be read, table by table (runs, events, backfills, ticks, schedule
    and sensor states, the asset index), each in key order."""
    found: list[CorruptRecord] = []
    for source in _SOURCES:
        found.extend(m for row in _rows(conn, source) if (m := _check(source, row)) is not None)
    return found


def move_aside(conn: Connection, record: CorruptRecord) -> bool:
    """Move the row `record` names into `quarantined_rows`, if it is still there and still
    cannot be read; True if it moved. A run's tags go with it; an asset index row is rebuilt
    from the materializations left in the log."""
    source = next(s for s in _SOURCES if s.table.name == record.table)
    key: Any = int(record.key) if isinstance(source.key.type, sa.Integer) else record.key
    row = conn.execute(sa.select(source.table).where(source.key == key)).first()
    if row is None or (now := _check(source, row)) is None:
        return False
    conn.execute(
        sa.insert(quarantined_rows).values(
            table_name=record.table,
            row_key=record.key,
            reason=now.reason,
            row=json.dumps({name: _plain(value) for name, value in row._mapping.items()}),
            moved_at=time.time(),
        )
    )
    conn.execute(sa.delete(source.table).where(source.key == key))
    if source.table is runs:
        conn.execute(sa.delete(run_tags).where(run_tags.c.run_id == key))
        conn.execute(sa.delete(run_assets).where(run_assets.c.run_id == key))
    elif source.table is asset_keys:
        assets.reindex(conn, [key])
    return True


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)
