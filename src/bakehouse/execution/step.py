"""Executing one step: load inputs, call the user's function, store outputs, record events.

A step runs an asset function (recording its materializations and the results of its own
check specs) or a check function (recording its check's evaluation).
"""

from __future__ import annotations

import dataclasses
import inspect
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bakehouse.authoring.asset_checks import AssetCheckExecutionContext, AssetChecksDefinition
from bakehouse.authoring.assets import AssetsDefinition, AssetSpec, _Params
from bakehouse.authoring.check_spec import AssetCheckKey, AssetCheckSpec
from bakehouse.authoring.context import AssetExecutionContext, RunLogger
from bakehouse.authoring.dagster_types import TypeCheckContext, check_output_type
from bakehouse.authoring.metadata import normalize_metadata
from bakehouse.authoring.results import AssetCheckResult
from bakehouse.authoring.retries import RetryPolicy
from bakehouse.errors import ErrorInfo, ExecutionError
from bakehouse.execution.check_results import (
    AssetCheckFailedError,
    StreamedChecks,
    match_results,
    record_results,
)
from bakehouse.execution.compute_logs import step_logs
from bakehouse.execution.events import EventWriter
from bakehouse.execution.hooks import run_hooks
from bakehouse.execution.instance import as_dagster_instance
from bakehouse.execution.io_managers import InputContext, IOManager, OutputContext, input_type
from bakehouse.execution.leftover_children import live_children
from bakehouse.execution.partitions import input_partition_keys, step_partition_keys
from bakehouse.execution.plan import Step
from bakehouse.execution.step_outputs import Produced, StepOutputs
from bakehouse.execution.step_retry import decide_retry, record_up_for_retry, step_retry_policy
from bakehouse.graph.keys import AssetKey
from bakehouse.storage.compute_logs import LocalComputeLogManager
from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import EventType


@dataclass
class StepEnvironment:
    """What every step of a run shares: the run id, resources, config and the event writer."""

    run_id: str
    writer: EventWriter
    resources: Mapping[str, Any]
    io_managers: Mapping[str, IOManager]
    # Validated config objects by step key.
    configs: Mapping[str, Any] = field(default_factory=dict)
    # Which IO manager stored each key's value, so downstream steps load it with the same one.
    io_manager_key_of: Mapping[AssetKey, str] = field(default_factory=dict)
    instance: InstanceProtocol | None = None
    run_tags: Mapping[str, str] = field(default_factory=dict)
    # When set, produced values are kept here too (for in-process `materialize` results).
    captured_values: dict[AssetKey, Any] | None = None
    exceptions: dict[str, BaseException] = field(default_factory=dict)
    # The run's partition (its partitioned steps materialize it), or its range (first, last)
    # and the keys of it; and every asset's partitions definition, to map inputs to upstream
    # partitions. A run of one key has partition_keys == [partition_key].
    partition_key: str | None = None
    partitions_defs: Mapping[AssetKey, Any] = field(default_factory=dict)
    partition_range: tuple[str, str] | None = None
    partition_keys: list[str] | None = None
    # Every asset's definition metadata, which an IO manager loading it may read (DuckDB's
    # partition_expr) through the input's upstream output context.
    definition_metadata: Mapping[AssetKey, Mapping[str, Any]] = field(default_factory=dict)
    # The run's job and the hooks it applies to every step (`HookDefinition`s).
    job_name: str | None = None
    hooks: tuple[Any, ...] = ()
    # Where each step's stdout and stderr are captured; None leaves them alone (materialize()).
    compute_logs: LocalComputeLogManager | None = None
    # The RetryPolicy of steps without their own (the run's job's op_retry_policy), and whether
    # failed attempts are retried at all.
    retry_policy: RetryPolicy | None = None
    retries_enabled: bool = True


@dataclass(frozen=True)
class StepEnd:
    """How one attempt of a step ended: succeeded, failed for good, or up for retry."""

    ok: bool
    # Up for retry: the seconds to wait before the next attempt (None: the step has ended).
    retry_in: float | None = None


def execute_step(step: Step, env: StepEnvironment, attempt: int = 1) -> StepEnd:
    """Run attempt number `attempt` of `step`, recording STEP_START (STEP_RESTARTED for a retry),
    its materializations and STEP_SUCCESS, STEP_FAILURE or STEP_UP_FOR_RETRY.

    A user exception never escapes: it is recorded with its traceback, and the step's retry
    rules (`step_retry`) say whether the step is up for another attempt. With
    `env.compute_logs`, the step's stdout and stderr go to its compute log files.
    """
    with step_logs(env.compute_logs, env.run_id, step.key):
        return _execute_step(step, env, attempt)


