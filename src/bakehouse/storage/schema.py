"""The SQLAlchemy Core tables of instance storage: a JSON body per row plus indexed query columns.

Every table keeps the whole record as JSON text in ``body`` (portable across SQLite and
PostgreSQL, no dialect JSON types) and copies into real columns only what queries filter or sort
on. Timestamps are POSIX seconds as doubles. A change here needs a new migration under
``migrations/versions``; a test fails when the two disagree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Double,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    event,
    text,
)
from sqlalchemy.schema import DDL

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
    # A large selection is kept once in `run_selections` under this digest, and the body then
    # leaves its keys out; null when the body holds them (small selections, rows before 0014).
    Column("selection_digest", String(64)),
    # Runs are listed newest first, optionally filtered by status or job.
    Index("ix_runs_status", "status"),
    Index("ix_runs_created_at", "created_at"),
    Index("ix_runs_job_name_created_at", "job_name", "created_at"),
    # The runs of one selection kept by reference, newest first: with `run_selection_assets`,
    # the runs that selected an asset (its page, the list filtered by asset).
    Index("ix_runs_selection_digest_created_at", "selection_digest", "created_at"),
    # Short run ids: `run_id LIKE 'abc%'` can use a btree index on PostgreSQL only with pattern
    # ops (its default collation need not order bytes). SQLite's primary key would serve the
    # range already; one schema on both backends is worth the small duplicate index there.
    Index("ix_runs_run_id_pattern", "run_id", postgresql_ops={"run_id": "varchar_pattern_ops"}),
)

run_selections = Table(
    "run_selections",
    metadata,
    # The asset keys and check keys of a large run selection, once per distinct selection (50
    # runs of `*` over 20,000 assets share one row), so run rows and run lists stay small.
    Column("selection_digest", String(64), primary_key=True),  # `codec.selection_digest`
    Column("asset_count", Integer, nullable=False),
    Column("body", Text, nullable=False),  # {"asset_selection": [...], "check_selection": [...]}
    Column("created_at", Double, nullable=False),
)

EVENTS_WITH_ASSET = text("asset_key IS NOT NULL")

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
    # A run's count of each event type (the run page's header) and its steps' marks (a window
    # of the timeline: a step's marks by key, its steps counted, their span) from the index
    # alone, without reading its rows.
    Index(
        "ix_event_logs_run_id_event_type_step_key",
        "run_id",
        "event_type",
        "step_key",
        "timestamp",
    ),
    # Materialization history of one asset, newest first; also serves lookups by asset_key alone.
    # Partial: most events (a step's start, inputs, success, logs) name no asset, and a step
    # that wrote their entries wrote three or four more index pages per commit for nothing;
    # every query by asset_key (=, IN) implies the condition, on both backends.
    # The change feed (`changes.py`) reads `id > ? AND event_type IN (...)` by the primary key,
    # so event_type has no index of its own: one would cost a page per event type per commit.
    Index(
        "ix_event_logs_asset_key_event_type_id",
        "asset_key",
        "event_type",
        "id",
        sqlite_where=EVENTS_WITH_ASSET,
        postgresql_where=EVENTS_WITH_ASSET,
    ),
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
    # The code version the latest materialization recorded (null: none).
    Column("code_version", Text),
)

# A digest (SHA-256, hex; `codec.digest`) stands in for user text in the keys and indexes below:
# a PostgreSQL btree entry cannot exceed about 2.7 kB, and tag values or run keys may be longer.
Digest = String(64)

run_tags = Table(
    "run_tags",
    metadata,
    # One row per tag of a run, kept by create_run/update_run/delete_run.
    Column("run_id", String(255), nullable=False),
    Column("key", Text, nullable=False),
    Column("value", Text, nullable=False),
    Column("tag_digest", Digest, nullable=False),  # digest of (key, value)
    Column("created_at", Double, nullable=False),  # the run's, so an index can order by it
    PrimaryKeyConstraint("run_id", "tag_digest"),
    # Runs with a tag, newest first (as get_runs orders them), stopping at the limit.
    Index("ix_run_tags_tag_digest_created_at", "tag_digest", "created_at", "run_id"),
)

run_assets = Table(
    "run_assets",
    metadata,
    # One row per asset key of a run whose selection its body holds (at most
    # `codec.INLINE_SELECTION_KEYS`, or any number for rows before 0014), kept by
    # create_run/update_run/delete_run. A selection kept by reference has its keys once in
    # `run_selection_assets` instead: 50 runs of `*` over 20,000 assets are 20,000 rows, not 1M.
    Column("run_id", String(255), nullable=False),
    Column("asset_key", Text, nullable=False),
    Column("asset_digest", Digest, nullable=False),  # digest of the key
    Column("created_at", Double, nullable=False),  # the run's, so an index can order by it
    PrimaryKeyConstraint("run_id", "asset_digest"),
    # An asset's runs, newest first (the Runs list filtered by asset).
    Index("ix_run_assets_asset_digest_created_at", "asset_digest", "created_at", "run_id"),
)

run_selection_assets = Table(
    "run_selection_assets",
    metadata,
    # The asset keys of each `run_selections` row, written with it (once per distinct
    # selection): which selections hold an asset, and through runs' (selection_digest,
    # created_at) index, which runs. A selection row and its keys are never deleted.
    Column("asset_digest", Digest, nullable=False),  # digest of the key
    Column("selection_digest", String(64), nullable=False),
    Column("asset_key", Text, nullable=False),
    PrimaryKeyConstraint("asset_digest", "selection_digest"),
)

instigators = Table(
    "instigators",
    metadata,
    Column("origin", Text, primary_key=True),
    Column("type", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("updated_at", Double, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_instigators_type", "type"),
)

# The predicate of the partial unique index on schedule ticks; an ON CONFLICT clause that targets
# the index repeats it, literally (see `dialect.insert_tick`).
SCHEDULE_TICKS = text("type = 'SCHEDULE'")

ticks = Table(
    "ticks",
    metadata,
    Column("id", StorageId, primary_key=True, autoincrement=True),
    Column("origin", Text, nullable=False),
    Column("type", String(16), nullable=False),
    Column("tick_at", Double, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    Column("body", Text, nullable=False),
    # A schedule's tick at one cron time is recorded once, whichever daemon gets there first.
    # Sensors may tick twice in one instant, so the constraint covers schedules only.
    Index(
        "ux_ticks_schedule_origin_tick_at",
        "origin",
        "tick_at",
        unique=True,
        sqlite_where=SCHEDULE_TICKS,
        postgresql_where=SCHEDULE_TICKS,
    ),
    # An instigator's ticks newest first; with a status filter (the daemon looks for STARTED
    # ticks every round) the second index finds the few without reading the whole history.
    Index("ix_ticks_origin_tick_at_id", "origin", "tick_at", "id"),
    Index("ix_ticks_origin_status_tick_at", "origin", "status", "tick_at"),
    sqlite_autoincrement=True,
)

run_keys = Table(
    "run_keys",
    metadata,
    # The run each sensor/schedule run key launched; the primary key makes claiming atomic.
    Column("key_digest", Digest, primary_key=True),  # digest of (origin, run_key)
    Column("origin", Text, nullable=False),
    Column("run_key", Text, nullable=False),
    Column("run_id", String(255), nullable=False),
    Column("created_at", Double, nullable=False),
)

asset_partitions = Table(
    "asset_partitions",
    metadata,
    # One row per (asset, partition) ever planned or materialized: the latest attempt's status,
    # kept by store_event in the event's transaction (see `partitions.py`), so the status of
    # every partition of an asset is one indexed read, however long the event log.
    Column("asset_digest", Digest, nullable=False),  # digest of (asset_key,)
    Column("partition_digest", Digest, nullable=False),  # digest of (partition_key,)
    Column("asset_key", Text, nullable=False),
    Column("partition_key", Text, nullable=False),
    Column("status", String(16), nullable=False),  # as recorded; IN_PROGRESS is resolved on read
    Column("run_id", String(255), nullable=False),  # the run of the latest attempt
    Column("step_key", Text),  # the step that planned or materialized it
    Column("storage_id", StorageId, nullable=False),  # the event that set the status
    Column("timestamp", Double, nullable=False),  # that event's time
    # The partition's newest materialization, kept even when a later attempt failed.
    Column("materialization_storage_id", StorageId),
    PrimaryKeyConstraint("asset_digest", "partition_digest"),
    # A failed step fails what its run planned; delete_run re-derives what its run set.
    Index("ix_asset_partitions_run_id", "run_id"),
)

backfills = Table(
    "backfills",
    metadata,
    Column("backfill_id", String(255), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("created_at", Double, nullable=False),
    Column("updated_at", Double, nullable=False),
    Column("body", Text, nullable=False),  # the BackfillRecord without partition_runs
    # Listed newest first; the daemon looks for the unfinished ones every round.
    Index("ix_backfills_status", "status"),
    Index("ix_backfills_created_at", "created_at"),
)

backfill_partition_runs = Table(
    "backfill_partition_runs",
    metadata,
    # The run each partition of a backfill got. The primary key makes the claim atomic: of two
    # daemons racing for a partition exactly one records its run.
    Column("backfill_id", String(255), nullable=False),
    Column("partition_digest", Digest, nullable=False),  # digest of (partition_key,)
    Column("partition_key", Text, nullable=False),
    Column("run_id", String(255), nullable=False),
    Column("created_at", Double, nullable=False),
    PrimaryKeyConstraint("backfill_id", "partition_digest"),
)

dynamic_partitions = Table(
    "dynamic_partitions",
    metadata,
    # The keys of each DynamicPartitionsDefinition. `id` is the order keys were added in (what
    # get_dynamic_partitions returns); a key deleted and added again gets a new, later id.
    Column("id", StorageId, primary_key=True, autoincrement=True),
    Column("partitions_def_digest", Digest, nullable=False),  # digest of (partitions_def_name,)
    Column("partition_digest", Digest, nullable=False),  # digest of (partition_key,)
    Column("partitions_def_name", Text, nullable=False),
    Column("partition_key", Text, nullable=False),
    Column("created_at", Double, nullable=False),
    # A key is added once: adding it again is a no-op (ON CONFLICT DO NOTHING on this index).
    Index(
        "ux_dynamic_partitions_def_partition",
        "partitions_def_digest",
        "partition_digest",
        unique=True,
    ),
    # A definition's keys in the order they were added.
    Index("ix_dynamic_partitions_def_id", "partitions_def_digest", "id"),
    sqlite_autoincrement=True,
)

quarantined_rows = Table(
    "quarantined_rows",
    metadata,
    # Rows `bh doctor --move-aside` took out of their table because they could not be read: kept
    # here whole, so nothing is lost and someone can repair and put them back by hand.
    Column("id", StorageId, primary_key=True, autoincrement=True),
    Column("table_name", String(64), nullable=False),
    Column("row_key", Text, nullable=False),  # run id, event storage id, tick id, ...
    Column("reason", Text, nullable=False),
    Column("row", Text, nullable=False),  # JSON object: the row's columns as they were stored
    Column("moved_at", Double, nullable=False),
    sqlite_autoincrement=True,
)

api_tokens = Table(
    "api_tokens",
    metadata,
    # Tokens that may use the API and the UI (`bh token create`). Only the SHA-256 of a token is
    # kept, so a copy of the database gives no way in; the unique index finds a token by it.
    Column("name", String(255), primary_key=True),
    Column("token_digest", Digest, nullable=False),
    Column("read_only", Boolean, nullable=False),
    Column("created_at", Double, nullable=False),
    Column("expires_at", Double, nullable=True),  # null: never expires
    Column("last_used_at", Double, nullable=True),  # null: never used (kept to the minute)
    Index("ux_api_tokens_digest", "token_digest", unique=True),
)

automation_cursors = Table(
    "automation_cursors",
    metadata,
    # What the evaluation of one asset's automation condition remembers for the next one (the
    # state of its SINCE and NEWLY_TRUE nodes, what it requested, when it ran).
    Column("asset_digest", Digest, primary_key=True),  # digest of (asset_key,)
    Column("asset_key", Text, nullable=False),
    Column("updated_at", Double, nullable=False),
    Column("body", Text, nullable=False),
)

automation_evaluations = Table(
    "automation_evaluations",
    metadata,
    # Each evaluation of an asset's automation condition with the tree of what was true; the
    # newest 200 per asset are kept (`storage.automation.EVALUATIONS_KEPT`).
    Column("id", StorageId, primary_key=True, autoincrement=True),
    Column("asset_digest", Digest, nullable=False),  # digest of (asset_key,)
    Column("asset_key", Text, nullable=False),
    Column("origin", Text, nullable=False),  # the sensor that evaluated it
    Column("evaluated_at", Double, nullable=False),
    Column("num_requested", Integer, nullable=False),
    Column("body", Text, nullable=False),
    # One asset's evaluations, newest first.
    Index("ix_automation_evaluations_asset_digest_id", "asset_digest", "id"),
    sqlite_autoincrement=True,
)

instance_secrets = Table(
    "instance_secrets",
    metadata,
    # Keys every server process of the deployment must share (the form-token signing key), made
    # once by the first process that needs one (`Instance.shared_secret`).
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
    Column("created_at", Double, nullable=False),
)

workers = Table(
    "workers",
    metadata,
    # Step workers of the deployment (`bh worker start`): each writes its row at start and on
    # every heartbeat, so the host sees them without reaching their machines. The body holds the
    # `WorkerRecord` (host, location, queues, the steps it executes now).
    Column("worker_id", String(255), primary_key=True),
    Column("heartbeat_at", Double, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_workers_heartbeat_at", "heartbeat_at"),
)

worker_claims = Table(
    "worker_claims",
    metadata,
    # Which worker took each attempt of a step handed to workers. The primary key makes the
    # claim atomic: a message the broker delivers twice runs once, and the run's executor knows
    # whose heartbeat says whether the attempt is still alive.
    Column("run_id", String(255), nullable=False),
    Column("step_key", String(512), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("worker_id", String(255), nullable=False),
    Column("task_id", String(1024), nullable=False),
    Column("claimed_at", Double, nullable=False),
    PrimaryKeyConstraint("run_id", "step_key", "attempt"),
)

location_reloads = Table(
    "location_reloads",
    metadata,
    # Each reload of a code location: what it changed or why it failed, who asked, how heavy
    # the load was; the newest 500 per location are kept (`storage.reloads.RELOADS_KEPT`).
    Column("id", StorageId, primary_key=True, autoincrement=True),
    Column("location_name", String(255), nullable=False),
    Column("started_at", Double, nullable=False),
    Column("loaded", Boolean, nullable=False),
    Column("body", Text, nullable=False),
    # One location's reloads, newest first.
    Index("ix_location_reloads_location_name_id", "location_name", "id"),
    sqlite_autoincrement=True,
)
# PostgreSQL: a write to one of these tables notifies this channel when it commits, so a reader
# that follows changes (`changes.ChangeWatcher`) LISTENs instead of polling the tables.
CHANGES_CHANNEL = "bakehouse_changes"
NOTIFYING_TABLES = ("event_logs", "runs", "instigators", "ticks", "backfills")


def notify_trigger_sql() -> list[str]:
    """The PostgreSQL statements that make writes to `NOTIFYING_TABLES` notify `CHANGES_CHANNEL`:
    one trigger per statement (not per row), and PostgreSQL folds a transaction's identical
    notifications into one."""
    statements = [
        "CREATE OR REPLACE FUNCTION bakehouse_notify_change() RETURNS trigger AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANGES_CHANNEL}', TG_TABLE_NAME); RETURN NULL; END; "
        "$$ LANGUAGE plpgsql"
    ]
    for table in NOTIFYING_TABLES:
        statements.append(
            f"CREATE TRIGGER bakehouse_notify_{table} AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bakehouse_notify_change()"
        )
    return statements


for _statement in notify_trigger_sql():
    event.listen(
        metadata,
        "after_create",
        DDL(_statement).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
    )
