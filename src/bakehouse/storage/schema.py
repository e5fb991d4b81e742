"""The SQLAlchemy Core tables of instance storage: a JSON body per row plus indexed query columns.

Every table keeps the whole record as JSON text in ``body`` (portable across SQLite and
PostgreSQL, no dialect JSON types) and copies into real columns only what queries filter or sort
on. Timestamps are POSIX seconds as doubles. A change here needs a new migration under
``migrations/versions``; a test fails when the two disagree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# BIGINT on PostgreSQL so a long-lived event log cannot run out of ids; on SQLite only the exact
# type INTEGER makes the column an alias of the rowid, which is what makes it autoincrement.
StorageId = BigInteger().with_variant(Integer(), "sqlite")

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(255), primary_key=True),
    Column("status", String(32), nullable=False),
    Column("job_name", String(255)),
    Column("location_name", String(255)),
    Column("partition_key", Text),
    Column("created_at", Double, nullable=False),
    Column("started_at", Double),
    Column("ended_at", Double),
    Column("updated_at", Double, nullable=False),
    Column("body", Text, nullable=False),
    # Runs are listed newest first, optionally filtered by status.
    Index("ix_runs_status", "status"),
    Index("ix_runs_created_at", "created_at"),
)

event_logs = Table(
    "event_logs",
    metadata,
    # The storage_id: it orders the log and is the cursor readers page with.
    Column("id", StorageId, primary_key=True, autoincrement=True),
    Column("run_id", String(255), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("timestamp", Double, nullable=False),
    Column("step_key", Text),
    Column("asset_key", Text),
    Column("partition_key", Text),
    Column("level", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("body", Text, nullable=False),
    # A run's log, in order, from a cursor: WHERE run_id = ? AND id > ? ORDER BY id. It also
    # serves lookups by run_id alone, so that column has no index of its own.
    Index("ix_event_logs_run_id_id", "run_id", "id"),
    Index("ix_event_logs_event_type", "event_type"),
    # Materialization history of one asset, newest first; also serves lookups by asset_key alone.
    Index("ix_event_logs_asset_key_event_type_id", "asset_key", "event_type", "id"),
    # Without AUTOINCREMENT SQLite may hand out again the ids of the newest rows once they are
    # deleted (delete_run), and a storage_id must never name two different events.
    sqlite_autoincrement=True,
)

asset_keys = Table(
    "asset_keys",
    metadata,
    Column("asset_key", Text, primary_key=True),
    Column("last_materialization_storage_id", StorageId, nullable=False),
    Column("last_run_id", String(255), nullable=False),
    Column("last_materialization_timestamp", Double, nullable=False),
    Column("partition_key", Text),
    Column("metadata", Text, nullable=False),
)
