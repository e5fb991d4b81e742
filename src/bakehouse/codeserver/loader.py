"""Code-server side: import a location's module, validate its `Definitions`, build its snapshot.

Runs in the location's own interpreter. Every failure becomes a `LoadFailure` carrying the
error as data, never an exception for the caller. With ``defs_errors = "isolate"`` (the
default; the host passes it as `DEFS_ERRORS_ENV`), a module of the defs folder that fails to
load is left out and listed in the snapshot's `module_errors` instead.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from bakehouse.authoring.assets import AssetsDefinition
from bakehouse.authoring.definitions_class import Definitions
from bakehouse.authoring.freshness import FreshnessPolicy
from bakehouse.authoring.loading import (
    ModuleLoadError,
    isolating_module_errors,
    isolation_from_env,
    load_definitions,
)
from bakehouse.authoring.metadata import normalize_metadata
from bakehouse.codeserver.failed_modules import missing_nodes
from bakehouse.codeserver.lifetime import collector_paused
from bakehouse.errors import ErrorInfo
from bakehouse.protocol.snapshot import (
    AssetCheckSnap,
    AssetNodeSnap,
    AutomationConditionSnap,
    BackfillPolicySnap,
    DynamicPartitionsSnap,
    FreshnessPolicySnap,
    JobSnap,
    LoadFailure,
    LocationSnap,
    ModuleErrorSnap,
    MultiPartitionsSnap,
    PartitionDimensionSnap,
    PartitionsSnap,
    ResourceSnap,
    ScheduleSnap,
    SensorSnap,
    StaticPartitionsSnap,
    TimeWindowPartitionsSnap,
)


def _packages() -> dict[str, str]:
    """Installed distributions and versions, read from ``*.dist-info`` folder names.

    Reading names from the folders takes about a millisecond; `importlib.metadata` parses every
    METADATA file and costs a hundred times more on each location load.
    """
    found: dict[str, str] = {}
    for entry in sys.path:
        folder = Path(entry or ".")
        if not folder.is_dir():
            continue
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for item in names:
            if item.endswith(".dist-info"):
                name, _, version = item[: -len(".dist-info")].partition("-")
                found.setdefault(name.lower().replace("_", "-"), version)
    return found


def _type_name(resource: object) -> str:
    cls = type(resource)
    return f"{cls.__module__}.{cls.__qualname__}"


def module_error_snap(error: ModuleLoadError) -> ModuleErrorSnap:
    """A skipped module's error as plain data."""
    return ModuleErrorSnap(
        module=error.module,
        path=error.path,
        file=error.source.file,
        line=error.source.line,
        error=error.error,
    )


def build_snapshot(
    defs: Definitions,
    *,
    name: str,
    module: str,
    load_seconds: float,
    module_errors: Sequence[ModuleLoadError] = (),
) -> LocationSnap:
    """Describe `defs` as plain data, with the errors of the defs modules left out."""
    import bakehouse

    graph = defs.resolve_asset_graph()
    assets: list[AssetNodeSnap] = []
    for key, spec in graph.specs.items():
        assets_def: AssetsDefinition | None = graph.assets_def_by_key.get(key)
        assets.append(
            AssetNodeSnap(
                key=key.to_user_string(),
                deps=tuple(d.to_user_string() for d in spec.deps),
                group=spec.group_name,
                kinds=tuple(sorted(spec.kinds)),
                description=spec.description,
                metadata=normalize_metadata(spec.metadata),
                tags=dict(spec.tags),
                owners=spec.owners,
                code_version=spec.code_version,
                step_key=assets_def.op_name if assets_def else None,
                is_external=assets_def is None,
                io_manager_key=spec.io_manager_key if assets_def else None,
                required_resources=tuple(sorted(assets_def.required_resource_keys))
                if assets_def
                else (),
                source_file=spec.source.file if spec.source else None,
                source_line=spec.source.line if spec.source else None,
                partitions=partitions_snap(spec.partitions_def),
                backfill_policy=_backfill_policy_snap(assets_def),
                config_schema=_config_schema(assets_def),
                function_name=getattr(assets_def.fn, "__name__", None) if assets_def else None,
                op_names=_op_names(assets_def),
                automation_condition=condition_snap(spec.automation_condition, graph.key_graph)
                if assets_def is not None
                else None,
                freshness_policy=_freshness_snap(spec.freshness_policy),
            )
        )
    errors = tuple(module_error_snap(e) for e in module_errors)
    assets += missing_nodes(
        [a.key for a in assets], sorted(k.to_user_string() for k in graph.undefined_keys), errors
    )
    jobs = tuple(
        JobSnap(
            name=job.name,
            asset_keys=tuple(k.to_user_string() for k in defs.resolve_job_keys(job)),
            selection=_job_selection(job),
            description=job.description,
            tags=dict(job.tags),
            source_file=job.source.file if job.source else None,
            source_line=job.source.line if job.source else None,
            partitions=partitions_snap(defs.resolve_job_partitions_def(job)),
            check_keys=tuple(k.to_user_string() for k in defs.resolve_job_check_keys(job)),
            run_config=dict(job.config or {}),
            op_config_schemas=_op_config_schemas(job),
        )
        for job in defs.all_jobs()
    )
    return LocationSnap(
        name=name,
        assets=tuple(assets),
        jobs=jobs,
        schedules=tuple(_schedule_snap(s) for s in defs.schedules),
        sensors=_sensors_with_default(defs, assets, graph.key_graph),
        resources=tuple(
            ResourceSnap(name=k, type=_type_name(v)) for k, v in sorted(defs.resources.items())
        ),
        asset_checks=_check_snaps(defs),
        executor=defs.executor.name if defs.executor else None,
        python_version=platform.python_version(),
        python_executable=sys.executable,
        bakehouse_version=bakehouse.__version__,
        packages=_packages(),
        module=module,
        load_seconds=round(load_seconds, 4),
        module_errors=errors,
    )


