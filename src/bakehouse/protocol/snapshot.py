"""Snapshots: a code location's definitions as plain typed data, the only view the host has.

Records (`bakehouse.serdes`) of primitives and other snapshots, written as JSON inside the
protocol's envelope. New fields get defaults and unknown ones are ignored; a rename, or a new kind
in a union, bumps the version (`protocol.envelope`). Protocol 1 (a "__type__" tag on every object,
one partitions class) decodes the same way: its extra tags and fields are ignored.
"""

from __future__ import annotations

from typing import Any

from bakehouse.errors import ErrorInfo
from bakehouse.protocol import envelope

# Re-exported: the code server and host read the version from here.
from bakehouse.protocol.envelope import (
    PROTOCOL_VERSION as PROTOCOL_VERSION,
    READABLE_PROTOCOLS as READABLE_PROTOCOLS,
)
from bakehouse.serdes import Record


class StaticPartitionsSnap(Record, frozen=True, kw_only=True, tag_field="kind", tag="static"):
    """Partitions named by a fixed list of keys."""

    # The keys, in order.
    keys: tuple[str, ...] = ()


class TimeWindowPartitionsSnap(
    Record, frozen=True, kw_only=True, tag_field="kind", tag="time_window"
):
    """Windows between ticks of a cron schedule in a time zone, from the first tick at or after
    `start` (ISO 8601 with offset) to `end`; keys formatted with `fmt` (Dagster's rules, as
    `authoring.time_window_partitions`)."""

    cron_schedule: str
    start: str
    fmt: str
    timezone: str | None = None  # None: UTC
    end: str | None = None
    end_offset: int = 0
    # "HOURLY", "DAILY", "WEEKLY" or "MONTHLY" when the schedule has one of those shapes.
    schedule_type: str | None = None


class DynamicPartitionsSnap(Record, frozen=True, kw_only=True, tag_field="kind", tag="dynamic"):
    """Partitions whose keys live in the instance, under the definition's name."""

    name: str


class MultiPartitionsSnap(Record, frozen=True, kw_only=True, tag_field="kind", tag="multi"):
    """Partitions that combine the keys of two named dimensions."""

    # The two dimensions, in name order.
    dimensions: tuple[PartitionDimensionSnap, ...] = ()


# How an asset or job is partitioned: the definition's parameters, from which the host computes
# keys without user code. On the wire each kind carries its tag, e.g. {"kind": "static", ...}.
PartitionsSnap = (
    StaticPartitionsSnap | TimeWindowPartitionsSnap | DynamicPartitionsSnap | MultiPartitionsSnap
)


class PartitionDimensionSnap(Record, frozen=True, kw_only=True):
    """One named dimension of a multi-partitioned asset."""

    name: str
    partitions: PartitionsSnap


class BackfillPolicySnap(Record, frozen=True, kw_only=True):
    """How a backfill splits an asset's partitions into runs (Dagster's `BackfillPolicy`)."""

    # None: one run for all of a backfill's partitions (single_run); N: at most N per run.
    max_partitions_per_run: int | None = 1


class AutomationConditionSnap(Record, frozen=True, kw_only=True):
    """One node of an asset's automation condition tree (`AutomationCondition`), which the
    host's daemon evaluates against storage without the user's code."""

    # The operand or operator: "missing", "newly_updated", "cron_tick_passed", ..., or "and",
    # "or", "not", "since", "newly_true", "any_deps", "all_deps" (see daemon/automation).
    kind: str
    # Dagster's formal name (e.g. "SINCE", "cron_tick_passed(...)") and the user's label.
    name: str = ""
    label: str | None = None
    children: tuple[AutomationConditionSnap, ...] = ()
    cron_schedule: str | None = None
    cron_timezone: str | None = None
    lookback_seconds: float | None = None
    # For "any_checks"/"all_checks": only blocking checks count.
    blocking_only: bool = False
    # For "any_deps"/"all_deps": the deps that count (None: all) and those left out.
    allow: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()


