"""Executing a run: resolve config and resources, then execute the plan's steps in order.

Records RUN_START, each step's events and RUN_SUCCESS or RUN_FAILURE. A failed step skips
what depends on it; independent steps still run.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bakehouse.authoring.check_spec import AssetCheckKey
from bakehouse.authoring.context import InitResourceContext, RunLogger
from bakehouse.authoring.definitions_class import Definitions
from bakehouse.authoring.graph_assets import graph_of
from bakehouse.errors import ErrorInfo, ExecutionError, RunConfigError
from bakehouse.execution.events import EventWriter
from bakehouse.execution.fs_io_manager import FilesystemIOManager
from bakehouse.execution.instance import as_dagster_instance
from bakehouse.execution.io_managers import IOManager
from bakehouse.execution.partitions import (
    check_run_partition,
    run_partition_keys,
    step_partition_keys,
)
from bakehouse.execution.plan import ExecutionPlan, build_plan
from bakehouse.execution.resource_setup import ResourceOpener
from bakehouse.execution.step import StepEnvironment, execute_step
from bakehouse.execution.step_executor import RunSteps, StepExecutor
from bakehouse.execution.step_retry import job_retry_policy
from bakehouse.execution.step_scheduler import StepScheduler
from bakehouse.graph.keys import AssetKey
from bakehouse.storage.compute_logs import LocalComputeLogManager
from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import EventType


@dataclass
class RunOutcome:
    """How a run ended, step by step."""

    run_id: str
    success: bool
    succeeded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    error: ErrorInfo | None = None
    # Filled for in-process callers (`materialize`): values by key, user exceptions by step.
    values: dict[AssetKey, Any] = field(default_factory=dict)
    exceptions: dict[str, BaseException] = field(default_factory=dict)
    run_exception: BaseException | None = None


def _step_configs(plan: ExecutionPlan, run_config: Mapping[str, Any]) -> dict[str, Any]:
    """Validate each step's config against its `Config` class; errors name the asset and field."""
    ops = run_config.get("ops", {}) if run_config else {}
    if not isinstance(ops, Mapping):
        raise RunConfigError("run_config['ops'] must be a mapping of asset name to config")
    unknown = (
        set(ops) - {s.key for s in plan.steps} - {s.assets_def.fn.__name__ for s in plan.steps}
    )
    if unknown:
        raise RunConfigError(
            f"run_config names {sorted(unknown)}, which are not assets in this run "
            f"(assets: {[s.key for s in plan.steps]})"
        )
    configs: dict[str, Any] = {}
    for step in plan.steps:
        config_param = step.assets_def.params.config
        entry = ops.get(step.key, ops.get(step.assets_def.fn.__name__))
        if graph_of(step.assets_def) is not None:
            # A graph-backed asset's step passes its ops their config: {"ops": {op: {...}}}.
            nested = entry.get("ops") if isinstance(entry, Mapping) else None
            configs[step.key] = dict(nested) if isinstance(nested, Mapping) else {}
            continue
        # Config the asset would never see is a mistake to report, not to drop.
        stray = sorted(set(entry) - {"config"}) if isinstance(entry, Mapping) else []
        if stray:
            raise RunConfigError(
                f"run_config for asset '{step.key}' has {stray} beside 'config'; put the values "
                f"under it: {{'ops': {{'{step.key}': {{'config': {{...}}}}}}}}"
            )
        if config_param is None:
            if entry is not None and (not isinstance(entry, Mapping) or entry.get("config")):
                raise RunConfigError(
                    f"run_config gives config to asset '{step.key}', which takes no Config "
                    "parameter"
                )
            continue
        cls = config_param[1]
        if isinstance(entry, cls):
            configs[step.key] = entry
            continue
        if entry is not None and not isinstance(entry, Mapping):
            raise RunConfigError(
                f"run_config for asset '{step.key}' is a {type(entry).__name__}, not a "
                f"{cls.__name__} or a dict"
            )
        values = entry.get("config", {}) if isinstance(entry, Mapping) else {}
        try:
            configs[step.key] = cls(**values)
        except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError lists each field at fault
            raise RunConfigError(f"invalid config for asset '{step.key}': {exc}") from None
    return configs


