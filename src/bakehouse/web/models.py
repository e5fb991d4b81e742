"""The JSON API's request and response bodies, and their conversion from records.

Response bodies are `bakehouse.serdes` records (FastAPI reads them through the serdes bridge), or
the stored records themselves; request bodies are still pydantic models (their validators).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from bakehouse.host.backfill_requests import BackfillProgress
from bakehouse.host.supervisor import LocationState
from bakehouse.protocol.snapshot import ModuleErrorSnap
from bakehouse.serdes import Record, fields_of
from bakehouse.storage.records import BackfillRecord, CorruptRecord, EventRecord, RunRecord
from bakehouse.web.error_out import ErrorOut as ErrorOut  # in its own module: reloads use it
from bakehouse.web.input_limits import Tags
from bakehouse.web.reload_models import LocationHealthOut, ReloadOut


class ActiveStepOut(Record, frozen=True, kw_only=True):
    """A step a worker executes now."""

    run_id: str | None
    step_key: str
    attempt: int | None


class WorkerOut(Record, frozen=True, kw_only=True):
    """A Celery step worker of the deployment, as its last heartbeat described it."""

    worker_id: str
    status: Annotated[str, Meta(description="LIVE, LOST (heartbeats stopped) or STOPPED")]
    hostname: str
    pid: int
    location: str | None
    queues: list[str]
    concurrency: int
    active_steps: list[ActiveStepOut]
    started_at: float
    last_heartbeat_at: float
    stopped_at: float | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> WorkerOut:
        """The API view of a `host.workers.worker_rows` row."""
        return cls(
            **{k: v for k, v in row.items() if k != "active_steps"},
            active_steps=[ActiveStepOut(**s) for s in row["active_steps"]],
        )


class ModuleErrorOut(Record, frozen=True, kw_only=True):
    """A module of a location's defs folder that failed to load and was left out."""

    module: Annotated[str, Meta(description="The dotted module name, or the component folder")]
    path: Annotated[str, Meta(description="The module's own file (or its defs.yaml)")]
    file: Annotated[str, Meta(description="The file the error points at")]
    line: int
    where: Annotated[str, Meta(description="file:line of the error")]
    cls_name: str
    message: str
    traceback: str

    @classmethod
    def of(cls, error: ModuleErrorSnap) -> ModuleErrorOut:
        """`error` for the API."""
        return cls(
            module=error.module,
            path=error.path,
            file=error.file,
            line=error.line,
            where=error.where,
            cls_name=error.error.cls_name,
            message=error.error.message,
            traceback=error.error.render(),
        )


class LocationOut(Record, frozen=True, kw_only=True):
    """A code location's state."""

    name: str
    status: Annotated[str, Meta(description="LOADING, LOADED, LOADED_WITH_ERRORS or FAILED")]
    updated_at: float
    python_version: str | None
    pid: int | None
    version: str | None
    asset_count: int
    error: ErrorOut | None
    serving_last_good: Annotated[
        bool, Meta(description="A reload failed and the last good definitions are still serving")
    ]
    restarts: int
    health: LocationHealthOut
    last_reload: Annotated[
        ReloadOut | None, Meta(description="The latest reload: its trigger, diff or error")
    ] = None
    module_errors: Annotated[
        tuple[ModuleErrorOut, ...],
        Meta(description="LOADED_WITH_ERRORS: the defs modules that failed to load, left out"),
    ] = ()

    @classmethod
    def of(cls, state: LocationState) -> LocationOut:
        """The API view of a supervisor state."""
        return cls(
            name=state.name,
            status=state.status.value,
            updated_at=state.updated_at,
            python_version=state.python_version,
            pid=state.pid,
            version=state.version,
            asset_count=state.asset_count,
            error=ErrorOut.of(state.error),
            serving_last_good=state.serving_last_good,
            restarts=state.restarts,
            health=LocationHealthOut.of(state),
            last_reload=ReloadOut.of(state.last_reload) if state.last_reload else None,
            module_errors=tuple(
                ModuleErrorOut.of(e)
                for e in (state.snapshot.module_errors if state.snapshot else ())
            ),
        )


class MaterializationOut(Record, frozen=True, kw_only=True):
    """One materialization of an asset."""

    run_id: str
    timestamp: float
    metadata: dict[str, Any]
    partition_key: str | None = None


class PartitionCountOut(Record, frozen=True, kw_only=True):
    """How many of a partitioned asset's partitions are materialized, of how many it has now."""

    materialized: int
    total: int


class CheckCountsOut(Record, frozen=True, kw_only=True):
    """An asset's checks by their latest result."""

    total: int
    passed: int
    failed: Annotated[int, Meta(description="Failed, or the check function raised")]