def _check_snaps(defs: Definitions) -> tuple[AssetCheckSnap, ...]:
    graph = defs.resolve_asset_graph()
    snaps = []
    for key in sorted(graph.check_specs):
        spec = graph.check_specs[key]
        source = graph.check_sources[key]
        snaps.append(
            AssetCheckSnap(
                name=spec.name,
                asset_key=key.asset_key.to_user_string(),
                description=spec.description,
                blocking=spec.blocking,
                step_key=graph.check_def_by_key[key].op_name,
                additional_deps=tuple(d.to_user_string() for d in spec.additional_deps),
                source_file=source.file if source else None,
                source_line=source.line if source else None,
                metadata=normalize_metadata(spec.metadata),
            )
        )
    return tuple(snaps)


def _freshness_snap(policy: FreshnessPolicy | None) -> FreshnessPolicySnap | None:
    """An asset's freshness policy as data (windows in seconds) for the host's daemon."""
    if policy is None:
        return None

    def seconds(delta: timedelta | None) -> float | None:
        return delta.total_seconds() if delta is not None else None

    return FreshnessPolicySnap(
        kind=policy.kind,
        fail_window_seconds=seconds(policy.fail_window),
        warn_window_seconds=seconds(policy.warn_window),
        deadline_cron=policy.deadline_cron,
        lower_bound_delta_seconds=seconds(policy.lower_bound_delta),
        timezone=policy.timezone,
    )


def _op_names(assets_def: AssetsDefinition | None) -> tuple[str, ...]:
    """The ops of a graph-backed asset (their config nests under the asset's), else ()."""
    from bakehouse.authoring.graph_assets import graph_of

    graph = graph_of(assets_def) if assets_def is not None else None
    return tuple(graph.node_names) if graph is not None else ()


def _op_config_schemas(job: Any) -> dict[str, dict[str, Any]]:
    """Each top-level op's `Config` schema of a job of ops (none for an asset job)."""
    from bakehouse.authoring.ops import OpDefinition

    graph = getattr(job, "graph", None)
    schemas: dict[str, dict[str, Any]] = {}
    for node in getattr(graph, "nodes", ()):
        definition = node.definition
        if isinstance(definition, OpDefinition) and definition.params.config is not None:
            schemas[node.name] = _schema_of(definition.params.config[1])
    return schemas


def _config_schema(assets_def: AssetsDefinition | None) -> dict[str, Any] | None:
    """The JSON schema of the step's `Config` class; {} if pydantic cannot describe it (the
    host then checks only that config goes to steps that take it)."""
    config = assets_def.params.config if assets_def is not None else None
    if config is None:
        return None
    return _schema_of(config[1])