@contextlib.contextmanager
def _open_resources(
    steps: RunSteps, instance: InstanceProtocol | None, writer: EventWriter
) -> Iterator[tuple[dict[str, Any], dict[str, IOManager]]]:
    """Set up each resource the plan (and the run's hooks) need, once, and tear them down when
    the run ends."""
    defs, plan = steps.defs, steps.plan
    available = {**defs.resources, **(steps.resource_overrides or {})}
    needed: set[str] = {k for hook in steps.hooks for k in hook.required_resource_keys}
    manager_keys: set[str] = set()
    for step in plan.steps:
        needed |= step.assets_def.required_resource_keys
        manager_keys |= {s.io_manager_key for s in step.assets_def.specs}
        for input_key in step.assets_def.params.inputs.values():
            manager_keys.add(_manager_key_of(defs, input_key))

    def init_context(key: str, config: Any, deps: Mapping[str, Any]) -> InitResourceContext:
        return InitResourceContext(
            resource_key=key,
            run_id=steps.run_id,
            log=RunLogger(writer.step_logger(f"resource:{key}")),
            instance=as_dagster_instance(instance),
            resource_config=config,
            resources=deps,
        )

    with contextlib.ExitStack() as stack:
        resources_config = (steps.run_config or {}).get("resources")
        opener = ResourceOpener(available, stack, init_context, resources_config)
        ready: dict[str, Any] = {}
        for key in sorted(needed | manager_keys):
            if key not in available and key == "io_manager":
                if instance is None:
                    raise ExecutionError("a run without an instance needs an 'io_manager' resource")
                ready[key] = FilesystemIOManager(instance.storage_dir)
                continue
            ready[key] = opener.open(key)
        managers: dict[str, IOManager] = {}
        for key in manager_keys:
            if not isinstance(ready[key], IOManager):
                raise ExecutionError(
                    f"resource '{key}' is used as an IO manager but is a "
                    f"{type(ready[key]).__name__}, not an IOManager"
                )
            managers[key] = ready[key]
        yield ready, managers


@contextlib.contextmanager
def open_step_environment(
    steps: RunSteps,
    instance: InstanceProtocol | None,
    writer: EventWriter,
    *,
    capture_values: bool = False,
    retries_enabled: bool = True,
) -> Iterator[StepEnvironment]:
    """Set up the resources `steps` need and yield the environment their steps execute in.

    Executors that run steps in other processes call this in each of them, with that process's
    own storage and writer; resources are torn down when the context exits. `retries_enabled`
    off: no failed attempt is retried, whatever the steps' RetryPolicy.
    """
    graph = steps.defs.resolve_asset_graph()
    with _open_resources(steps, instance, writer) as (ready, managers):
        yield StepEnvironment(
            run_id=steps.run_id,
            writer=writer,
            resources=ready,
            io_managers=managers,
            configs=steps.configs,
            io_manager_key_of={k: s.io_manager_key for k, s in graph.specs.items()},
            instance=instance,
            run_tags=dict(steps.tags),
            captured_values={} if capture_values else None,
            partition_key=steps.partition_key,
            partition_range=steps.partition_range,
            partition_keys=run_partition_keys(
                steps.plan, steps.partition_key, steps.partition_range, instance
            ),
            partitions_defs={k: s.partitions_def for k, s in graph.specs.items()},
            definition_metadata={k: s.metadata for k, s in graph.specs.items()},
            job_name=steps.job_name,
            hooks=steps.hooks,
            compute_logs=(
                LocalComputeLogManager(instance.storage_dir)
                if steps.capture_logs and instance is not None
                else None
            ),
            retry_policy=job_retry_policy(steps),
            retries_enabled=retries_enabled,
        )


def plan_steps(
    defs: Definitions,
    asset_keys: list[AssetKey],
    *,
    run_id: str,
    run_config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    resources: Mapping[str, Any] | None = None,
    partition_key: str | None = None,
    check_keys: list[AssetCheckKey] | None = None,
    partition_range: tuple[str, str] | None = None,
    job_name: str | None = None,
    hooks: Sequence[Any] = (),
    plan: ExecutionPlan | None = None,
    capture_logs: bool = False,
) -> RunSteps:
    """Plan the steps that materialize `asset_keys` and evaluate `check_keys` (default: the
    checks of those assets), unless given the `plan`, and validate their config; raises
    ExecutionError."""
    if plan is None:
        plan = build_plan(defs.resolve_asset_graph(), asset_keys, check_keys)
    return RunSteps(
        defs=defs,
        plan=plan,
        run_id=run_id,
        configs=_step_configs(plan, run_config or {}),
        run_config=dict(run_config or {}),
        tags=dict(tags or {}),
        resource_overrides=resources,
        partition_key=partition_key,
        partition_range=partition_range,
        job_name=job_name,
        hooks=tuple(hooks),
        capture_logs=capture_logs,
    )


def _manager_key_of(defs: Definitions, key: AssetKey) -> str:
    spec = defs.resolve_asset_graph().specs.get(key)
    return spec.io_manager_key if spec is not None else "io_manager"


