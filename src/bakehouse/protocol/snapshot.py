"""Snapshots: a code location's definitions as plain typed data, the only view the host has.

Frozen keyword-only dataclasses of primitives and other snapshots, written as JSON with a type
tag and the protocol version. New fields get defaults; renaming one bumps the version.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from bakehouse.errors import ErrorInfo, ProtocolError

PROTOCOL_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class PartitionsSnap:
    """How an asset or job is partitioned: the definition's parameters, from which the host can
    compute keys without user code (Dagster's rules, as `authoring.time_window_partitions`)."""

    # "static", "time_window", "multi" or "dynamic".
    kind: str
    # static: the keys, in order.
    keys: tuple[str, ...] = ()
    # time_window: windows between ticks of the cron schedule in the time zone, from the first
    # tick at or after start (ISO 8601 with offset) to end; keys formatted with fmt.
    cron_schedule: str | None = None
    start: str | None = None
    end: str | None = None
    timezone: str | None = None
    fmt: str | None = None
    end_offset: int = 0
    # "HOURLY", "DAILY", "WEEKLY" or "MONTHLY" when the schedule has one of those shapes.
    schedule_type: str | None = None
    # dynamic: the definition's name (its keys live in the instance).
    name: str | None = None
    # multi: the two dimensions, in name order.
    dimensions: tuple[PartitionDimensionSnap, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PartitionDimensionSnap:
    """One named dimension of a multi-partitioned asset."""

    name: str
    partitions: PartitionsSnap


@dataclass(frozen=True, kw_only=True)
class BackfillPolicySnap:
    """How a backfill splits an asset's partitions into runs (Dagster's `BackfillPolicy`)."""

    # None: one run for all of a backfill's partitions (single_run); N: at most N per run.
    max_partitions_per_run: int | None = 1


@dataclass(frozen=True, kw_only=True)
class AssetNodeSnap:
    """One asset as the host sees it."""

    key: str
    deps: tuple[str, ...] = ()
    group: str = "default"
    kinds: tuple[str, ...] = ()
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
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


@dataclass(frozen=True, kw_only=True)
class AssetCheckSnap:
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


@dataclass(frozen=True, kw_only=True)
class JobSnap:
    """A job and the keys it selects."""

    name: str
    asset_keys: tuple[str, ...] = ()
    selection: str = ""
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    source_file: str | None = None
    source_line: int | None = None
    # The partitions a run of the job picks one of (the job's, else its assets'), or None.
    partitions: PartitionsSnap | None = None


@dataclass(frozen=True, kw_only=True)
class ScheduleSnap:
    """A schedule: which job, and when."""

    name: str
    job_name: str | None = None
    cron_schedule: str = ""
    execution_timezone: str | None = None
    default_status: str = "STOPPED"
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class SensorSnap:
    """A sensor: which job it may launch, and how often it is evaluated."""

    name: str
    job_name: str | None = None
    job_names: tuple[str, ...] = ()
    minimum_interval_seconds: int = 30
    default_status: str = "STOPPED"
    description: str | None = None
    # "standard", "asset" (fed an asset's materializations) or "run_status" (fed finished runs).
    kind: str = "standard"
    asset_key: str | None = None
    run_status: str | None = None
    monitored_jobs: tuple[str, ...] = ()
    asset_selection: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ResourceSnap:
    """A resource key and the class behind it."""

    name: str
    type: str


@dataclass(frozen=True, kw_only=True)
class LocationSnap:
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
    packages: dict[str, str] = field(default_factory=dict)
    module: str = ""
    load_seconds: float = 0.0


@dataclass(frozen=True, kw_only=True)
class LoadFailure:
    """A location whose code could not be loaded, with the error as data."""

    name: str
    error: ErrorInfo
    python_version: str = ""
    python_executable: str = ""


_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        PartitionsSnap,
        PartitionDimensionSnap,
        BackfillPolicySnap,
        AssetNodeSnap,
        AssetCheckSnap,
        JobSnap,
        ScheduleSnap,
        SensorSnap,
        ResourceSnap,
        LocationSnap,
        LoadFailure,
    )
}


def _encode(value: Any) -> Any:
    if isinstance(value, ErrorInfo):
        return {"__type__": "ErrorInfo", **value.to_dict()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {"__type__": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = _encode(getattr(value, f.name))
        return out
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


@functools.cache
def _tuple_fields(cls: type) -> frozenset[str]:
    """Fields typed as tuples (or optional tuples): JSON brings them back as lists."""
    found = set()
    for name, hint in typing.get_type_hints(cls).items():
        options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        if any(typing.get_origin(option) is tuple for option in options):
            found.add(name)
    return frozenset(found)


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get("__type__")
    if tag is None:
        return {k: _decode(v) for k, v in value.items()}
    if tag == "ErrorInfo":
        return ErrorInfo.from_dict(value)
    cls = _TYPES.get(tag)
    if cls is None:
        raise ProtocolError(f"unknown snapshot type {tag!r}")
    tuple_fields = _tuple_fields(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in value:
            decoded = _decode(value[f.name])
            if isinstance(decoded, list) and f.name in tuple_fields:
                decoded = tuple(decoded)
            kwargs[f.name] = decoded
    # Fields this version does not know are ignored: newer senders only add fields.
    return cls(**kwargs)


def dumps(snapshot: LocationSnap | LoadFailure) -> str:
    """JSON for `snapshot`, wrapped with the protocol version."""
    return json.dumps({"protocol": PROTOCOL_VERSION, "body": _encode(snapshot)})


def loads(text: str) -> LocationSnap | LoadFailure:
    """Parse what `dumps` wrote; a wrong version or shape is a `ProtocolError`."""
    try:
        envelope = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProtocolError(f"snapshot is not JSON: {exc}") from None
    if not isinstance(envelope, dict) or envelope.get("protocol") != PROTOCOL_VERSION:
        got = envelope.get("protocol") if isinstance(envelope, dict) else None
        raise ProtocolError(
            f"snapshot protocol {got!r} is not {PROTOCOL_VERSION}: the location runs a different "
            "bakehouse version than the host"
        )
    body = _decode(envelope.get("body"))
    if not isinstance(body, (LocationSnap, LoadFailure)):
        raise ProtocolError("snapshot body is neither a LocationSnap nor a LoadFailure")
    return body
