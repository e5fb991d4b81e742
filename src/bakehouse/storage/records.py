"""The records instance storage keeps: runs, events, asset materializations, schedule and sensor
state and their ticks, as plain data (`bakehouse.serdes` records, stored as their JSON).

Every process (run worker, CLI, webserver, daemon) reads and writes these; none of them needs the
authoring API to do so. Timestamps are POSIX seconds (UTC); asset keys are user strings (``a/b``).
"""

from __future__ import annotations

import enum
from typing import Any

from bakehouse.serdes import Record


class RunStatus(str, enum.Enum):
    """Where a run is in its life."""

    QUEUED = "QUEUED"
    STARTING = "STARTING"
    STARTED = "STARTED"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"

    @property
    def is_finished(self) -> bool:
        """True once the run can change no more."""
        return self in (RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED)


class EventType(str, enum.Enum):
    """The kinds of event a run writes to the event log."""

    RUN_QUEUED = "RUN_QUEUED"
    RUN_STARTING = "RUN_STARTING"
    RUN_START = "RUN_START"
    RUN_SUCCESS = "RUN_SUCCESS"
    RUN_FAILURE = "RUN_FAILURE"
    RUN_CANCELED = "RUN_CANCELED"
    STEP_START = "STEP_START"
    STEP_INPUT = "STEP_INPUT"
    STEP_OUTPUT = "STEP_OUTPUT"
    ASSET_MATERIALIZATION = "ASSET_MATERIALIZATION"
    # Written at run start for each (asset, partition) the run will materialize, so that the
    # partition shows as in progress until its materialization or failure arrives.
    ASSET_MATERIALIZATION_PLANNED = "ASSET_MATERIALIZATION_PLANNED"
    # The result of one asset check: asset_key is the checked asset; data holds check_name,
    # passed, severity ("ERROR"/"WARN"), blocking, metadata and description.
    ASSET_CHECK_EVALUATION = "ASSET_CHECK_EVALUATION"
    STEP_SUCCESS = "STEP_SUCCESS"
    STEP_FAILURE = "STEP_FAILURE"
    STEP_SKIPPED = "STEP_SKIPPED"
    # An attempt of a step failed (or its worker died under it) and its RetryPolicy attempts it
    # again; data holds attempt, the next attempt's number and the error. Not a STEP_FAILURE.
    STEP_UP_FOR_RETRY = "STEP_UP_FOR_RETRY"
    # The start of a step's next attempt after STEP_UP_FOR_RETRY (its first attempt starts with
    # STEP_START); data holds the attempt's number.
    STEP_RESTARTED = "STEP_RESTARTED"
    LOG = "LOG"
    ENGINE = "ENGINE"


# Run lifecycle events set the run's status in the same transaction that stores them.
RUN_STATUS_BY_EVENT: dict[EventType, RunStatus] = {
    EventType.RUN_QUEUED: RunStatus.QUEUED,
    EventType.RUN_STARTING: RunStatus.STARTING,
    EventType.RUN_START: RunStatus.STARTED,
    EventType.RUN_SUCCESS: RunStatus.SUCCESS,
    EventType.RUN_FAILURE: RunStatus.FAILURE,
    EventType.RUN_CANCELED: RunStatus.CANCELED,
}


# Tags on the runs a backfill launches: the backfill's id and the partition each run covers (a
# run of a range has the range's first and last key instead, like Dagster's
# dagster/asset_partition_range_start and _end); `Instance.get_runs_by_tag` finds them.
BACKFILL_TAG = "bakehouse/backfill"
# The claim keys (in `BackfillRecord.partition_runs`) of a backfill's runs of its unpartitioned
# assets. A backfill only ever claims its own partition keys and these two, and
# `host.backfills.request_backfill` refuses partition keys equal to them, so they never collide.
UNPARTITIONED_BEFORE_KEY = "<unpartitioned:before>"
UNPARTITIONED_AFTER_KEY = "<unpartitioned:after>"
PARTITION_TAG = "bakehouse/partition"
PARTITION_RANGE_START_TAG = "bakehouse/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "bakehouse/asset_partition_range_end"