def execute_run(
    *,
    defs: Definitions,
    asset_keys: list[AssetKey],
    run_id: str,
    writer: EventWriter,
    instance: InstanceProtocol | None,
    run_config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    capture_values: bool = False,
    lifecycle: bool = True,
    executor: StepExecutor | None = None,
    partition_key: str | None = None,
    check_keys: list[AssetCheckKey] | None = None,
    partition_range: tuple[str, str] | None = None,
    job_name: str | None = None,
    hooks: Sequence[Any] = (),
    planned: tuple[ExecutionPlan, list[str] | None] | None = None,
    capture_logs: bool = False,
) -> RunOutcome:
    """Execute the steps that materialize `asset_keys`, recording every event through `writer`.

    Steps run one after another in this process unless an `executor` is given. With a
    `partition_key`, the partitioned steps materialize that partition; the others run once.
    With `partition_range` (first, last), each partitioned step runs once for every key of it.
    With `lifecycle` off, this executes one part of a run that spans several code locations:
    the run's start and end events are the launcher's to write, and an error that stops the
    part is recorded as an ENGINE error event. `planned`: the plan and its partition keys
    (`check_run_partition`), when the caller made them already. With `capture_logs`, each
    step's stdout and stderr go to the instance's compute logs, whichever executor runs it.
    """
    outcome = RunOutcome(run_id=run_id, success=False)
    if lifecycle:
        writer.emit(EventType.RUN_START, f"Started run {run_id}.")
    try:
        steps = plan_steps(
            defs,
            asset_keys,
            run_id=run_id,
            run_config=run_config,
            tags=tags,
            resources=resources,
            partition_key=partition_key,
            check_keys=check_keys,
            partition_range=partition_range,
            job_name=job_name,
            hooks=hooks,
            plan=planned[0] if planned else None,
            capture_logs=capture_logs,
        )
        keys = (
            planned[1]
            if planned
            else check_run_partition(steps.plan, partition_key, instance, partition_range)
        )
        _record_planned_partitions(steps.plan, keys, writer)
        if executor is not None:
            if instance is None:
                raise ExecutionError("a run in other processes needs an instance to store in")
            executor.execute(steps, writer, instance, outcome)
        else:
            writer.emit(
                EventType.ENGINE,
                f"Executing {len(steps.plan.steps)} steps in process.",
                data={"steps": [s.key for s in steps.plan.steps]},
            )
            with open_step_environment(
                steps, instance, writer, capture_values=capture_values
            ) as env:
                _execute_in_process(steps.plan, env, outcome)
                outcome.values = env.captured_values or {}
                outcome.exceptions = env.exceptions
    except Exception as exc:  # noqa: BLE001 - a run that cannot start is recorded as failed
        outcome.error = ErrorInfo.from_exception(exc)
        outcome.run_exception = exc
        writer.emit(
            EventType.RUN_FAILURE if lifecycle else EventType.ENGINE,
            f"Run {run_id} failed: {outcome.error.message}",
            level="ERROR",
            data={"error": outcome.error.to_dict()},
        )
        return outcome
    if not lifecycle:
        outcome.success = not outcome.failed
        writer.flush()
    else:
        record_run_end(writer, outcome)
    return outcome


def record_run_end(writer: EventWriter, outcome: RunOutcome) -> None:
    """Set `outcome.success` from its steps and record RUN_SUCCESS or RUN_FAILURE."""
    outcome.success = not outcome.failed
    if outcome.success:
        writer.emit(EventType.RUN_SUCCESS, f"Finished run {outcome.run_id}.")
        return
    writer.emit(
        EventType.RUN_FAILURE,
        f"Run {outcome.run_id} failed: steps failed: {', '.join(outcome.failed)}",
        level="ERROR",
        data={"failed_steps": outcome.failed, "skipped_steps": outcome.skipped},
    )


def _record_planned_partitions(
    plan: ExecutionPlan, partition_keys: list[str] | None, writer: EventWriter
) -> None:
    """Record each (asset, partition) the run will materialize, so storage shows the partition
    in progress from now until its materialization or its step's failure.

    Unpartitioned assets get no marker: whether they are being materialized is the run's status.
    """
    planned = 0
    for step in plan.steps:
        # A step of a range plans every partition of it: each one is in progress until the
        # step materializes it, and failed with the step.
        for partition in step_partition_keys(step.assets_def, partition_keys) or ():
            for key in step.keys:
                writer.emit(
                    EventType.ASSET_MATERIALIZATION_PLANNED,
                    f"Planned materialization of '{key.to_user_string()}' for partition "
                    f"{partition}.",
                    level="DEBUG",
                    step_key=step.key,
                    asset_key=key.to_user_string(),
                    partition_key=partition,
                    defer=True,
                )
                planned += 1
    if planned:
        writer.flush()  # all in one transaction, visible before the first step starts


def _execute_in_process(plan: ExecutionPlan, env: StepEnvironment, outcome: RunOutcome) -> None:
    scheduler = StepScheduler(plan, env.writer, outcome, env.partition_key)
    while True:
        # Retries whose delay has passed go first, then the next ready step in plan order.
        work = scheduler.pop_due()
        if not work and scheduler.has_ready():
            work = [(scheduler.pop_ready(), 1)]
        if not work:
            wait = scheduler.seconds_to_next_retry()
            if wait is None:
                return
            time.sleep(wait)
            continue
        for step, attempt in work:
            end = execute_step(step, env, attempt)
            if end.retry_in is not None:
                scheduler.retry(step.key, attempt + 1, end.retry_in)
            elif end.ok:
                scheduler.succeeded(step.key)
            else:
                scheduler.failed(step.key)
