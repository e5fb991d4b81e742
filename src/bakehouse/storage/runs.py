"""Reads and writes the `runs` table, including the status changes that lifecycle events make.

Each run's tags are also rows of `run_tags`, and its asset keys rows of `run_assets` (or, for a
selection kept by reference, of `run_selection_assets`, once per selection), written in the same
transaction as the run, so that runs can be found by tag (a schedule's or sensor's runs) or by
asset without reading every run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bakehouse.errors import RunNotFoundError, StorageError
from bakehouse.serdes import replace
from bakehouse.storage import codec, dialect, selections
from bakehouse.storage.corrupt import read_or_mark, read_or_raise
from bakehouse.storage.records import (
    RUN_STATUS_BY_EVENT,
    CorruptRecord,
    EventRecord,
    RunRecord,
    RunStatus,
)
from bakehouse.storage.run_filter import (
    LAUNCHED_BY_KINDS,
    LAUNCHED_BY_TAG,
    USER_LAUNCHERS,
    LaunchedBy,
    RunFilter,
)
from bakehouse.storage.schema import run_assets, run_selection_assets, run_tags, runs

_INSERT = sa.insert(runs)
_INSERT_TAGS = sa.insert(run_tags)
_INSERT_ASSETS = sa.insert(run_assets)


def insert_run(conn: Connection, run: RunRecord) -> RunRecord:
    """Store a new run, stamping created_at/updated_at when they are unset (0)."""
    if not run.created_at:
        run = replace(run, created_at=time.time())
    if not run.updated_at:
        run = replace(run, updated_at=run.created_at)
    try:
        conn.execute(_INSERT, codec.run_to_row(run, selections.store(conn, run)))
    except IntegrityError as exc:
        raise StorageError(f"a run with id '{run.run_id}' already exists") from exc
    _insert_tags(conn, run)
    _insert_assets(conn, run)
    return run


def _insert_tags(conn: Connection, run: RunRecord) -> None:
    """Index the run's tags."""
    rows = codec.run_tag_rows(run)
    if rows:
        conn.execute(_INSERT_TAGS, rows)


def _insert_assets(conn: Connection, run: RunRecord) -> None:
    """Index the run's asset keys, when its body holds them (a selection kept by reference is
    indexed once, with its `run_selections` row)."""
    keys = codec.run_asset_rows(run)
    if keys:
        conn.execute(_INSERT_ASSETS, keys)


def _delete_tags(conn: Connection, run_id: str) -> None:
    """Forget the run's indexed tags."""
    conn.execute(sa.delete(run_tags).where(run_tags.c.run_id == run_id))


def _delete_assets(conn: Connection, run_id: str) -> None:
    """Forget the run's own indexed asset keys."""
    conn.execute(sa.delete(run_assets).where(run_assets.c.run_id == run_id))


def select_run(conn: Connection, run_id: str, *, for_update: bool = False) -> RunRecord:
    """The run `run_id`; `for_update` locks its row until the transaction ends (PostgreSQL)."""
    return _select_run_row(conn, run_id, for_update=for_update)[0]


def _select_run_row(
    conn: Connection, run_id: str, *, for_update: bool = False
) -> tuple[RunRecord, str | None]:
    """The run `run_id` and the digest of the selection its row refers to (None: inline)."""
    stmt = sa.select(*_COLUMNS).where(runs.c.run_id == run_id)
    if for_update:
        # Read-modify-write of the body must not lose a concurrent update. SQLite ignores
        # FOR UPDATE, but there the write transaction already excludes other writers.
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).one_or_none()
    if row is None:
        raise RunNotFoundError(run_id)
    found = selections.load(conn, [row.selection_digest])
    run = read_or_raise("runs", run_id, partial(_run_of_row, row, found))
    return run, row.selection_digest


def _run_of_row(row: Any, found: dict[str, codec.Selection | Exception]) -> RunRecord:
    """The run of a `runs` row, with its selection from `found` when the row refers to one."""
    if row.selection_digest is None:
        return codec.run_from_body(row.body)
    selection = found[row.selection_digest]
    if isinstance(selection, Exception):
        raise selection
    return codec.run_from_body(row.body, selection)


def _decode(conn: Connection, stmt: sa.Select[Any]) -> list[RunRecord | CorruptRecord]:
    """The runs `stmt` (of `_COLUMNS`) finds, their selections read in one more query."""
    fetched = conn.execute(stmt).all()
    found = selections.load(conn, (row.selection_digest for row in fetched))
    return [
        read_or_mark(
            "runs", row.run_id, partial(_run_of_row, row, found), created_at=row.created_at
        )
        for row in fetched
    ]


_COLUMNS = (runs.c.run_id, runs.c.created_at, runs.c.body, runs.c.selection_digest)