def _execute_step(step: Step, env: StepEnvironment, attempt: int) -> StepEnd:
    writer = env.writer
    keys = step_partition_keys(step.assets_def, env.partition_keys)
    # Events carry one partition key; a step over several names them in its messages and
    # records one materialization per key.
    partition = keys[0] if keys is not None and len(keys) == 1 else None
    where = f" for partition {partition}" if partition is not None else ""
    if keys is not None and len(keys) > 1:
        where = f" for {len(keys)} partitions {keys[0]}...{keys[-1]}"
    if attempt > 1:
        writer.emit(
            EventType.STEP_RESTARTED,
            f"Started re-execution (attempt # {attempt}) of step '{step.key}'{where}.",
            step_key=step.key,
            partition_key=partition,
            data={"attempt": attempt},
        )
    else:
        writer.emit(
            EventType.STEP_START,
            f"Started execution of step '{step.key}'{where}.",
            step_key=step.key,
            partition_key=partition,
        )
    started = time.perf_counter()
    children_before = live_children()
    try:
        _run(step, env, started, keys, attempt)
    # SystemExit too: a sys.exit() in an asset fails its step, not the whole worker.
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's failure, as data
        error = ErrorInfo.from_exception(exc)
        decision = decide_retry(
            exc,
            step_retry_policy(step, env.retry_policy),
            attempt,
            enabled=env.retries_enabled,
        )
        if decision is not None and decision.retry:
            # The step's hooks wait for its last attempt.
            record_up_for_retry(
                env.writer,
                step.key,
                error,
                attempt=attempt,
                max_retries=decision.max_retries,
                seconds_to_wait=decision.seconds_to_wait,
                partition_key=partition,
                data={"duration_ms": _ms_since(started)},
            )
            _report_leftover_children(step, env, children_before)
            return StepEnd(ok=False, retry_in=decision.seconds_to_wait)
        if decision is not None and decision.message:
            error = dataclasses.replace(error, message=decision.message)
        env.exceptions[step.key] = exc
        data: dict[str, Any] = {"error": error.to_dict(), "duration_ms": _ms_since(started)}
        if attempt > 1:
            data["attempt"] = attempt
        checked: str | None = None
        if isinstance(step.assets_def, AssetChecksDefinition) and not isinstance(
            exc, AssetCheckFailedError
        ):
            # A check function that raised has no evaluation: its failure is its check's latest
            # execution, which the asset page finds by the asset's key. (A failed blocking
            # check has its evaluation already.)
            # A multi-asset check over several assets names its checks in the data only.
            assets = {k.asset_key for k in step.check_keys}
            checked = assets.pop().to_user_string() if len(assets) == 1 else None
            data["check_names"] = [k.name for k in step.check_keys]
            data["check_keys"] = [k.to_user_string() for k in step.check_keys]
        writer.emit(
            EventType.STEP_FAILURE,
            f"Execution of step '{step.key}' failed: {error.message}",
            level="ERROR",
            step_key=step.key,
            asset_key=checked,
            partition_key=partition,
            data=data,
        )
        _report_leftover_children(step, env, children_before)
        run_hooks(step.key, env, exc)
        return StepEnd(ok=False)
    _report_leftover_children(step, env, children_before)
    run_hooks(step.key, env, None)
    return StepEnd(ok=True)


def _report_leftover_children(step: Step, env: StepEnvironment, before: set[int]) -> None:
    """A warning naming the processes the step started and left running; the run goes on."""
    left = sorted(live_children() - before)
    if not left:
        return
    pids = ", ".join(str(pid) for pid in left)
    env.writer.emit(
        EventType.ENGINE,
        f"Step '{step.key}' returned leaving {len(left)} child process"
        f"{'es' if len(left) > 1 else ''} running (pid {pids}); the run does not wait for them.",
        level="WARNING",
        step_key=step.key,
        data={"pids": left},
    )


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