def _schema_of(config_class: Any) -> dict[str, Any]:
    """The JSON schema pydantic writes for `config_class`; {} if it cannot describe it."""
    describe = getattr(config_class, "model_json_schema", None)
    try:
        return dict(describe()) if callable(describe) else {}
    except Exception:  # noqa: BLE001 - a field type without a JSON schema
        return {}


def _backfill_policy_snap(assets_def: AssetsDefinition | None) -> BackfillPolicySnap | None:
    """The step's backfill policy as data; None for external assets and assets with none."""
    policy = assets_def.backfill_policy if assets_def is not None else None
    if policy is None:
        return None
    return BackfillPolicySnap(max_partitions_per_run=policy.max_partitions_per_run)


def partitions_snap(partitions_def: Any) -> PartitionsSnap | None:
    """`partitions_def` as plain data; None when there is none."""
    if partitions_def is None:
        return None
    from bakehouse.authoring.partitions import (
        DynamicPartitionsDefinition,
        MultiPartitionsDefinition,
        StaticPartitionsDefinition,
    )
    from bakehouse.authoring.time_window_partitions import TimeWindowPartitionsDefinition

    if isinstance(partitions_def, StaticPartitionsDefinition):
        return StaticPartitionsSnap(keys=tuple(partitions_def.get_partition_keys()))
    if isinstance(partitions_def, TimeWindowPartitionsDefinition):
        return TimeWindowPartitionsSnap(
            cron_schedule=partitions_def.cron_schedule,
            start=partitions_def.start.isoformat(),
            end=partitions_def.end.isoformat() if partitions_def.end is not None else None,
            timezone=partitions_def.timezone,
            fmt=partitions_def.fmt,
            end_offset=partitions_def.end_offset,
            schedule_type=partitions_def.schedule_type,
        )
    if isinstance(partitions_def, MultiPartitionsDefinition):
        dims = []
        for dim in partitions_def.partitions_defs:
            inner = partitions_snap(dim.partitions_def)
            assert inner is not None
            dims.append(PartitionDimensionSnap(name=dim.name, partitions=inner))
        return MultiPartitionsSnap(dimensions=tuple(dims))
    if isinstance(partitions_def, DynamicPartitionsDefinition):
        return DynamicPartitionsSnap(name=partitions_def.name)
    # Another kind of definition: the host cannot compute its keys, so it travels as the keys
    # it has now (Dagster's PartitionsDefinition contract: get_partition_keys()).
    return StaticPartitionsSnap(keys=tuple(partitions_def.get_partition_keys()))


def _job_name(obj: Any) -> str | None:
    job = getattr(obj, "job", None)
    return getattr(job, "name", None) or getattr(obj, "job_name", None)


def _schedule_snap(schedule: Any) -> ScheduleSnap:
    return ScheduleSnap(
        name=schedule.name,
        job_name=_job_name(schedule),
        cron_schedule=str(getattr(schedule, "cron_schedule", "")),
        execution_timezone=getattr(schedule, "execution_timezone", None),
        default_status=_status(getattr(schedule, "default_status", "STOPPED")),
        description=getattr(schedule, "description", None),
    )


def _sensor_snap(sensor: Any) -> SensorSnap:
    asset_key = getattr(sensor, "asset_key", None)
    run_status = getattr(sensor, "run_status", None)
    return SensorSnap(
        name=sensor.name,
        job_name=_job_name(sensor),
        job_names=tuple(getattr(sensor, "job_names", ())),
        minimum_interval_seconds=int(getattr(sensor, "minimum_interval_seconds", 30) or 30),
        default_status=_status(getattr(sensor, "default_status", "STOPPED")),
        description=getattr(sensor, "description", None),
        kind=str(getattr(getattr(sensor, "kind", None), "value", "standard")),
        asset_key=asset_key.to_user_string() if asset_key is not None else None,
        run_status=str(getattr(run_status, "value", run_status)) if run_status else None,
        monitored_jobs=tuple(getattr(sensor, "monitored_jobs", ())),
        asset_selection=tuple(k.to_user_string() for k in sensor.asset_selection)
        if getattr(sensor, "asset_selection", None) is not None
        else None,
        run_tags=dict(getattr(sensor, "run_tags", None) or {}),
        check_keys=tuple(getattr(sensor, "check_keys", None) or ()),
    )