def _with_tags(pairs: Sequence[tuple[str, str]]) -> sa.ColumnElement[bool]:
    """Runs with one of the tags `pairs`, found through the digest index of `run_tags`."""
    found = sa.select(run_tags.c.run_id).where(
        run_tags.c.tag_digest.in_([codec.digest(k, v) for k, v in pairs]),
        # The digest finds the rows; this makes a collision harmless.
        sa.or_(*(sa.and_(run_tags.c.key == k, run_tags.c.value == v) for k, v in pairs)),
    )
    return runs.c.run_id.in_(found)


def _launched_by(who: LaunchedBy) -> sa.ColumnElement[bool]:
    if who.name is not None:
        return _with_tags([(LAUNCHED_BY_KINDS[who.kind], who.name)])
    if who.kind == "user":
        return _with_tags([(LAUNCHED_BY_TAG, launcher) for launcher in USER_LAUNCHERS])
    if who.kind == "backfill":
        # Any value of the key: probed per run through the primary key (run_id, ...), as the
        # list walks runs newest first, stopping at its limit.
        return sa.exists().where(
            run_tags.c.run_id == runs.c.run_id, run_tags.c.key == LAUNCHED_BY_KINDS["backfill"]
        )
    return _with_tags([(LAUNCHED_BY_TAG, who.kind)])


def _selecting(key: str, dialect_name: str) -> sa.ColumnElement[bool]:
    """Runs that select the asset `key`: by their own `run_assets` rows (selections in the
    body), or by a selection kept by reference that holds it (`run_selection_assets`, then
    runs' (selection_digest, created_at) index). The digest finds the rows; comparing the key
    makes a collision harmless.

    Spelt for each planner, so that both answer in time proportional to the asset's runs, not
    to all runs: SQLite reads an OR of two IN lists through both indexes (MULTI-INDEX OR);
    PostgreSQL, given that OR, walks every run newest first probing both lists (160 ms for an
    asset of 51 runs among 100,000), so it gets one IN over the union of both sources.
    """
    asset_digest = codec.digest(key)
    own = sa.select(run_assets.c.run_id).where(
        run_assets.c.asset_digest == asset_digest, run_assets.c.asset_key == key
    )
    shared = sa.select(run_selection_assets.c.selection_digest).where(
        run_selection_assets.c.asset_digest == asset_digest,
        run_selection_assets.c.asset_key == key,
    )
    if dialect_name == "sqlite":
        return sa.or_(runs.c.run_id.in_(own), runs.c.selection_digest.in_(shared))
    referring = runs.alias("referring")
    by_selection = sa.select(referring.c.run_id).where(referring.c.selection_digest.in_(shared))
    return runs.c.run_id.in_(own.union_all(by_selection))