class FreshnessOut(Record, frozen=True, kw_only=True):
    """One source of an asset's freshness: its freshness policy, or a freshness check."""

    state: Annotated[str, Meta(description="PASS (fresh), WARN (stale), FAIL (overdue) or UNKNOWN")]
    label: Annotated[str, Meta(description="Fresh, Stale, Overdue or Unknown")]
    reason: Annotated[str, Meta(description='Why, e.g. "last updated 3 h ago, fail window 2 h"')]
    source: Annotated[str, Meta(description='"policy", or the name of the freshness check')]
    evaluated_at: Annotated[float, Meta(description="When the state was recorded (0: never)")]


class AssetOut(Record, frozen=True, kw_only=True):
    """An asset of the global graph."""

    key: str
    location: str | None
    group: str
    deps: list[str]
    kinds: list[str]
    description: str | None
    is_external: bool
    latest_materialization: MaterializationOut | None
    failed_module: Annotated[
        str | None,
        Meta(
            description="file:line of the defs module that failed to load and defined it, "
            "when that is why it is missing (its location is LOADED_WITH_ERRORS)"
        ),
    ] = None
    latest_run_status: Annotated[
        str | None, Meta(description="Status of the newest run that included this asset")
    ] = None
    state: Annotated[
        str,
        Meta(
            description="What the lineage page shows: materialized, failed, running, queued "
            "or never"
        ),
    ] = "never"
    owners: list[str] = []
    partitions: Annotated[
        PartitionCountOut | None, Meta(description="Null for an asset that is not partitioned")
    ] = None
    check_counts: Annotated[
        CheckCountsOut | None, Meta(description="Null for an asset without checks")
    ] = None
    freshness: Annotated[
        FreshnessOut | None,
        Meta(description="The worst of its freshness sources; null when it has none"),
    ] = None


class AssetCheckOut(Record, frozen=True, kw_only=True):
    """A check of an asset and its latest result.

    `status` is ``passed``, ``failed`` (see `severity`), ``errored`` (the check function raised)
    or ``never`` (no run has evaluated it).
    """

    name: str
    location: str
    description: str | None = None
    blocking: bool = False
    source_file: str | None = None
    source_line: int | None = None
    status: str = "never"
    severity: str | None = None
    run_id: str | None = None
    timestamp: float | None = None
    metadata: dict[str, Any] = {}
    result_description: str | None = None
    error: str | None = None


class AssetDetailOut(AssetOut, frozen=True, kw_only=True):
    """An asset with what its page shows."""

    downstream: list[str]
    metadata: dict[str, Any]
    tags: dict[str, str]
    code_version: str | None
    source_file: str | None
    source_line: int | None
    history: list[MaterializationOut]
    checks: list[AssetCheckOut] = []
    freshness_sources: list[FreshnessOut] = []


class RunRequest(BaseModel):
    """What to run: a selection string, explicit asset keys, or a job."""

    # The example must work on any deployment: "*" is every asset there is.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"selection": "*"}]})

    selection: str | None = Field(
        default=None, description="Assets, in the syntax of bh launch --assets ('*': all)"
    )
    asset_keys: list[str] | None = None
    job: str | None = None
    job_location: str | None = Field(
        default=None, description="The code location of the job (when two define one name)"
    )
    tags: Tags = Field(default_factory=dict)
    run_config: dict[str, Any] = Field(default_factory=dict)
    partition_key: str | None = Field(
        default=None,
        description="Materialize this partition (e.g. 2024-01-07) of the selected "
        "partitioned assets; a key they do not have is a 400",
    )

    def target_error(self) -> str | None:
        """Why the request names no run target, or more than one (a 400: the schema cannot
        say "exactly one of")."""
        given = [n for n in ("selection", "asset_keys", "job") if getattr(self, n)]
        if len(given) != 1:
            return "give exactly one of selection, asset_keys or job"
        return None


class RunCreated(Record, frozen=True, kw_only=True):
    """The id of a queued run."""

    run_id: str


class ReexecuteRequest(BaseModel):
    """Re-execute a run: all of it, or only what failed or was skipped."""

    model_config = ConfigDict(extra="forbid")

    # Strict: 0 or "yes" are not booleans, as the schema says.
    from_failure: StrictBool = False


# A run list shows at most this many of each run's asset keys: 50 runs of `*` over 20,000 assets
# would otherwise be a 20 MB answer. A run's own endpoint has them all.
LISTED_ASSET_KEYS = 20