def _run(
    step: Step, env: StepEnvironment, started: float, keys: list[str] | None, attempt: int
) -> None:
    assets_def = step.assets_def
    partition = keys[0] if keys is not None and len(keys) == 1 else None
    if isinstance(assets_def, AssetChecksDefinition):
        _run_check(step, assets_def, env, started, attempt)
        return
    params = assets_def.params
    log = RunLogger(env.writer.step_logger(step.key, partition), prefix=f"[{step.key}] ")
    context = AssetExecutionContext(
        run_id=env.run_id,
        asset_keys=list(step.keys),
        step_key=step.key,
        resources={k: env.resources[k] for k in assets_def.required_resource_keys},
        op_config=env.configs.get(step.key),
        log=log,
        instance=as_dagster_instance(env.instance),
        run_tags=env.run_tags,
        partition_key=partition if env.partition_range is None else None,
        partitions_def=assets_def.partitions_def,
        partition_range_keys=keys if env.partition_range is not None else None,
        check_keys=step.check_keys,
        retry_number=attempt - 1,
    )
    specs = _specs_of(step, assets_def.check_specs)

    def handle(item: Produced, streaming: bool) -> None:
        _check_type(assets_def, item, context, log)
        _record_output(step, assets_def, env, item, context, log, keys, streaming=streaming)

    streamed = StreamedChecks(env.writer, step.key, specs, partition)
    outputs = StepOutputs(step, assets_def, handle, on_check=streamed.add)
    result = assets_def.fn(**_arguments(step, env, params, context, log, keys))
    returned = outputs.consume(result)
    outputs.check_complete()
    # A returned answer is checked whole before anything is recorded, so a step that forgot a
    # check records no half (a generator's outputs are recorded as they come, as in Dagster).
    # A subsettable step may leave a selected check unanswered (dbt skips a test whose model
    # did not build), as Dagster's optional check outputs of such steps allow.
    matched = match_results(
        step.key,
        specs,
        outputs.check_results,
        answered=streamed.answered,
        require_all=not assets_def.can_subset,
    )
    for item in returned:
        _check_type(assets_def, item, context, log)
    for item in returned:
        _record_output(step, assets_def, env, item, context, log, keys, streaming=False)
    record_results(
        env.writer, step.key, specs, matched, partition, failed_before=streamed.failed_blocking
    )
    env.writer.emit(
        EventType.STEP_SUCCESS,
        f"Finished execution of step '{step.key}'.",
        step_key=step.key,
        partition_key=partition,
        data={"duration_ms": _ms_since(started)},
    )


def _record_output(
    step: Step,
    assets_def: AssetsDefinition,
    env: StepEnvironment,
    item: Produced,
    context: AssetExecutionContext,
    log: RunLogger,
    keys: list[str] | None,
    *,
    streaming: bool,
) -> None:
    """Store one output through its IO manager and record its materialization (one per
    partition, so each partition's status is its own); a streamed one is written at once."""
    spec = assets_def.specs_by_key[item.key]
    item.metadata.update(context.added_metadata_for(item.key, item.output_name))
    if item.has_value:
        _store_output(step, env, spec, item, log, keys)
        if env.captured_values is not None:
            env.captured_values[item.key] = item.value
    metadata = normalize_metadata(item.metadata)
    data: dict[str, object] = {"metadata": metadata}
    if spec.code_version is not None:
        # Recorded with the materialization, as Dagster's dagster/code_version tag: the UI
        # compares it with the definition's to say "code version changed".
        data["code_version"] = spec.code_version
    for materialized in keys if keys is not None else [None]:
        where = f" partition {materialized}" if keys is not None and len(keys) > 1 else ""
        env.writer.emit(
            EventType.ASSET_MATERIALIZATION,
            f"Materialized asset {item.key.to_user_string()}{where}.",
            step_key=step.key,
            asset_key=item.key.to_user_string(),
            partition_key=materialized,
            data=dict(data),
            defer=not streaming,
        )


def _check_type(
    assets_def: AssetsDefinition, item: Produced, context: AssetExecutionContext, log: RunLogger
) -> None:
    """Raise `DagsterTypeCheckDidNotPass` when the value fails its output's type."""
    dagster_type = assets_def.output_types.get(item.key)
    if dagster_type is None or not item.has_value:
        return
    check_output_type(
        dagster_type,
        item.value,
        output_name=item.output_name,
        owner=f"asset '{item.key.to_user_string()}'",
        context=TypeCheckContext(log=log, resources=context.resources, run_id=context.run_id),
    )


def _arguments(
    step: Step,
    env: StepEnvironment,
    params: _Params,
    context: AssetExecutionContext,
    log: RunLogger,
    partition_keys: list[str] | None,
) -> dict[str, Any]:
    """What the step's function is called with: context, inputs, resources and config."""
    kwargs: dict[str, Any] = {}
    if params.context:
        kwargs[params.context] = context
    for param, key in params.inputs.items():
        kwargs[param] = _load_input(step, env, param, key, log, partition_keys)
    for param, resource_key in params.resources.items():
        kwargs[param] = env.resources[resource_key]
    if params.config is not None:
        kwargs[params.config[0]] = env.configs.get(step.key)
    return kwargs


def _specs_of(step: Step, check_specs: list[AssetCheckSpec]) -> dict[AssetCheckKey, AssetCheckSpec]:
    """The specs of the checks this step evaluates (of a multi-asset: those of its subset)."""
    by_key = {spec.key: spec for spec in check_specs}
    return {key: by_key[key] for key in step.check_keys}