def filter_conditions(run_filter: RunFilter, dialect_name: str) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions of `run_filter` on `runs`, each on an indexed column or table, as
    the database `dialect_name` plans them best."""
    found: list[sa.ColumnElement[bool]] = []
    if run_filter.statuses:
        found.append(runs.c.status.in_([RunStatus(s).value for s in run_filter.statuses]))
    if run_filter.job_name is not None:
        found.append(runs.c.job_name == run_filter.job_name)
    if run_filter.asset_key is not None:
        found.append(_selecting(run_filter.asset_key, dialect_name))
    found.extend(_with_tags([pair]) for pair in run_filter.tags)
    if run_filter.launched_by is not None:
        found.append(_launched_by(run_filter.launched_by))
    return found


def select_runs(
    conn: Connection,
    *,
    limit: int | None,
    statuses: Sequence[RunStatus] | None,
    before_created_at: float | None,
    run_filter: RunFilter | None = None,
) -> list[RunRecord | CorruptRecord]:
    """Runs newest first, optionally only those with one of `statuses`, passing `run_filter`
    or created before a time; a row that cannot be read is a `CorruptRecord` in its place."""
    stmt = sa.select(*_COLUMNS).order_by(runs.c.created_at.desc(), runs.c.run_id.desc())
    if statuses is not None:
        stmt = stmt.where(runs.c.status.in_([RunStatus(s).value for s in statuses]))
    if run_filter is not None:
        stmt = stmt.where(*filter_conditions(run_filter, conn.dialect.name))
    if before_created_at is not None:
        stmt = stmt.where(runs.c.created_at < before_created_at)
    if limit is not None:
        stmt = stmt.limit(limit)
    return _decode(conn, stmt)


def select_runs_by_id(conn: Connection, run_ids: Sequence[str]) -> list[RunRecord | CorruptRecord]:
    """The stored runs among `run_ids`, newest first (a row that cannot be read is a
    `CorruptRecord`); ids of no run are left out."""
    found: list[RunRecord | CorruptRecord] = []
    ids = list(dict.fromkeys(run_ids))
    for start in range(0, len(ids), _IDS_PER_QUERY):
        chunk = ids[start : start + _IDS_PER_QUERY]
        found.extend(_decode(conn, sa.select(*_COLUMNS).where(runs.c.run_id.in_(chunk))))
    return sorted(
        found,
        key=lambda r: (r.created_at or 0.0, r.run_id if isinstance(r, RunRecord) else r.key),
        reverse=True,
    )


# Stay far below every backend's limit on bound parameters in one statement.
_IDS_PER_QUERY = 500


def select_runs_by_tag(
    conn: Connection, key: str, value: str, *, limit: int | None
) -> list[RunRecord | CorruptRecord]:
    """Runs whose tag `key` is `value`, newest first (ordered as `select_runs` orders them)."""
    stmt = (
        sa.select(*_COLUMNS)
        .select_from(run_tags.join(runs, runs.c.run_id == run_tags.c.run_id))
        .where(
            run_tags.c.tag_digest == codec.digest(key, value),
            # The digest finds the rows through the index; these make a collision harmless.
            run_tags.c.key == key,
            run_tags.c.value == value,
        )
        .order_by(run_tags.c.created_at.desc(), run_tags.c.run_id.desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return _decode(conn, stmt)


def select_run_ids_by_prefix(conn: Connection, prefix: str, *, limit: int) -> list[str]:
    """Up to `limit` ids of runs that start with `prefix`, in id order, through an index."""
    stmt = (
        sa.select(runs.c.run_id)
        .where(dialect.run_id_prefix(runs.c.run_id, prefix, conn.dialect.name))
        .order_by(runs.c.run_id)
        .limit(limit)
    )
    # The index finds them; this keeps only ids that really start with it (LIKE and the
    # range are exact, but a database collation is not ours to trust).
    return [run_id for run_id in conn.execute(stmt).scalars() if run_id.startswith(prefix)]


def update_run(conn: Connection, run_id: str, changes: dict[str, Any]) -> RunRecord:
    """Apply `changes` (RunRecord fields) to the run and return it; updated_at defaults to now."""
    if changes.get("run_id", run_id) != run_id:
        raise StorageError(f"cannot change the id of run '{run_id}'")
    current, digest = _select_run_row(conn, run_id, for_update=True)
    return _apply(conn, current, digest, changes)


def _apply(
    conn: Connection, current: RunRecord, digest: str | None, changes: dict[str, Any]
) -> RunRecord:
    """Write `changes` over `current` (read for update, with its selection's `digest`)."""
    run_id = current.run_id
    changes = {"updated_at": time.time(), **changes}
    if "status" in changes:
        changes["status"] = RunStatus(changes["status"])
    try:
        updated = replace(current, **changes)
    except TypeError as exc:
        raise TypeError(f"update_run: {exc}; valid fields are those of RunRecord") from None
    before = digest
    if "asset_selection" in changes or "check_selection" in changes or digest is None:
        # Unchanged, a selection kept by reference keeps its digest without hashing its keys
        # again (a status change of a 20,000-asset run); an inline one may have grown past it.
        digest = selections.store(conn, updated)
    row = codec.run_to_row(updated, digest)
    conn.execute(sa.update(runs).where(runs.c.run_id == run_id).values(row))
    if "tags" in changes or "created_at" in changes:
        _delete_tags(conn, run_id)
        _insert_tags(conn, updated)
    if "created_at" in changes or "asset_selection" in changes or digest != before:
        # A body from before 0014 whose keys moved out leaves its run_assets rows behind.
        _delete_assets(conn, run_id)
        _insert_assets(conn, updated)
    return updated


def apply_lifecycle_event(conn: Connection, event: EventRecord) -> RunRecord:
    """Set the run's status from a run lifecycle event, with started_at/ended_at from its time.

    A finished run stays as it finished: the first end wins. A cancel stored while the run
    queue or the coordinator was starting the run is followed by their RUN_STARTING/RUN_START,
    and a canceled worker may still report its end; none of them may bring the run back.
    """
    current, digest = _select_run_row(conn, event.run_id, for_update=True)
    if current.status.is_finished:
        return current
    status = RUN_STATUS_BY_EVENT[event.event_type]
    changes: dict[str, Any] = {"status": status}
    if status is RunStatus.STARTED:
        changes["started_at"] = event.timestamp
    elif status.is_finished:
        changes["ended_at"] = event.timestamp
    return _apply(conn, current, digest, changes)


def delete_run(conn: Connection, run_id: str) -> None:
    """Delete the run's row and tags (not its events); raises RunNotFoundError if there is none."""
    if conn.execute(sa.delete(runs).where(runs.c.run_id == run_id)).rowcount == 0:
        raise RunNotFoundError(run_id)
    _delete_tags(conn, run_id)
    _delete_assets(conn, run_id)
