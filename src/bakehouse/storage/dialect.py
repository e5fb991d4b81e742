"""Everything that differs between SQLite and PostgreSQL, kept here so the rest of storage is not.

That is: which URLs we accept, how an engine is built and each connection set up, how a write
transaction takes its lock, and the statements whose SQL differs: the upserts (asset index,
partition status, instigator state) and the inserts that give way to an existing row (schedule
ticks, run keys, backfill partition claims, dynamic partition keys).
Both dialects spell ``ON CONFLICT`` alike, but each through its own ``insert()``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.dml import Insert

from bakehouse.errors import StorageError
from bakehouse.storage.durability import (
    DEFAULT_DURABILITY,
    DURABILITY_LEVELS,
    Durability,
    is_durability,
)
from bakehouse.storage.schema import (
    SCHEDULE_TICKS,
    asset_keys,
    asset_partitions,
    backfill_partition_runs,
    dynamic_partitions,
    event_logs,
    instance_secrets,
    instigators,
    run_keys,
    run_selections,
    ticks,
    worker_claims,
    workers,
)

SUPPORTED_DIALECTS = ("sqlite", "postgresql")

# A run worker writing events and a CLI polling them share one SQLite file; a writer that finds
# the file locked waits this long before giving up, instead of failing at once.
SQLITE_BUSY_TIMEOUT_MS = 30_000

# Execution option that marks a connection as about to write, so that SQLite takes the write
# lock at BEGIN: a deferred transaction that reads first and then writes can fail with
# SQLITE_BUSY without waiting when another process committed in between.
WRITE_OPTIONS: dict[str, Any] = {"bakehouse_write": True}

# The query parameter of a storage URL that names its durability, so that every process opened
# on the URL an instance hands on (run workers, step processes) commits the same way.
DURABILITY_PARAM = "durability"

# PostgreSQL advisory lock keys (two int4): a namespace of our own, then a key within it.
_LOCK_NAMESPACE_SCHEMA = 0x62616B65  # "bake"
_LOCK_NAMESPACE_RUN_LOG = 0x62616B66
_LOCK_NAMESPACE_DYNAMIC_PARTITIONS = 0x62616B67


def parse_url(url: str | URL) -> URL:
    """The URL as SQLAlchemy's `URL`, with a PostgreSQL driver we ship for; raises StorageError."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DIALECTS:
        raise StorageError(
            f"unsupported storage backend '{backend}' in {parsed.render_as_string()}: "
            f"use one of {', '.join(SUPPORTED_DIALECTS)}"
        )
    if parsed.drivername == "postgresql":
        # SQLAlchemy's default PostgreSQL driver is psycopg2, which we do not depend on.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def check_durability(value: object, where: str) -> Durability:
    """`value` as a durability level; raises StorageError naming `where` otherwise."""
    if not is_durability(value):
        raise StorageError(
            f"{where}: durability must be one of {', '.join(map(repr, DURABILITY_LEVELS))}, "
            f"got {value!r}"
        )
    return cast(Durability, value)


def split_durability(url: URL) -> tuple[URL, Durability | None]:
    """`url` without its ``durability`` query parameter, and that parameter's level (None when
    the URL does not name one); raises StorageError for an unknown level."""
    value = url.query.get(DURABILITY_PARAM)
    if value is None:
        return url, None
    level = check_durability(value, f"the storage URL's {DURABILITY_PARAM} parameter")
    return url.difference_update_query([DURABILITY_PARAM]), level


def with_durability(url: URL, durability: Durability) -> URL:
    """`url` naming `durability` when it is not the default (the default URL stays as given)."""
    if durability == DEFAULT_DURABILITY:
        return url
    return url.update_query_dict({DURABILITY_PARAM: durability})


def is_sqlite_memory(url: URL) -> bool:
    """True for an in-memory SQLite database, which lives only as long as its one connection."""
    if url.get_backend_name() != "sqlite":
        return False
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def sqlite_file(url: URL) -> Path | None:
    """The file of a file-backed SQLite database, else None."""
    if url.get_backend_name() != "sqlite" or is_sqlite_memory(url) or url.database is None:
        return None
    database = url.database
    # A URI filename (``sqlite:///file:/path/x.db?mode=ro&uri=true``, for a read-only file).
    if url.query.get("uri") in ("true", "1") and database.startswith("file:"):
        database = database.removeprefix("file:")
        if database.startswith("//"):  # file:///path: an empty authority before the path
            database = database[2:]
    return Path(database)