def _run_check(
    step: Step, check_def: AssetChecksDefinition, env: StepEnvironment, started: float, attempt: int
) -> None:
    """Call a check function with the checked asset's value and record its result."""
    log = RunLogger(env.writer.step_logger(step.key), prefix=f"[{step.key}] ")
    specs = _specs_of(step, check_def.check_specs)
    context = AssetCheckExecutionContext(
        check_specs=specs.values(),
        run_id=env.run_id,
        asset_keys=list(dict.fromkeys(k.asset_key for k in specs)),
        step_key=step.key,
        resources={k: env.resources[k] for k in check_def.required_resource_keys},
        op_config=env.configs.get(step.key),
        log=log,
        instance=as_dagster_instance(env.instance),
        run_tags=env.run_tags,
        # Checks are unpartitioned (as in Dagster 1.13); in a run of one partition they still
        # see it, and their evaluations record it, so a check can look at that partition.
        partition_key=env.partition_key,
        retry_number=attempt - 1,
    )
    result = check_def.fn(**_arguments(step, env, check_def.params, context, log, None))
    items = list(result) if inspect.isgenerator(result) else [result]
    results = [r for r in items if isinstance(r, AssetCheckResult)]
    if len(results) != len(items):
        wrong = next(type(r).__name__ for r in items if not isinstance(r, AssetCheckResult))
        raise ExecutionError(
            f"asset check step '{step.key}' returned a {wrong}; a check function returns "
            "(or yields) an AssetCheckResult"
        )
    matched = match_results(step.key, specs, results)
    record_results(env.writer, step.key, specs, matched, env.partition_key)
    env.writer.emit(
        EventType.STEP_SUCCESS,
        f"Finished execution of step '{step.key}'.",
        step_key=step.key,
        data={"duration_ms": _ms_since(started)},
    )


def _load_input(
    step: Step,
    env: StepEnvironment,
    param: str,
    key: AssetKey,
    log: RunLogger,
    partition_keys: list[str] | None,
) -> Any:
    manager_key = env.io_manager_key_of.get(key, "io_manager")
    manager = env.io_managers[manager_key]
    upstream_keys = input_partition_keys(
        step.assets_def, key, partition_keys, env.partitions_defs, env.instance
    )
    one = partition_keys is not None and len(partition_keys) == 1
    partition = partition_keys[0] if one and partition_keys else None
    upstream = OutputContext(
        asset_key=key,
        step_key=step.key,
        run_id=env.run_id,
        log=log,
        partitions_def=env.partitions_defs.get(key),
        definition_metadata=env.definition_metadata.get(key),
    )
    value = manager.load_input(
        InputContext(
            asset_key=key,
            name=param,
            upstream_output=upstream,
            partition_key=partition,
            asset_partition_keys=upstream_keys,
            partitions_def=env.partitions_defs.get(key),
            log=log,
            definition_metadata=step.assets_def.params.input_metadata.get(param),
            dagster_type=input_type(step.assets_def.params.input_annotations.get(param)),
        )
    )
    what = ""
    if upstream_keys is not None:
        shown = ", ".join(upstream_keys[:3]) + (", ..." if len(upstream_keys) > 3 else "")
        what = f" (partitions {shown})" if len(upstream_keys) != 1 else f" (partition {shown})"
    env.writer.emit(
        EventType.STEP_INPUT,
        f"Loaded input '{param}' from asset {key.to_user_string()}{what} using {manager_key}.",
        level="DEBUG",
        step_key=step.key,
        asset_key=key.to_user_string(),
        partition_key=partition,
        data={"upstream_partitions": upstream_keys} if upstream_keys is not None else None,
        defer=True,
    )
    return value


def _store_output(
    step: Step,
    env: StepEnvironment,
    spec: AssetSpec,
    item: Produced,
    log: RunLogger,
    partition_keys: list[str] | None,
) -> None:
    manager = env.io_managers[spec.io_manager_key]
    # A run of one partition names it; a run of a range (even of one key) gives its keys.
    one = partition_keys is not None and len(partition_keys) == 1 and env.partition_range is None
    context = OutputContext(
        asset_key=item.key,
        step_key=step.key,
        run_id=env.run_id,
        name=item.output_name,
        definition_metadata=spec.metadata,
        partition_key=partition_keys[0] if one and partition_keys else None,
        partitions_def=spec.partitions_def,
        log=log,
        asset_partition_keys=partition_keys,
    )
    manager.handle_output(context, item.value)
    item.metadata.update(context.added_metadata)
    env.writer.emit(
        EventType.STEP_OUTPUT,
        f"Stored output '{item.output_name}' of {item.key.to_user_string()} using "
        f"{spec.io_manager_key}.",
        level="DEBUG",
        step_key=step.key,
        asset_key=item.key.to_user_string(),
        partition_key=context.partition_key,
        defer=True,
    )