class RunRecord(Record, frozen=True, kw_only=True):
    """One run: what it materializes, where its code lives and how it ended."""

    run_id: str
    status: RunStatus = RunStatus.QUEUED
    asset_selection: tuple[str, ...] = ()
    # The asset checks it evaluates (``asset/key:check_name``), as the launch service planned.
    check_selection: tuple[str, ...] = ()
    selection_query: str | None = None
    job_name: str | None = None
    location_name: str | None = None
    partition_key: str | None = None
    # A run of several partitions (one partitions definition, first and last key in its order)
    # sets both and no partition_key. Kept in the JSON body only: no query filters on them.
    partition_range_start: str | None = None
    partition_range_end: str | None = None
    tags: dict[str, str] = {}
    run_config: dict[str, Any] = {}
    created_at: float = 0.0
    started_at: float | None = None
    ended_at: float | None = None
    updated_at: float = 0.0

    @property
    def partition_range(self) -> tuple[str, str] | None:
        """(first, last) partition of a run of a range; None for a run of one or none."""
        if self.partition_range_start is None or self.partition_range_end is None:
            return None
        return (self.partition_range_start, self.partition_range_end)

    @property
    def duration(self) -> float | None:
        """Seconds from start to end; `None` until the run has both started and ended."""
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


class EventRecord(Record, frozen=True, kw_only=True):
    """One entry of a run's event log. `storage_id` is set once stored, and orders the log."""

    run_id: str
    event_type: EventType
    timestamp: float
    message: str = ""
    level: str = "INFO"
    step_key: str | None = None
    asset_key: str | None = None
    partition_key: str | None = None
    # JSON-ready payload: metadata ({label: {"type": ..., "value": ...}}), error (ErrorInfo dict),
    # duration_ms, paths, a materialization's code_version; its keys depend on event_type.
    data: dict[str, Any] = {}
    storage_id: int | None = None


class CorruptRecord(Record, frozen=True, kw_only=True):
    """A stored row that cannot be read back as its record, in the place the record would have.

    Lists that ask for them (`include_corrupt=True`) get one of these per bad row, so one bad row
    spoils only itself; `bh doctor` lists them all and can move them aside.
    """

    table: str  # "runs", "event_logs", "ticks", "backfills", "instigators", "asset_keys"
    key: str  # the row's id: run id, event storage id, tick id, backfill id, origin, asset key
    reason: str  # why it could not be read, at most a few hundred characters
    created_at: float | None = None  # where it sorts among the others, when known

    corrupt = True  # lets templates and JSON tell a marker from a record without isinstance


class AssetMaterializationRecord(Record, frozen=True, kw_only=True):
    """The latest materialization of one asset, kept in an index for fast lookups."""

    asset_key: str
    run_id: str
    storage_id: int
    timestamp: float
    partition_key: str | None = None
    metadata: dict[str, Any] = {}
    # The asset's code version when it was materialized (None: none recorded).
    code_version: str | None = None


class InstigatorType(str, enum.Enum):
    """What starts runs on its own: a schedule (cron times) or a sensor (polled)."""

    SCHEDULE = "SCHEDULE"
    SENSOR = "SENSOR"


class InstigatorStatus(str, enum.Enum):
    """Whether the daemon evaluates a schedule or sensor."""

    RUNNING = "RUNNING"
    STOPPED = "STOPPED"


class InstigatorState(Record, frozen=True, kw_only=True):
    """What the daemon keeps about one schedule or sensor across restarts."""

    origin: str  # "<location>:<name>", unique
    name: str
    location: str
    type: InstigatorType
    status: InstigatorStatus
    cursor: str | None = None  # a sensor's cursor (opaque text)
    last_tick_at: float | None = None  # schedules: the last tick evaluated (cron time, not wall)
    updated_at: float = 0.0


class TickStatus(str, enum.Enum):
    """How one evaluation of a schedule or sensor went; STARTED until it is finished."""

    STARTED = "STARTED"
    SUCCESS = "SUCCESS"
    SKIPPED = "SKIPPED"
    FAILURE = "FAILURE"


class TickRecord(Record, frozen=True, kw_only=True):
    """One evaluation of a schedule or sensor. `tick_id` is set once stored."""

    origin: str
    type: InstigatorType
    tick_at: float  # schedules: the cron time of the tick; sensors: evaluation time
    status: TickStatus = TickStatus.STARTED
    run_ids: tuple[str, ...] = ()
    run_keys: tuple[str, ...] = ()
    skip_reason: str | None = None
    error: dict[str, Any] | None = None  # ErrorInfo.to_dict()
    cursor: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    tick_id: int | None = None


class PartitionStatus(str, enum.Enum):
    """The state of one partition of an asset, after its latest attempt.

    A partition with no record (never planned, never materialized) is missing and has no status.
    """

    MATERIALIZED = "MATERIALIZED"
    FAILED = "FAILED"
    IN_PROGRESS = "IN_PROGRESS"