class RunOut(Record, frozen=True, kw_only=True):
    """A run."""

    run_id: str
    status: str
    asset_selection: Annotated[
        list[str],
        Meta(
            description="The asset keys it selects, in order; in run lists only the first "
            f"{LISTED_ASSET_KEYS} (asset_count says how many; GET /api/runs/{{run_id}} has all)"
        ),
    ]
    selection_query: str | None
    job_name: str | None
    location_name: str | None
    partition_key: Annotated[str | None, Meta(description="The partition the run targets")] = None
    partition_range: Annotated[
        list[str] | None,
        Meta(description="First and last partition of a run over a range of partitions"),
    ] = None
    tags: dict[str, str]
    created_at: float
    started_at: float | None
    ended_at: float | None
    duration: float | None
    asset_count: Annotated[int, Meta(description="How many asset keys it selects")] = 0

    @classmethod
    def of(cls, run: RunRecord, *, listed: bool = False) -> RunOut:
        """The API view of a run record; `listed` (in a run list) keeps the first
        `LISTED_ASSET_KEYS` asset keys only."""
        keys = run.asset_selection[:LISTED_ASSET_KEYS] if listed else run.asset_selection
        return cls(
            run_id=run.run_id,
            status=run.status.value,
            asset_count=len(run.asset_selection),
            asset_selection=list(keys),
            selection_query=run.selection_query,
            job_name=run.job_name,
            location_name=run.location_name,
            partition_key=run.partition_key,
            partition_range=list(run.partition_range) if run.partition_range else None,
            tags=dict(run.tags),
            created_at=run.created_at,
            started_at=run.started_at,
            ended_at=run.ended_at,
            duration=run.duration,
        )


class CorruptRunOut(Record, frozen=True, kw_only=True):
    """A run whose stored row cannot be read, in its place in a list (see ``bh doctor``)."""

    run_id: str
    corrupt: Literal[True] = True
    reason: str

    @classmethod
    def of(cls, row: CorruptRecord) -> CorruptRunOut:
        """The API view of a corrupt run row."""
        return cls(run_id=row.key, reason=row.reason)


class CorruptEventOut(Record, frozen=True, kw_only=True):
    """An event whose stored row cannot be read, in its place in a run's log."""

    storage_id: int
    corrupt: Literal[True] = True
    reason: str

    @classmethod
    def of(cls, row: CorruptRecord) -> CorruptEventOut:
        """The API view of a corrupt event row."""
        return cls(storage_id=int(row.key), reason=row.reason)


class RunDetailOut(RunOut, frozen=True, kw_only=True):
    """A run with a page of its event log."""

    # The stored records themselves: the API shows an event as storage keeps it.
    events: list[EventRecord | CorruptEventOut]
    has_more: Annotated[
        bool, Meta(description="More events are stored after these: ask again after the last")
    ] = False

    @classmethod
    def of_run(
        cls, run: RunRecord, events: list[EventRecord | CorruptEventOut], *, has_more: bool = False
    ) -> RunDetailOut:
        """The API view of a run and the events shown with it."""
        return cls(**fields_of(RunOut.of(run)), events=events, has_more=has_more)


class EventPageOut(Record, frozen=True, kw_only=True):
    """A page of a run's event log, in log order, and the cursor of the next page."""

    events: list[EventRecord | CorruptEventOut]
    cursor: Annotated[
        str | None,
        Meta(
            description="Pass as `cursor` for the next page in the same direction: after "
            "these (set even at the end, to read what is logged next) or, paging backwards, "
            "before them (null at the start of the log)"
        ),
    ]
    has_more: Annotated[bool, Meta(description="More events are stored in that direction now")]


class StepMarkOut(Record, frozen=True, kw_only=True):
    """One step of a run as its timeline draws it."""

    step_key: str
    state: Annotated[
        str,
        Meta(
            description="running, retrying (an attempt failed, the next has not started), "
            "succeeded, failed or skipped"
        ),
    ]
    # The first attempt's start and the last one's end: one bar for all of a step's attempts.
    start: float | None
    end: float | None
    attempts: Annotated[
        int, Meta(description="Attempts started (STEP_START, then a STEP_RESTARTED per retry)")
    ]


class StepPageOut(Record, frozen=True, kw_only=True):
    """A window of a run's steps, in the order they first appear in its log, and what a
    timeline drawing only them needs of the rest."""

    steps: list[StepMarkOut]
    total: Annotated[int, Meta(description="The run's steps (started or skipped)")]
    first_start: Annotated[
        float | None, Meta(description="The earliest start of any of the run's steps")
    ]
    last_end: Annotated[float | None, Meta(description="The latest end of any of its steps")]
    cursor: Annotated[
        str | None,
        Meta(description="Pass as `cursor` for the next window; null when this is the last"),
    ]


class PartitionRangeIn(BaseModel):
    """An inclusive range of partition keys."""

    start: str
    end: str


