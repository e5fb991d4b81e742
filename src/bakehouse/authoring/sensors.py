"""Sensors: functions the daemon evaluates every so often that may request runs.

`@sensor` keeps a cursor of its own; `@asset_sensor` is called with an asset's newest
materialization; `@run_status_sensor` / `@run_failure_sensor` with each run that ended so.
"""

from __future__ import annotations

import enum
import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.jobs import AssetJobDefinition, job_for_target
from bakehouse.authoring.loading import register_definition_kind
from bakehouse.authoring.run_request import (
    AddDynamicPartitionsRequest,
    DefaultSensorStatus,
    DeleteDynamicPartitionsRequest,
    DynamicPartitionsRequest,
    RunRequest,
    SensorResult,
    SkipReason,
)
from bakehouse.authoring.source import source_of_function
from bakehouse.errors import DefinitionError
from bakehouse.graph.keys import AssetKey, CoercibleToAssetKey, coerce_key
from bakehouse.storage.records import RunStatus

if TYPE_CHECKING:
    from bakehouse.authoring.graphs import JobDefinition

DEFAULT_MINIMUM_INTERVAL_SECONDS = 30


# Dagster's name for a run's status. There is one enum: the one storage keeps on each run.
DagsterRunStatus = RunStatus


class SensorKind(str, enum.Enum):
    """How the daemon feeds a sensor."""

    STANDARD = "standard"
    ASSET = "asset"
    RUN_STATUS = "run_status"
    # build_sensor_for_freshness_checks: evaluated by the host's daemon from storage.
    FRESHNESS_CHECKS = "freshness_checks"


class SensorEvaluationContext:
    """What a sensor function receives: its cursor, the last tick time and a logger."""

    def __init__(
        self,
        *,
        cursor: str | None = None,
        last_tick_completion_time: float | None = None,
        sensor_name: str = "sensor",
        resources: Mapping[str, Any] | None = None,
        instance: Any = None,
    ) -> None:
        self.cursor = cursor
        # Only a test gives one (`build_sensor_context(instance=...)`); see `instance`.
        self._instance = instance
        self.last_tick_completion_time = last_tick_completion_time
        # Kept for Dagster code that reads it; the last *completed* tick is what we know.
        self.last_completion_time = last_tick_completion_time
        self.sensor_name = sensor_name
        self.log = logging.getLogger(f"bakehouse.sensor.{sensor_name}")
        self.resources = dict(resources or {})
        self._cursor_updated = False

    def update_cursor(self, cursor: str | None) -> None:
        """Store `cursor` for the next evaluation (kept even if this tick requests nothing)."""
        self.cursor = cursor
        self._cursor_updated = True

    @property
    def instance(self) -> Any:
        """The instance a test passed to `build_sensor_context`; in a deployment there is none:
        sensors run in the code server, which does not open storage."""
        if self._instance is not None:
            return self._instance
        # Dagster sensors often call context.instance.add_dynamic_partitions(...); say what to
        # do instead rather than fail with a bare AttributeError.
        raise AttributeError(
            f"sensor '{self.sensor_name}': a sensor's context has no instance in bakehouse "
            "(sensors run in the code server, which does not open storage). To add or delete "
            "dynamic partition keys, return dg.SensorResult(dynamic_partitions_requests="
            "[partitions_def.build_add_request(keys)]); the daemon applies them before it "
            "launches the run requests"
        )


def build_sensor_context(
    instance: Any = None,
    cursor: str | None = None,
    sensor_name: str | None = None,
    resources: Mapping[str, Any] | None = None,
    last_tick_completion_time: float | None = None,
) -> SensorEvaluationContext:
    """A context for calling a sensor function in a test (Dagster's argument order: `instance`
    first, e.g. ``DagsterInstance.ephemeral()``)."""
    return SensorEvaluationContext(
        cursor=cursor,
        sensor_name=sensor_name or "sensor",
        resources=resources,
        instance=instance,
        last_tick_completion_time=last_tick_completion_time,
    )


@dataclass(frozen=True)
class AssetMaterialization:
    """The materialization an asset sensor is called with."""

    asset_key: AssetKey
    metadata: Mapping[str, Any] = field(default_factory=dict)
    partition: str | None = None