def check_sqlite_folder(url: URL) -> None:
    """Raise StorageError when `url` is a SQLite file in a folder that does not exist.

    A mistyped path must not quietly become a new, empty database somewhere else; the instance
    folders bakehouse owns (``.bakehouse/``) are created by `Instance.for_home` instead.
    """
    path = sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        raise StorageError(
            f"the SQLite database {path} is in a folder that does not exist ({path.parent}): "
            "create the folder, or correct the URL (BAKEHOUSE_STORAGE_URL)"
        )


def create_engine(url: URL, durability: Durability = DEFAULT_DURABILITY) -> Engine:
    """An engine for `url`, with every connection set up for how bakehouse uses the database
    and commits as `durability` says."""
    if url.get_backend_name() != "sqlite":
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", partial(_setup_postgres_connection, durability))
        return engine
    if is_sqlite_memory(url):
        # One connection is the whole database, so every thread must share it; callers
        # serialize their transactions on it (see `shares_one_connection`).
        engine = sa.create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        check_sqlite_folder(url)
        engine = sa.create_engine(url)
    sa.event.listen(engine, "connect", partial(_setup_sqlite_connection, durability))
    sa.event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def shares_one_connection(url: URL) -> bool:
    """True when all threads share one DBAPI connection and must take turns using it."""
    return is_sqlite_memory(url)


# SQLite's `synchronous` per durability. In WAL mode NORMAL syncs only at checkpoints: a commit
# survives a crash of any process but may be lost (never half-applied) on a power cut; FULL
# syncs the log at every commit, as Dagster's SQLite storage does.
_SQLITE_SYNCHRONOUS: dict[str, str] = {"normal": "NORMAL", "full": "FULL"}


def _setup_postgres_connection(durability: Durability, dbapi_connection: Any, _record: Any) -> None:
    if durability == "full":
        return  # the server's own setting: synchronous_commit is on unless its admin said not
    # The same promise as SQLite's NORMAL: a commit returns before its WAL record is flushed,
    # so the newest commits (up to three wal_writer_delay periods) may be lost if the database
    # server or its machine crashes, never half-applied; a bakehouse process's crash loses none.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET synchronous_commit = off")
    finally:
        cursor.close()
    # A SET opens a transaction in psycopg's default mode; end it so the pool gets a clean one.
    dbapi_connection.commit()