class BackfillRequest(BaseModel):
    """A backfill to request: a selection and its partitions (keys, a range, or all)."""

    model_config = ConfigDict(extra="forbid")

    selection: str = Field(description="Assets, in the syntax of bh launch --assets")
    partition_keys: list[str] | None = Field(default=None, description="These partitions")
    partition_range: PartitionRangeIn | None = Field(
        default=None, description="The partitions from start to end, both included"
    )
    only: Literal["missing", "failed_and_missing"] | None = Field(
        default=None, description="Keep only partitions some selected asset has missing/failed"
    )
    tags: Tags = Field(default_factory=dict)
    run_config: dict[str, Any] = Field(
        default_factory=dict, description="Run config of every run; invalid config is a 400"
    )

    def target_error(self) -> str | None:
        """Why the partitions asked for are ambiguous (a 400: the schema cannot say "not
        both")."""
        if self.partition_keys is not None and self.partition_range is not None:
            return "give partition_keys or partition_range, not both"
        return None


class BackfillCreated(Record, frozen=True, kw_only=True):
    """The id of a backfill just requested."""

    backfill_id: str


class BackfillPartitionOut(Record, frozen=True, kw_only=True):
    """One partition of a backfill and its run, or the run of its unpartitioned assets."""

    partition_key: Annotated[
        str | None, Meta(description="None for the run of unpartitioned assets")
    ]
    assets: Annotated[
        list[str],
        Meta(
            description="The unpartitioned assets this run materializes once, before or after "
            "the partition runs; empty for a partition"
        ),
    ] = []
    label: Annotated[str, Meta(description="The partition key, or which unpartitioned assets")]
    run_id: Annotated[str | None, Meta(description="None until the daemon launched it")]
    run_status: str | None


class BackfillOut(Record, frozen=True, kw_only=True):
    """A backfill with its progress counts."""

    backfill_id: str
    status: Annotated[str, Meta(description="REQUESTED, CANCELING, COMPLETED, FAILED or CANCELED")]
    status_message: str | None
    error: str | None
    selection_query: str | None
    asset_selection: list[str]
    location_name: str | None
    tags: dict[str, str]
    created_at: float
    updated_at: float
    total: Annotated[
        int, Meta(description="Partitions, plus the runs of unpartitioned assets if any")
    ]
    requested: Annotated[
        int, Meta(description="Partitions (or unpartitioned runs) without a run yet")
    ]
    in_progress: Annotated[
        int, Meta(description="Partitions (or unpartitioned runs) queued or running")
    ]
    succeeded: int
    failed: int
    canceled: int
    first_partition: str | None
    last_partition: str | None

    @classmethod
    def of(cls, backfill: BackfillRecord, progress: BackfillProgress) -> BackfillOut:
        """The API view of a backfill and its progress."""
        keys = backfill.partition_keys
        return cls(
            backfill_id=backfill.backfill_id,
            status=backfill.status.value,
            status_message=backfill.status_message,
            error=backfill.error,
            selection_query=backfill.selection_query,
            asset_selection=list(backfill.asset_selection),
            location_name=backfill.location_name,
            tags=dict(backfill.tags),
            created_at=backfill.created_at,
            updated_at=backfill.updated_at,
            total=progress.total,
            requested=progress.requested,
            in_progress=progress.in_progress,
            succeeded=progress.succeeded,
            failed=progress.failed,
            canceled=progress.canceled,
            first_partition=keys[0] if keys else None,
            last_partition=keys[-1] if keys else None,
        )


class CorruptBackfillOut(Record, frozen=True, kw_only=True):
    """A backfill whose stored row cannot be read, in its place in a list (see ``bh doctor``)."""

    backfill_id: str
    corrupt: Literal[True] = True
    reason: str

    @classmethod
    def of(cls, row: CorruptRecord) -> CorruptBackfillOut:
        """The API view of a corrupt backfill row."""
        return cls(backfill_id=row.key, reason=row.reason)


class BackfillDetailOut(BackfillOut, frozen=True, kw_only=True):
    """A backfill with each partition's run and run status."""

    partitions: list[BackfillPartitionOut]

    @classmethod
    def detail(cls, backfill: BackfillRecord, progress: BackfillProgress) -> BackfillDetailOut:
        """The API view of a backfill with its partitions."""
        return cls(
            **fields_of(BackfillOut.of(backfill, progress)),
            partitions=[
                BackfillPartitionOut(
                    partition_key=None if p.assets else p.partition_key,
                    assets=list(p.assets),
                    label=p.label,
                    run_id=p.run_id,
                    run_status=p.run_status.value if p.run_status else None,
                )
                for p in progress.partitions
            ],
        )