@dataclass(frozen=True)
class EventLogEntry:
    """One stored materialization event, as an asset sensor sees it."""

    run_id: str
    timestamp: float
    storage_id: int
    asset_materialization: AssetMaterialization

    @property
    def asset_key(self) -> AssetKey:
        """The materialized asset."""
        return self.asset_materialization.asset_key

    @property
    def dagster_event(self) -> MaterializationEventInfo:
        """The event's kind and asset, for code that reads ``entry.dagster_event.asset_key``."""
        return MaterializationEventInfo(self.asset_materialization)


@dataclass(frozen=True)
class MaterializationEventInfo:
    """What Dagster code reads from an entry's ``dagster_event``."""

    materialization: AssetMaterialization
    event_type_value: str = "ASSET_MATERIALIZATION"

    @property
    def asset_key(self) -> AssetKey:
        """The materialized asset."""
        return self.materialization.asset_key

    @property
    def partition(self) -> str | None:
        """The materialized partition, if any."""
        return self.materialization.partition

    @property
    def is_step_materialization(self) -> bool:
        """Always True: the only events entries hold here are materializations."""
        return True


@dataclass(frozen=True)
class RunInfo:
    """A finished run, as a run status sensor sees it (``context.dagster_run``)."""

    run_id: str
    status: DagsterRunStatus
    job_name: str | None
    tags: Mapping[str, str]
    asset_selection: tuple[str, ...] = ()


class RunStatusSensorContext(SensorEvaluationContext):
    """What a run status sensor receives: the run that reached the status."""

    def __init__(self, *, dagster_run: RunInfo, failure_message: str | None = None, **kw: Any):
        super().__init__(**kw)
        self.dagster_run = dagster_run
        self.failure_message = failure_message


RunFailureSensorContext = RunStatusSensorContext

SensorFunction = Callable[..., Any]


def _job_names(
    job: AssetJobDefinition | JobDefinition | None,
    jobs: Sequence[AssetJobDefinition | JobDefinition] | None,
) -> list[str]:
    names = [job.name] if job is not None else []
    names.extend(j.name for j in jobs or ())
    return names