def _setup_sqlite_connection(durability: Durability, dbapi_connection: Any, _record: Any) -> None:
    # sqlite3's own transaction handling does not BEGIN before SELECT or DDL, which breaks
    # consistent reads and transactional schema setup; we emit BEGIN ourselves instead.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first: switching a fresh file to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        # WAL lets readers (UI, CLI) run while a run worker writes.
        _switch_to_wal(cursor)
        cursor.execute(f"PRAGMA synchronous = {_SQLITE_SYNCHRONOUS[durability]}")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode (it stays so), waiting out processes that hold it locked.

    SQLite may answer the journal-mode switch with "database is locked" at once, without
    calling the busy handler, while another process sets up a fresh file: retry until the
    busy timeout has passed, as any other statement would have waited.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def _begin_sqlite_transaction(conn: Connection) -> None:
    if conn.get_execution_options().get("bakehouse_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def lock_for_schema_setup(conn: Connection) -> None:
    """Serialize schema setup across processes until the current transaction ends.

    On SQLite the write transaction (BEGIN IMMEDIATE) already excludes every other writer.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_NAMESPACE_SCHEMA, 0)))


def lock_run_log(conn: Connection, run_id: str) -> None:
    """Serialize writers of one run's log until the current transaction ends.

    Readers page a log by storage_id, so ids must become visible in increasing order. PostgreSQL
    hands out ids when rows are inserted, not when they commit; holding this lock from before the
    insert until commit keeps one run's ids in commit order. SQLite writers are serialized anyway.
    """
    if conn.dialect.name == "postgresql":
        # Straight to the driver: once per transaction, on the path of every step.
        with _driver_cursor(conn, "SELECT pg_advisory_xact_lock") as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_LOCK_NAMESPACE_RUN_LOG, run_id)
            )


# The columns of an `event_logs` row as `codec.event_to_row` gives them, in the order the raw
# inserts below bind them.
_EVENT_COLUMNS = tuple(c.name for c in event_logs.c if c.name != "id")
_SQLITE_EVENT_INSERT = (
    f"INSERT INTO event_logs ({', '.join(_EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)})"
)
_POSTGRES_EVENT_ROW = f"({', '.join('%s' for _ in _EVENT_COLUMNS)})"
# The same row with each value cast to its column's type (without a length: the assignment to
# the column still refuses a value too long), for the insert that takes the lock itself below,
# whose VALUES list is not typed by the insert's columns.
_POSTGRES_TYPED_EVENT_ROW = "({})".format(
    ", ".join(
        "%s::float8" if isinstance(event_logs.c[name].type, sa.Float) else "%s::text"
        for name in _EVENT_COLUMNS
    )
)
# Rows per PostgreSQL statement: 9 parameters each, far below its limit of 65,535 per statement.
_POSTGRES_EVENTS_PER_STATEMENT = 1000


@contextmanager
def _driver_cursor(conn: Connection, what: str) -> Iterator[Any]:
    """A cursor of the DB-API connection under `conn` (in its transaction); the driver's errors
    leave as SQLAlchemy's, as they would through `conn.execute`, so storage turns them into a
    StorageError (a full disk, a lost server) the same way."""
    dbapi = conn.dialect.loaded_dbapi
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        yield cursor
    except dbapi.Error as exc:
        raise sa.exc.DBAPIError.instance(what, None, exc, dbapi.Error) from exc
    finally:
        cursor.close()


def insert_events(
    conn: Connection, rows: list[dict[str, Any]], *, lock_runs: Sequence[str] = ()
) -> list[int]:
    """Take the log lock of each of `lock_runs` (as `lock_run_log` does), then insert the
    `event_logs` rows in the order given, as few statements as the database allows; returns
    their storage ids, in that order. Callers hold the write transaction.

    This is the hot path of every run (a step writes about five events), so it goes to the
    DB-API driver directly: SQLAlchemy's statement machinery cost several times the insert.
    """
    if not rows:
        for run_id in sorted(lock_runs):
            lock_run_log(conn, run_id)
        return []
    with _driver_cursor(conn, "INSERT INTO event_logs") as cursor:
        values = [tuple(row[name] for name in _EVENT_COLUMNS) for row in rows]
        if conn.dialect.name == "sqlite":
            # One prepared statement for every row. The write transaction (BEGIN IMMEDIATE)
            # excludes every other writer and the table is AUTOINCREMENT, so the rows got the
            # ids up to the last one, one apart.
            if len(values) == 1:
                cursor.execute(_SQLITE_EVENT_INSERT, values[0])
                return [int(cursor.lastrowid)]
            cursor.executemany(_SQLITE_EVENT_INSERT, values)
            last = int(cursor.execute("SELECT last_insert_rowid()").fetchone()[0])
            return list(range(last - len(rows) + 1, last + 1))
        if len(lock_runs) == 1 and len(values) <= _POSTGRES_EVENTS_PER_STATEMENT:
            # The usual batch (one step of one run): the lock and the insert in one statement,
            # one round trip fewer. The lock is an uncorrelated subquery in WHERE, which the
            # server evaluates once, as a one-time filter, before it produces the first row,
            # and so before any row draws its id.
            cursor.execute(
                f"INSERT INTO event_logs ({', '.join(_EVENT_COLUMNS)}) SELECT * FROM (VALUES "
                f"{', '.join(_POSTGRES_TYPED_EVENT_ROW for _ in values)}) AS v "
                "WHERE (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(%s, hashtext(%s))) "
                "AS locked) = 1 RETURNING id",
                [value for row in values for value in row]
                + [_LOCK_NAMESPACE_RUN_LOG, lock_runs[0]],
            )
            return sorted(int(found[0]) for found in cursor.fetchall())
        for run_id in sorted(lock_runs):
            lock_run_log(conn, run_id)
        ids: list[int] = []
        for start in range(0, len(values), _POSTGRES_EVENTS_PER_STATEMENT):
            chunk = values[start : start + _POSTGRES_EVENTS_PER_STATEMENT]
            sql = (
                f"INSERT INTO event_logs ({', '.join(_EVENT_COLUMNS)}) VALUES "
                f"{', '.join(_POSTGRES_EVENT_ROW for _ in chunk)} RETURNING id"
            )
            cursor.execute(sql, [value for row in chunk for value in row])
            # The VALUES rows are inserted in order, each drawing the next id of the sequence,
            # so ascending ids are the rows in order (other runs' rows may fall between them).
            ids.extend(sorted(int(found[0]) for found in cursor.fetchall()))
        return ids


def lock_dynamic_partitions(conn: Connection, partitions_def_name: str) -> None:
    """Serialize adders of one dynamic partitions definition until the transaction ends.

    SQLite writers are serialized anyway (BEGIN IMMEDIATE).
    """
    if conn.dialect.name == "postgresql":
        key = sa.func.hashtext(partitions_def_name)
        conn.execute(
            sa.select(sa.func.pg_advisory_xact_lock(_LOCK_NAMESPACE_DYNAMIC_PARTITIONS, key))
        )


def _asset_index_upsert(insert: Any) -> Insert:
    # `insert` is the dialect's own insert(), both of which spell ON CONFLICT the same way.
    stmt = insert(asset_keys)
    excluded = stmt.excluded
    columns = [c.name for c in asset_keys.c if c.name != "asset_key"]
    upsert: Insert = stmt.on_conflict_do_update(
        index_elements=[asset_keys.c.asset_key],
        set_={name: excluded[name] for name in columns},
        # Concurrent runs may commit materializations of one asset out of storage_id order; the
        # index keeps the newest by storage_id whatever order they arrive in.
        where=asset_keys.c.last_materialization_storage_id
        < excluded.last_materialization_storage_id,
    )
    return upsert


_ASSET_INDEX_UPSERTS: dict[str, Insert] = {
    "sqlite": _asset_index_upsert(sqlite.insert),
    "postgresql": _asset_index_upsert(postgresql.insert),
}


# The upserts compiled once per dialect for the driver: (SQL, the row's keys in bind order, or
# None where the driver binds by name).
_DRIVER_ASSET_INDEX_UPSERTS: dict[str, tuple[str, tuple[str, ...] | None]] = {}


def upsert_asset_index(conn: Connection, row: dict[str, Any]) -> None:
    """Insert or replace the index row of ``row["asset_key"]``, unless it holds a newer one.

    Every materialization of every step comes through here, so the statement SQLAlchemy
    builds is compiled once and handed to the driver, as the event inserts are: executing it
    through SQLAlchemy cost several times the statement itself.
    """
    name = conn.dialect.name
    compiled = _DRIVER_ASSET_INDEX_UPSERTS.get(name)
    if compiled is None:
        statement = _ASSET_INDEX_UPSERTS[name].compile(dialect=conn.dialect)
        order = tuple(statement.positiontup) if statement.positiontup else None
        compiled = _DRIVER_ASSET_INDEX_UPSERTS[name] = (str(statement), order)
    sql, order = compiled
    with _driver_cursor(conn, "INSERT INTO asset_keys") as cursor:
        cursor.execute(sql, row if order is None else tuple(row[key] for key in order))


def _asset_partition_upsert(insert: Any) -> Insert:
    stmt = insert(asset_partitions)
    excluded, table = stmt.excluded, asset_partitions.c
    # Like the asset index, each part keeps the newest by storage_id whatever order concurrent
    # writers commit in; but the two parts move separately: a planned or failed attempt replaces
    # the status and leaves the last materialization, which only a newer materialization moves.
    # (SET expressions all see the row as it was, so the comparisons use the old storage_id.)
    newer = table.storage_id < excluded.storage_id
    status_columns = ("status", "run_id", "step_key", "storage_id", "timestamp")
    set_: dict[str, Any] = {
        name: sa.case((newer, excluded[name]), else_=table[name]) for name in status_columns
    }
    materialized = table.materialization_storage_id
    set_["materialization_storage_id"] = sa.case(
        (
            sa.and_(
                excluded.materialization_storage_id.is_not(None),
                sa.or_(materialized.is_(None), materialized < excluded.materialization_storage_id),
            ),
            excluded.materialization_storage_id,
        ),
        else_=materialized,
    )
    upsert: Insert = stmt.on_conflict_do_update(
        index_elements=[table.asset_digest, table.partition_digest], set_=set_
    )
    return upsert


_ASSET_PARTITION_UPSERTS: dict[str, Insert] = {
    "sqlite": _asset_partition_upsert(sqlite.insert),
    "postgresql": _asset_partition_upsert(postgresql.insert),
}


def upsert_asset_partition(conn: Connection, row: dict[str, Any]) -> None:
    """Record an attempt on one asset partition (`asset_partitions` row), newest event wins."""
    conn.execute(_ASSET_PARTITION_UPSERTS[conn.dialect.name], row)


def _insert_skipping_existing(
    conn: Connection, table: sa.Table, rows: list[dict[str, Any]], unique: list[sa.Column[Any]]
) -> Insert:
    """One INSERT of `rows` that skips those whose `unique` columns exist already.

    Built per call, as its shape depends on the number of rows (the caller keeps it under the
    bound-parameter limits). Rows are inserted, and ids handed out, in the order given.
    """
    insert: Any = sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert
    stmt: Insert = insert(table).values(rows).on_conflict_do_nothing(index_elements=unique)
    return stmt


def insert_backfill_partition_runs(conn: Connection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert `backfill_partition_runs` rows of one backfill, skipping partitions claimed
    already; returns the partition digests this statement inserted."""
    table = backfill_partition_runs
    unique = [table.c.backfill_id, table.c.partition_digest]
    stmt = _insert_skipping_existing(conn, table, rows, unique)
    return set(conn.execute(stmt.returning(table.c.partition_digest)).scalars())


def _instigator_upsert(insert: Any) -> Insert:
    stmt = insert(instigators)
    upsert: Insert = stmt.on_conflict_do_update(
        index_elements=[instigators.c.origin],
        set_={c.name: stmt.excluded[c.name] for c in instigators.c if c.name != "origin"},
    )
    return upsert


def _tick_insert(insert: Any) -> Insert:
    # The conflict target is the partial unique index on schedule ticks: a schedule tick that
    # exists already is not an error but the answer "taken". PostgreSQL waits for a concurrent
    # insert of the same tick to commit or roll back before deciding.
    stmt: Insert = (
        insert(ticks)
        .on_conflict_do_nothing(
            index_elements=[ticks.c.origin, ticks.c.tick_at],
            # Literal, not a bound parameter: PostgreSQL matches the partial index by its
            # predicate, which it cannot do with a parameter once the statement is prepared.
            index_where=SCHEDULE_TICKS,
        )
        .returning(ticks.c.id)
    )
    return stmt


def _insert_new(insert: Any, key: sa.Column[Any]) -> Insert:
    """An INSERT into `key`'s table that writes nothing where a row with that key exists, and
    returns the key only when it wrote."""
    stmt: Insert = insert(key.table).on_conflict_do_nothing(index_elements=[key]).returning(key)
    return stmt


_INSTIGATOR_UPSERTS: dict[str, Insert] = {
    "sqlite": _instigator_upsert(sqlite.insert),
    "postgresql": _instigator_upsert(postgresql.insert),
}
_INSTIGATOR_INSERTS: dict[str, Insert] = {
    "sqlite": _insert_new(sqlite.insert, instigators.c.origin),
    "postgresql": _insert_new(postgresql.insert, instigators.c.origin),
}
_TICK_INSERTS: dict[str, Insert] = {
    "sqlite": _tick_insert(sqlite.insert),
    "postgresql": _tick_insert(postgresql.insert),
}
_RUN_KEY_INSERTS: dict[str, Insert] = {
    "sqlite": _insert_new(sqlite.insert, run_keys.c.key_digest),
    "postgresql": _insert_new(postgresql.insert, run_keys.c.key_digest),
}


def upsert_instigator(conn: Connection, row: dict[str, Any]) -> None:
    """Insert the `instigators` row of ``row["origin"]``, or replace the one there is."""
    conn.execute(_INSTIGATOR_UPSERTS[conn.dialect.name], row)


def insert_instigator(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert the `instigators` row of ``row["origin"]``; False (nothing written) if there is
    one. PostgreSQL waits for a concurrent insert of that origin to commit or roll back."""
    return conn.execute(_INSTIGATOR_INSERTS[conn.dialect.name], row).first() is not None


def insert_tick(conn: Connection, row: dict[str, Any]) -> int | None:
    """Insert a tick and return its id; None (nothing written) if that schedule tick exists."""
    tick_id = conn.execute(_TICK_INSERTS[conn.dialect.name], row).scalar_one_or_none()
    return None if tick_id is None else int(tick_id)


def insert_run_key(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert a `run_keys` row; False (nothing written) if its key was claimed already."""
    return conn.execute(_RUN_KEY_INSERTS[conn.dialect.name], row).first() is not None


def insert_secret(conn: Connection, row: dict[str, Any]) -> None:
    """Insert an `instance_secrets` row, unless a secret of that name exists (it stays)."""
    table = instance_secrets
    conn.execute(_insert_skipping_existing(conn, table, [row], [table.c.name]))


def insert_dynamic_partitions(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert `dynamic_partitions` rows in order, skipping keys their definition has already."""
    table = dynamic_partitions
    unique = [table.c.partitions_def_digest, table.c.partition_digest]
    conn.execute(_insert_skipping_existing(conn, table, rows, unique))


def _worker_upsert(insert: Any) -> Insert:
    stmt = insert(workers)
    upsert: Insert = stmt.on_conflict_do_update(
        index_elements=[workers.c.worker_id],
        set_={"heartbeat_at": stmt.excluded.heartbeat_at, "body": stmt.excluded.body},
    )
    return upsert


def _claim_insert(insert: Any) -> Insert:
    stmt: Insert = (
        insert(worker_claims)
        .on_conflict_do_nothing(
            index_elements=[
                worker_claims.c.run_id,
                worker_claims.c.step_key,
                worker_claims.c.attempt,
            ]
        )
        .returning(worker_claims.c.worker_id)
    )
    return stmt


_WORKER_UPSERTS: dict[str, Insert] = {
    "sqlite": _worker_upsert(sqlite.insert),
    "postgresql": _worker_upsert(postgresql.insert),
}
_CLAIM_INSERTS: dict[str, Insert] = {
    "sqlite": _claim_insert(sqlite.insert),
    "postgresql": _claim_insert(postgresql.insert),
}


def upsert_worker(conn: Connection, row: dict[str, Any]) -> None:
    """Insert the `workers` row of ``row["worker_id"]``, or refresh its heartbeat and body."""
    conn.execute(_WORKER_UPSERTS[conn.dialect.name], row)


def insert_claim(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert a `worker_claims` row; False (nothing written) if that attempt was taken already."""
    return conn.execute(_CLAIM_INSERTS[conn.dialect.name], row).first() is not None


def insert_run_selection(conn: Connection, row: dict[str, Any]) -> bool:
    """Insert a `run_selections` row, unless that selection is stored already (it stays);
    True when this statement inserted it. A concurrent writer of the same selection waits
    for the first (its unique entry) and then inserts nothing."""
    table = run_selections
    stmt = _insert_skipping_existing(conn, table, [row], [table.c.selection_digest])
    # RETURNING, not rowcount: psycopg's pipeline mode does not report a skipped row as 0.
    return conn.execute(stmt.returning(table.c.selection_digest)).first() is not None


def run_id_prefix(column: sa.ColumnElement[str], prefix: str, dialect_name: str) -> Any:
    """Rows whose `column` starts with `prefix`, through an index: on SQLite the range of the
    primary key (it orders bytes), on PostgreSQL `LIKE` with the pattern-ops index (its default
    collation need not order bytes, so a range on the primary key could miss ids)."""
    if dialect_name == "postgresql":
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(escaped + "%", escape="\\")
    # Every string that starts with `prefix` is >= it and < it followed by the highest code point.
    return sa.and_(column >= prefix, column < prefix + "\U0010ffff")