class FreshnessPolicySnap(Record, frozen=True, kw_only=True):
    """An asset's `FreshnessPolicy`, which the host's daemon evaluates against storage."""

    # "time_window" (fail/warn windows) or "cron" (deadline_cron, lower_bound_delta, timezone).
    kind: str
    fail_window_seconds: float | None = None
    warn_window_seconds: float | None = None
    deadline_cron: str | None = None
    lower_bound_delta_seconds: float | None = None
    timezone: str = "UTC"


class AssetNodeSnap(Record, frozen=True, kw_only=True):
    """One asset as the host sees it."""

    key: str
    deps: tuple[str, ...] = ()
    group: str = "default"
    kinds: tuple[str, ...] = ()
    description: str | None = None
    metadata: dict[str, Any] = {}
    tags: dict[str, str] = {}
    owners: tuple[str, ...] = ()
    code_version: str | None = None
    # Step (op) that materializes it; None for external assets.
    step_key: str | None = None
    is_external: bool = False
    # True when no asset of this location defines the key (it may live in another location).
    is_undefined: bool = False
    io_manager_key: str | None = None
    required_resources: tuple[str, ...] = ()
    source_file: str | None = None
    source_line: int | None = None
    # None when the asset is not partitioned.
    partitions: PartitionsSnap | None = None
    # None when the asset sets no policy (a backfill runs one partition per run). Added with a
    # default: snapshots from older code servers decode without one.
    backfill_policy: BackfillPolicySnap | None = None
    # The JSON schema of the step's `Config` parameter ({} when it has one that cannot be
    # described), None when it takes no config: the host validates run config against it.
    config_schema: dict[str, Any] | None = None
    # The asset function's name: run config may name the step by it, as by `step_key`.
    function_name: str | None = None
    # A graph-backed asset's ops: run config gives them config under the asset's "ops".
    op_names: tuple[str, ...] = ()
    # When the daemon materializes it (declarative automation), None when it has no condition.
    automation_condition: AutomationConditionSnap | None = None
    # How recently it should have materialized, None when it has no policy.
    freshness_policy: FreshnessPolicySnap | None = None
    # For an undefined key: "file:line" of the module under the defs folder that failed to load
    # and most likely defined it (`ModuleErrorSnap`); the host shows it as missing, not absent,
    # and refuses launches that need it. Added with a default: older snapshots decode.
    failed_module: str | None = None


class AssetCheckSnap(Record, frozen=True, kw_only=True):
    """One asset check: the asset it checks and where it was written."""

    name: str
    asset_key: str
    description: str | None = None
    blocking: bool = False
    # The step that evaluates it: its own (an @asset_check) or its asset's (check_specs).
    step_key: str | None = None
    additional_deps: tuple[str, ...] = ()
    source_file: str | None = None
    source_line: int | None = None
    # The spec's metadata, JSON-ready: a freshness check's "dagster/freshness_params" (lower
    # bound, deadline cron, timezone) is how the host tells one and evaluates its sensor.
    metadata: dict[str, Any] = {}


class JobSnap(Record, frozen=True, kw_only=True):
    """A job and the keys it selects."""

    name: str
    asset_keys: tuple[str, ...] = ()
    selection: str = ""
    description: str | None = None
    tags: dict[str, str] = {}
    source_file: str | None = None
    source_line: int | None = None
    # The partitions a run of the job picks one of (the job's, else its assets'), or None.
    partitions: PartitionsSnap | None = None
    # The checks its runs evaluate (``asset/key:check_name``) and its default run config.
    check_keys: tuple[str, ...] = ()
    run_config: dict[str, Any] = {}
    # A job of ops: the JSON schema of each top-level op's `Config` parameter, by node name
    # (the host scaffolds and checks run config from them; ops without one are not listed).
    op_config_schemas: dict[str, dict[str, Any]] = {}