@register_definition_kind("sensors")
class SensorDefinition:
    """A function the daemon evaluates at most every `minimum_interval_seconds`."""

    def __init__(
        self,
        name: str,
        *,
        evaluation_fn: SensorFunction,
        job: AssetJobDefinition | JobDefinition | None = None,
        jobs: Sequence[AssetJobDefinition | JobDefinition] | None = None,
        asset_selection: Sequence[CoercibleToAssetKey] | None = None,
        minimum_interval_seconds: int | None = None,
        description: str | None = None,
        default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
        kind: SensorKind = SensorKind.STANDARD,
        asset_key: AssetKey | None = None,
        run_status: DagsterRunStatus | None = None,
        monitored_jobs: Sequence[str] | None = None,
    ) -> None:
        self.name = name
        self.source = source_of_function(evaluation_fn)
        self.evaluation_fn = evaluation_fn
        self.jobs = [j for j in ([job] if job else []) + list(jobs or ())]
        self.job_names = _job_names(job, jobs)
        self.job_name = self.job_names[0] if len(self.job_names) == 1 else None
        self.job = self.jobs[0] if len(self.jobs) == 1 else None
        self.asset_selection = (
            [coerce_key(k) for k in asset_selection] if asset_selection is not None else None
        )
        interval = (
            DEFAULT_MINIMUM_INTERVAL_SECONDS
            if minimum_interval_seconds is None
            else int(minimum_interval_seconds)
        )
        if interval < 1:
            raise DefinitionError(
                f"sensor '{name}': minimum_interval_seconds must be at least 1", source=self.source
            )
        self.minimum_interval_seconds = interval
        self.description = description
        self.default_status = DefaultSensorStatus(default_status)
        self.kind = kind
        self.asset_key = asset_key
        self.run_status = run_status
        self.monitored_jobs = list(monitored_jobs or [])
        # A freshness checks sensor's checks (``asset/key:check_name``) and its runs' tags.
        self.check_keys: list[str] = []
        self.run_tags: dict[str, str] = {}

    def _call(self, context: SensorEvaluationContext, *extra: Any) -> Any:
        params = list(inspect.signature(self.evaluation_fn).parameters)
        if not params:
            return self.evaluation_fn()
        positional = extra[: len(params) - 1]
        return self.evaluation_fn(
            context, *positional, **_resource_kwargs(params[1 + len(positional) :], context)
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the sensor's function directly, as Dagster's testing docs do, and return what it
        returned (a `SensorResult`, `RunRequest`s, a `SkipReason`; what a generator yields, as
        a list). Parameters named after resources get them from the context's `resources`.

        An asset sensor reads the newest materialization of its asset after the context's
        cursor from the context's instance (`build_sensor_context(instance=...)`); with none,
        it returns ``[SkipReason]``, else what its function returned for that event, and moves
        the cursor past it.
        """
        if self.kind != SensorKind.ASSET or len(args) + len(kwargs) != 1:
            if len(args) == 1 and not kwargs and isinstance(args[0], SensorEvaluationContext):
                result = self._call(args[0])  # resource parameters come from the context
            else:
                result = self.evaluation_fn(*args, **kwargs)
            # A generator's requests as a list, so tests can take its len(), as in Dagster.
            return list(result) if inspect.isgenerator(result) else result
        context = args[0] if args else next(iter(kwargs.values()))
        entry = _latest_entry_after(context.instance, self.asset_key, context.cursor)
        if entry is None:
            return [SkipReason(f"no new materialization of {self.asset_key}")]
        result = self._call(context, entry)
        items = list(result) if inspect.isgenerator(result) else result
        context.update_cursor(str(entry.storage_id))
        return items

    def evaluate(self, context: SensorEvaluationContext, *extra: Any) -> SensorResult:
        """Call the function and normalize what it returned or yielded into a `SensorResult`."""
        result = self._call(context, *extra)
        items = list(result) if inspect.isgenerator(result) else result
        cursor = context.cursor if context._cursor_updated else None
        if isinstance(items, SensorResult):
            skip = items.skip_reason
            return SensorResult(
                run_requests=list(items.run_requests or []),
                skip_reason=SkipReason(skip) if isinstance(skip, str) else skip,
                cursor=items.cursor if items.cursor is not None else cursor,
                dynamic_partitions_requests=self._dynamic_requests(items),
            )
        if items is None:
            return SensorResult(run_requests=[], cursor=cursor)
        if isinstance(items, (RunRequest, SkipReason)):
            items = [items]
        if isinstance(items, list):
            requests = [i for i in items if isinstance(i, RunRequest)]
            skips = [i for i in items if isinstance(i, SkipReason)]
            if len(requests) + len(skips) == len(items):
                return SensorResult(
                    run_requests=requests,
                    skip_reason=skips[0] if skips and not requests else None,
                    cursor=cursor,
                )
        raise DefinitionError(
            f"sensor '{self.name}' returned {type(items).__name__}; return or yield RunRequest "
            "or SkipReason, or return a SensorResult",
            source=self.source,
        )

    def _dynamic_requests(self, result: SensorResult) -> list[DynamicPartitionsRequest]:
        requests = list(result.dynamic_partitions_requests or [])
        for n, request in enumerate(requests):
            if not isinstance(
                request, (AddDynamicPartitionsRequest, DeleteDynamicPartitionsRequest)
            ):
                raise DefinitionError(
                    f"sensor '{self.name}' returned dynamic_partitions_requests[{n}] = "
                    f"{request!r}; use partitions_def.build_add_request(keys) or "
                    "build_delete_request(keys)",
                    source=self.source,
                )
        return requests

    def __repr__(self) -> str:
        return f"<SensorDefinition {self.name} ({self.kind.value})>"


def _resource_kwargs(names: Sequence[str], context: Any) -> dict[str, Any]:
    """The resources a sensor or schedule function names as parameters, from its context."""
    resources: Mapping[str, Any] = getattr(context, "resources", None) or {}
    return {name: resources[name] for name in names if name in resources}


def _latest_entry_after(
    instance: Any, asset_key: AssetKey | None, cursor: str | None
) -> EventLogEntry | None:
    """The newest materialization of `asset_key` stored after storage id `cursor`, if any."""
    entry = instance.get_latest_materialization_event(asset_key)
    if not isinstance(entry, EventLogEntry):
        return None
    after = int(cursor) if cursor and cursor.isdigit() else 0
    return entry if entry.storage_id > after else None


def _target_job(
    target: Any,
    name: str,
    fn: SensorFunction,
    job: AssetJobDefinition | JobDefinition | None,
    jobs: Sequence[AssetJobDefinition | JobDefinition] | None,
) -> AssetJobDefinition | JobDefinition | None:
    """The job of a sensor: `job`, or the one ``target=`` (Dagster's newer spelling) names."""
    if target is None:
        return job
    if job is not None or jobs:
        raise DefinitionError(
            f"sensor '{name}': give target= or job=/jobs=, not both", source=source_of_function(fn)
        )
    return job_for_target(target, name, source_of_function(fn))


def sensor(
    job: AssetJobDefinition | JobDefinition | None = None,
    *,
    jobs: Sequence[AssetJobDefinition | JobDefinition] | None = None,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    asset_selection: Sequence[CoercibleToAssetKey] | None = None,
    target: Any = None,
) -> Callable[[SensorFunction], SensorDefinition]:
    """Decorate ``fn(context)`` that yields `RunRequest`s (or a `SkipReason`), keeping a cursor
    with ``context.update_cursor``. `target` (a job or assets) is what its requests run."""

    def build(fn: SensorFunction) -> SensorDefinition:
        return SensorDefinition(
            name or fn.__name__,
            evaluation_fn=fn,
            job=_target_job(target, name or fn.__name__, fn, job, jobs),
            jobs=jobs,
            asset_selection=asset_selection,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description or inspect.getdoc(fn),
            default_status=default_status,
        )

    return build


def asset_sensor(
    asset_key: CoercibleToAssetKey,
    *,
    job: AssetJobDefinition | JobDefinition | None = None,
    jobs: Sequence[AssetJobDefinition | JobDefinition] | None = None,
    name: str | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
    target: Any = None,
) -> Callable[[SensorFunction], SensorDefinition]:
    """Decorate ``fn(context, asset_event)``, called with the newest materialization of
    `asset_key` since the last tick. `target` (a job or assets) is what its requests run."""

    def build(fn: SensorFunction) -> SensorDefinition:
        return SensorDefinition(
            name or fn.__name__,
            evaluation_fn=fn,
            job=_target_job(target, name or fn.__name__, fn, job, jobs),
            jobs=jobs,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description or inspect.getdoc(fn),
            default_status=default_status,
            kind=SensorKind.ASSET,
            asset_key=coerce_key(asset_key),
        )

    return build


def run_status_sensor(
    run_status: DagsterRunStatus,
    *,
    name: str | None = None,
    monitored_jobs: Sequence[AssetJobDefinition | JobDefinition | str] | None = None,
    request_job: AssetJobDefinition | JobDefinition | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
) -> Callable[[SensorFunction], SensorDefinition]:
    """Decorate ``fn(context)``, called once for each run that reached `run_status`."""

    def build(fn: SensorFunction) -> SensorDefinition:
        return SensorDefinition(
            name or fn.__name__,
            evaluation_fn=fn,
            job=request_job,
            minimum_interval_seconds=minimum_interval_seconds,
            description=description or inspect.getdoc(fn),
            default_status=default_status,
            kind=SensorKind.RUN_STATUS,
            run_status=DagsterRunStatus(run_status),
            monitored_jobs=[j if isinstance(j, str) else j.name for j in monitored_jobs or ()],
        )

    return build


def run_failure_sensor(
    fn: SensorFunction | None = None,
    *,
    name: str | None = None,
    monitored_jobs: Sequence[AssetJobDefinition | JobDefinition | str] | None = None,
    request_job: AssetJobDefinition | JobDefinition | None = None,
    minimum_interval_seconds: int | None = None,
    description: str | None = None,
    default_status: DefaultSensorStatus = DefaultSensorStatus.STOPPED,
) -> Any:
    """Decorate ``fn(context)``, called once for each run that failed."""
    decorator = run_status_sensor(
        DagsterRunStatus.FAILURE,
        name=name,
        monitored_jobs=monitored_jobs,
        request_job=request_job,
        minimum_interval_seconds=minimum_interval_seconds,
        description=description,
        default_status=default_status,
    )
    return decorator(fn) if fn is not None else decorator