class BackfillStatus(str, enum.Enum):
    """Where a backfill is in its life: REQUESTED until every partition's run is done."""

    REQUESTED = "REQUESTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"

    @property
    def is_finished(self) -> bool:
        """True once the daemon has nothing left to do for the backfill."""
        return self in (BackfillStatus.COMPLETED, BackfillStatus.FAILED, BackfillStatus.CANCELED)


class BackfillRecord(Record, frozen=True, kw_only=True):
    """A request to materialize a selection for many partitions, which the daemon carries out.

    `partition_runs` maps each partition that got a run to that run's id (with `single_run`, all
    partitions map to the one run). It is read from its own table and only ever grows, through
    `Instance.claim_backfill_partitions`; `update_backfill` cannot change it.
    """

    backfill_id: str
    status: BackfillStatus = BackfillStatus.REQUESTED
    partition_keys: tuple[str, ...] = ()
    asset_selection: tuple[str, ...] = ()
    selection_query: str | None = None
    job_name: str | None = None
    location_name: str | None = None  # None: the selection spans code locations
    single_run: bool = False  # one run for the whole range, else one run per partition
    # Without single_run: at most this many partitions per run (a BackfillPolicy.multi_run(N)).
    max_partitions_per_run: int = 1
    tags: dict[str, str] = {}
    run_config: dict[str, Any] = {}
    error: str | None = None
    # What the daemon is doing or waiting for now (e.g. a location still loading), for people.
    status_message: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0
    partition_runs: dict[str, str] = {}
    # Unpartitioned assets of the selection, materialized once each in one run: before the
    # partition runs (they feed them), or after all of them (they read them). Their runs are
    # claimed under the reserved keys UNPARTITIONED_BEFORE_KEY / UNPARTITIONED_AFTER_KEY.
    unpartitioned_before: tuple[str, ...] = ()
    unpartitioned_after: tuple[str, ...] = ()

    @property
    def partitioned_assets(self) -> tuple[str, ...]:
        """The selected assets the partition runs materialize (the unpartitioned ones aside)."""
        once = {*self.unpartitioned_before, *self.unpartitioned_after}
        return tuple(k for k in self.asset_selection if k not in once)

    def claim_rows(self) -> list[tuple[str, tuple[str, ...]]]:
        """(claim key, unpartitioned assets) of each run the backfill has, in the order they
        run: the unpartitioned run before, one row per partition (assets ()), the one after."""
        rows: list[tuple[str, tuple[str, ...]]] = []
        if self.unpartitioned_before:
            rows.append((UNPARTITIONED_BEFORE_KEY, self.unpartitioned_before))
        rows.extend((key, ()) for key in self.partition_keys)
        if self.unpartitioned_after:
            rows.append((UNPARTITIONED_AFTER_KEY, self.unpartitioned_after))
        return rows


class ApiTokenRecord(Record, frozen=True, kw_only=True):
    """A named API token of the deployment, as stored: never the token itself, only its name,
    whether it may only read, and when it was made (the SHA-256 of the token stays in storage)."""

    name: str
    read_only: bool = False
    created_at: float = 0.0
    expires_at: float | None = None  # None: never expires
    last_used_at: float | None = None  # None: never used; updated at most once a minute

    def expired(self, now: float) -> bool:
        """True once the token's expiry has passed (it is then refused)."""
        return self.expires_at is not None and now >= self.expires_at


class WorkerRecord(Record, frozen=True, kw_only=True):
    """A step worker as its last heartbeat described it (`bh worker start`)."""

    worker_id: str
    hostname: str
    # Tells machines apart where hostnames may repeat (/etc/machine-id, else the hostname).
    host_id: str = ""
    pid: int = 0
    location: str | None = None
    queues: tuple[str, ...] = ()
    concurrency: int = 1
    # Celery task ids of the steps it executes now (``bh:<run_id>:<attempt>:<step_key>``).
    active: tuple[str, ...] = ()
    started_at: float = 0.0
    heartbeat_at: float = 0.0
    # Set when it stopped cleanly; a worker that died keeps None and goes stale.
    stopped_at: float | None = None


class WorkerClaim(Record, frozen=True, kw_only=True):
    """One attempt of one step, taken by one worker."""

    run_id: str
    step_key: str
    attempt: int
    worker_id: str
    task_id: str
    claimed_at: float
