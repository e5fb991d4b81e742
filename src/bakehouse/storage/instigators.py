"""Reads and writes what the daemon keeps about schedules and sensors: state, ticks, run keys.

The two guarantees the daemon builds on are constraints, not read-then-write checks, so they
hold between daemons and across a daemon killed half-way: a schedule tick (origin, cron time) is
stored once (`insert_tick` answers None to the second writer), and a run key of an origin names
one run (`claim_run_key` answers the first claimer's run id to every later one).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bakehouse.errors import StorageError
from bakehouse.serdes import replace
from bakehouse.storage import codec, dialect
from bakehouse.storage.corrupt import read_or_mark, read_or_raise, skip_corrupt
from bakehouse.storage.records import (
    CorruptRecord,
    InstigatorState,
    InstigatorType,
    TickRecord,
    TickStatus,
)
from bakehouse.storage.schema import instigators, run_keys, ticks

# -- state ---------------------------------------------------------------------------------------


def select_state(conn: Connection, origin: str, *, lock: bool = False) -> InstigatorState | None:
    """The state of the schedule or sensor `origin`, if one was ever stored; with `lock`, its
    row is locked until the (write) transaction ends (PostgreSQL ``FOR UPDATE``)."""
    stmt = sa.select(instigators.c.body).where(instigators.c.origin == origin)
    if lock:
        stmt = stmt.with_for_update()
    body = conn.execute(stmt).scalar_one_or_none()
    if body is None:
        return None
    return read_or_raise("instigators", origin, partial(codec.instigator_from_body, body))


def select_states(conn: Connection, kind: InstigatorType | None) -> list[InstigatorState]:
    """Every stored state (of one type if given), ordered by origin."""
    stmt = sa.select(instigators.c.origin, instigators.c.body).order_by(instigators.c.origin)
    if kind is not None:
        stmt = stmt.where(instigators.c.type == InstigatorType(kind).value)
    return skip_corrupt(
        read_or_mark("instigators", row.origin, partial(codec.instigator_from_body, row.body))
        for row in conn.execute(stmt)
    )


def upsert_state(conn: Connection, state: InstigatorState) -> InstigatorState:
    """Store `state` under its origin, replacing any stored one; updated_at becomes now."""
    row = codec.instigator_to_row(replace(state, updated_at=time.time()))
    dialect.upsert_instigator(conn, row)
    return codec.instigator_from_body(row["body"])


def change_state(
    conn: Connection,
    origin: str,
    change: Callable[[InstigatorState | None], InstigatorState],
) -> InstigatorState:
    """Store `change(stored)` for `origin`, `stored` being its state as of now (None if none);
    updated_at becomes now.

    The read and the write are one step for every other writer of `origin`: the row is locked
    (PostgreSQL ``FOR UPDATE``; SQLite's write transaction excludes every other writer), and
    when there is no row, a concurrent first insert is waited for and changed in turn rather
    than replaced. So a change to some fields never undoes what another writer did meanwhile to
    the others. Raises StorageError if `change` returns another origin's state.
    """
    stored = select_state(conn, origin, lock=True)
    if stored is None:
        row = _state_row(origin, change(None))
        if dialect.insert_instigator(conn, row):
            return codec.instigator_from_body(row["body"])
        # Another writer inserted it since our read (we waited for its commit): change that.
        stored = select_state(conn, origin, lock=True)
        if stored is None:
            raise StorageError(f"the state of {origin} was inserted and is gone")
    row = _state_row(origin, change(stored))
    conn.execute(sa.update(instigators).where(instigators.c.origin == origin).values(row))
    return codec.instigator_from_body(row["body"])


def _state_row(origin: str, state: InstigatorState) -> dict[str, Any]:
    if state.origin != origin:
        raise StorageError(f"a change of the state of {origin} returned that of {state.origin}")
    return codec.instigator_to_row(replace(state, updated_at=time.time()))


# -- ticks ---------------------------------------------------------------------------------------


def insert_tick(conn: Connection, tick: TickRecord) -> TickRecord | None:
    """Store a new tick with its id; None if it is a schedule tick that is stored already.

    created_at/updated_at are stamped when unset (0).
    """
    if tick.tick_id is not None:
        raise StorageError(f"tick {tick.tick_id} is stored already; use update_tick to change it")
    if not tick.created_at:
        tick = replace(tick, created_at=time.time())
    if not tick.updated_at:
        tick = replace(tick, updated_at=tick.created_at)
    row = codec.tick_to_row(tick)
    tick_id = dialect.insert_tick(conn, row)
    if tick_id is None:
        return None
    return codec.tick_from_row(tick_id, row["body"])


def update_tick(conn: Connection, tick: TickRecord) -> TickRecord:
    """Replace the stored tick `tick.tick_id` with `tick`; updated_at becomes now.

    What identifies a tick (origin, type, tick_at) cannot change; raises StorageError.
    """
    if tick.tick_id is None:
        raise StorageError("update_tick needs a stored tick (its tick_id is None)")
    stmt = sa.select(ticks.c.body).where(ticks.c.id == tick.tick_id).with_for_update()
    body = conn.execute(stmt).scalar_one_or_none()
    if body is None:
        raise StorageError(f"there is no tick {tick.tick_id}")
    current = read_or_raise("ticks", tick.tick_id, partial(codec.tick_from_row, tick.tick_id, body))
    row = codec.tick_to_row(replace(tick, updated_at=time.time()))
    if (current.origin, current.type.value, current.tick_at) != (
        row["origin"],
        row["type"],
        row["tick_at"],
    ):
        raise StorageError(
            f"cannot change the origin, type or tick_at of tick {tick.tick_id} "
            f"({current.origin} at {current.tick_at})"
        )
    conn.execute(sa.update(ticks).where(ticks.c.id == tick.tick_id).values(row))
    return codec.tick_from_row(tick.tick_id, row["body"])


def select_tick(conn: Connection, origin: str, tick_at: float) -> TickRecord | None:
    """The tick of `origin` at `tick_at` (for a sensor that ticked twice then, the newest)."""
    stmt = (
        sa.select(ticks.c.id, ticks.c.body)
        .where(ticks.c.origin == origin, ticks.c.tick_at == tick_at)
        .order_by(ticks.c.id.desc())
        .limit(1)
    )
    row = conn.execute(stmt).first()
    if row is None:
        return None
    return read_or_raise("ticks", row.id, partial(codec.tick_from_row, row.id, row.body))


def select_ticks(
    conn: Connection,
    origin: str,
    *,
    limit: int | None,
    statuses: Sequence[TickStatus] | None,
) -> list[TickRecord | CorruptRecord]:
    """The ticks of `origin`, newest first (by tick_at, then by id); a row that cannot be read
    is a `CorruptRecord` (its ``created_at`` the tick's time) in its place."""
    stmt = (
        sa.select(ticks.c.id, ticks.c.tick_at, ticks.c.body)
        .where(ticks.c.origin == origin)
        .order_by(ticks.c.tick_at.desc(), ticks.c.id.desc())
    )
    if statuses is not None:
        stmt = stmt.where(ticks.c.status.in_([TickStatus(s).value for s in statuses]))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        read_or_mark(
            "ticks", row.id, partial(codec.tick_from_row, row.id, row.body), created_at=row.tick_at
        )
        for row in conn.execute(stmt)
    ]


# -- run keys ------------------------------------------------------------------------------------


def claim_run_key(conn: Connection, origin: str, run_key: str, run_id: str) -> str | None:
    """Record that `run_key` of `origin` launched `run_id`; if it was claimed before, change
    nothing and return the run id that claimed it."""
    row = {
        "key_digest": codec.digest(origin, run_key),
        "origin": origin,
        "run_key": run_key,
        "run_id": run_id,
        "created_at": time.time(),
    }
    if dialect.insert_run_key(conn, row):
        return None
    claimed = select_run_id_for_key(conn, origin, run_key)
    if claimed is None:  # a digest shared with another (origin, run_key): SHA-256 collided
        raise StorageError(f"run key {run_key!r} of {origin} collides with another one")
    return claimed


def select_run_id_for_key(conn: Connection, origin: str, run_key: str) -> str | None:
    """The run that `run_key` of `origin` launched, if it was claimed."""
    stmt = sa.select(run_keys.c.run_id).where(
        run_keys.c.key_digest == codec.digest(origin, run_key),
        run_keys.c.origin == origin,
        run_keys.c.run_key == run_key,
    )
    run_id: str | None = conn.execute(stmt).scalar_one_or_none()
    return run_id