def condition_snap(condition: Any, key_graph: Any) -> AutomationConditionSnap | None:
    """An `AutomationCondition` tree as data; its dependency selections resolved to keys."""
    if condition is None:
        return None
    from bakehouse.authoring.asset_selection import coerce_selection

    def keys(selection: Any) -> tuple[str, ...]:
        return tuple(sorted(coerce_selection(selection).resolve(key_graph)))

    def node(condition: Any) -> AutomationConditionSnap:
        return AutomationConditionSnap(
            kind=condition.kind,
            name=condition.name,
            label=condition.label,
            children=tuple(node(c) for c in condition.operands),
            cron_schedule=condition.cron_schedule,
            cron_timezone=condition.cron_timezone,
            lookback_seconds=condition.lookback_seconds,
            blocking_only=condition.blocking_only,
            allow=keys(condition.allow_selection)
            if condition.allow_selection is not None
            else None,
            ignore=keys(condition.ignore_selection)
            if condition.ignore_selection is not None
            else (),
        )

    return node(condition)


def _sensors_with_default(
    defs: Definitions, assets: list[AssetNodeSnap], key_graph: Any
) -> tuple[SensorSnap, ...]:
    """The location's sensors, plus ``default_automation_condition_sensor`` when an asset with
    an automation condition is targeted by no AutomationConditionSensorDefinition (Dagster's
    rule: the default sensor takes the rest)."""
    from bakehouse.authoring.automation_sensor import (
        DEFAULT_AUTOMATION_CONDITION_SENSOR_NAME,
        DEFAULT_INTERVAL_SECONDS,
        AutomationConditionSensorDefinition,
    )

    sensors: list[SensorSnap] = []
    targeted: set[str] = set()
    for sensor in defs.sensors:
        if isinstance(sensor, AutomationConditionSensorDefinition):
            keys = tuple(sorted(sensor.target.resolve(key_graph)))
            targeted.update(keys)
            sensors.append(
                SensorSnap(
                    name=sensor.name,
                    minimum_interval_seconds=sensor.minimum_interval_seconds,
                    default_status=_status(sensor.default_status),
                    description=sensor.description,
                    kind="automation_condition",
                    asset_selection=keys,
                    run_tags=dict(sensor.run_tags),
                )
            )
        else:
            sensors.append(_sensor_snap(sensor))
    rest = tuple(
        a.key for a in assets if a.automation_condition is not None and a.key not in targeted
    )
    if rest and DEFAULT_AUTOMATION_CONDITION_SENSOR_NAME not in {s.name for s in sensors}:
        sensors.append(
            SensorSnap(
                name=DEFAULT_AUTOMATION_CONDITION_SENSOR_NAME,
                minimum_interval_seconds=DEFAULT_INTERVAL_SECONDS,
                default_status="STOPPED",
                description="Evaluates the automation conditions of the assets no other "
                "automation condition sensor targets.",
                kind="automation_condition",
                asset_selection=tuple(sorted(rest)),
            )
        )
    return tuple(sensors)


def _status(value: Any) -> str:
    return str(getattr(value, "value", value))


def load_location(
    module_name: str, *, name: str, defs_module: str | None = None
) -> tuple[Definitions | None, LocationSnap | LoadFailure]:
    """Load the location: its definitions and their snapshot, or why it could not be loaded."""
    started = time.perf_counter()
    # The collector runs again once the definitions and their snapshot are made (`lifetime`).
    try:
        with collector_paused():
            with isolating_module_errors(isolation_from_env()) as module_errors:
                defs = load_definitions(module_name, defs_module=defs_module)
            return defs, build_snapshot(
                defs,
                name=name,
                module=module_name or defs_module or "",
                load_seconds=time.perf_counter() - started,
                module_errors=module_errors,
            )
    except Exception as exc:  # noqa: BLE001 - a failed load is reported as data
        return None, LoadFailure(
            name=name,
            error=ErrorInfo.from_exception(exc),
            python_version=platform.python_version(),
            python_executable=sys.executable,
        )


def load_snapshot(
    module_name: str, *, name: str, defs_module: str | None = None
) -> LocationSnap | LoadFailure:
    """Load the location and describe it, or describe why it could not be loaded."""
    return load_location(module_name, name=name, defs_module=defs_module)[1]


def _job_selection(job: Any) -> str:
    """What a job runs, as the UI shows it: its asset selection, or its ops."""
    selection = getattr(job, "selection", None)
    if selection is not None:
        return str(selection.description)
    return "ops: " + ", ".join(job.op_names)