class ScheduleSnap(Record, frozen=True, kw_only=True):
    """A schedule: which job, and when."""

    name: str
    job_name: str | None = None
    cron_schedule: str = ""
    execution_timezone: str | None = None
    default_status: str = "STOPPED"
    description: str | None = None


class SensorSnap(Record, frozen=True, kw_only=True):
    """A sensor: which job it may launch, and how often it is evaluated."""

    name: str
    job_name: str | None = None
    job_names: tuple[str, ...] = ()
    minimum_interval_seconds: int = 30
    default_status: str = "STOPPED"
    description: str | None = None
    # "standard", "asset" (fed an asset's materializations), "run_status" (fed finished runs),
    # "automation_condition" (evaluated on the host: the conditions of `asset_selection`) or
    # "freshness_checks" (evaluated on the host: which of `check_keys` to run).
    kind: str = "standard"
    asset_key: str | None = None
    run_status: str | None = None
    monitored_jobs: tuple[str, ...] = ()
    asset_selection: tuple[str, ...] | None = None
    # Tags of the runs an automation condition or freshness checks sensor launches.
    run_tags: dict[str, str] = {}
    # "freshness_checks": the checks it runs (``asset/key:check_name``), evaluated on the host.
    check_keys: tuple[str, ...] = ()


class ResourceSnap(Record, frozen=True, kw_only=True):
    """A resource key and the class behind it."""

    name: str
    type: str


class ModuleErrorSnap(Record, frozen=True, kw_only=True):
    """A module under a location's defs folder that failed to load while the rest of the
    location loaded (``defs_errors = "isolate"``): the location is LOADED_WITH_ERRORS."""

    # The dotted module name, or the component folder holding the ``defs.yaml`` that failed.
    module: str
    # The module's own file (or the component's ``defs.yaml``): what it would have defined is
    # attributed to it.
    path: str
    # Where the error points: the user's line (the syntax error, the raising line, the YAML
    # value at fault), which may be in a file the module imports.
    file: str
    line: int
    error: ErrorInfo

    @property
    def where(self) -> str:
        """``file:line`` of the error."""
        return f"{self.file}:{self.line}"


class LocationSnap(Record, frozen=True, kw_only=True, tag_field="__type__", tag="LocationSnap"):
    """Everything one code location defines, plus the environment that loaded it."""

    name: str
    assets: tuple[AssetNodeSnap, ...] = ()
    jobs: tuple[JobSnap, ...] = ()
    schedules: tuple[ScheduleSnap, ...] = ()
    sensors: tuple[SensorSnap, ...] = ()
    resources: tuple[ResourceSnap, ...] = ()
    asset_checks: tuple[AssetCheckSnap, ...] = ()
    executor: str | None = None
    python_version: str = ""
    python_executable: str = ""
    bakehouse_version: str = ""
    packages: dict[str, str] = {}
    module: str = ""
    load_seconds: float = 0.0
    # Modules of the defs folder that failed to load and were left out; the location is then
    # LOADED_WITH_ERRORS. Added with a default: snapshots from older code servers decode as
    # loaded without errors.
    module_errors: tuple[ModuleErrorSnap, ...] = ()


class LoadFailure(Record, frozen=True, kw_only=True, tag_field="__type__", tag="LoadFailure"):
    """A location whose code could not be loaded, with the error as data."""

    name: str
    error: ErrorInfo
    python_version: str = ""
    python_executable: str = ""


# What a code server answers for its snapshot; the top-level "__type__" tag tells which.
Snapshot = LocationSnap | LoadFailure


def dumps(snapshot: Snapshot) -> str:
    """JSON for `snapshot`, wrapped with the protocol version."""
    return envelope.dumps(snapshot)


def loads(text: str | bytes) -> Snapshot:
    """Parse what `dumps` wrote (or a version in `READABLE_PROTOCOLS`); a wrong version or
    shape is a `ProtocolError`."""
    body: Snapshot = envelope.loads(text, Snapshot, what="snapshot")
    return body
