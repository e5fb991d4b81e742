"""Executing a job of ops: each op a step, in the graph's order, values passed in memory.

Records the run's and each step's events as asset runs do (RUN_START, STEP_START, STEP_OUTPUT,
STEP_SUCCESS or STEP_FAILURE, STEP_SKIPPED behind a failure, RUN_SUCCESS or RUN_FAILURE), and
an op's retries as Dagster does (STEP_UP_FOR_RETRY, then STEP_RESTARTED after the wait) under the
rules of `step_retry`. Ops run one after another in the run's process whatever the executor:
their values never leave it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Mapping
from typing import Any

from bakehouse.authoring.context import AssetExecutionContext, InitResourceContext, RunLogger
from bakehouse.authoring.dagster_types import TypeCheckContext, check_output_type
from bakehouse.authoring.graphs import JobDefinition, walk_graph
from bakehouse.authoring.ops import OpDefinition, call_op, op_config_from
from bakehouse.authoring.run_config import plain_run_config
from bakehouse.errors import ErrorInfo, ExecutionError
from bakehouse.execution.compute_logs import step_logs
from bakehouse.execution.events import EventWriter
from bakehouse.execution.hooks import run_hooks
from bakehouse.execution.instance import DagsterInstance, as_dagster_instance, storage_of
from bakehouse.execution.materialize import ExecuteInProcessResult, raise_first_error
from bakehouse.execution.resource_setup import ResourceOpener
from bakehouse.execution.run import RunOutcome, record_run_end
from bakehouse.execution.step import StepEnvironment
from bakehouse.execution.step_retry import decide_retry
from bakehouse.storage.compute_logs import LocalComputeLogManager
from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import EventType, RunRecord


class _OpSteps:
    """Runs each op of one run as a step, recording its events (`walk_graph`'s runner)."""

    def __init__(
        self, env: StepEnvironment, ops_config: Mapping[str, Any], outcome: RunOutcome
    ) -> None:
        self.env = env
        self.ops_config = ops_config
        self.outcome = outcome

    def run(
        self, step_key: str, op_def: OpDefinition, inputs: dict[str, Any]
    ) -> dict[str, Any] | None:
        with step_logs(self.env.compute_logs, self.env.run_id, step_key):
            return self._run(step_key, op_def, inputs)

    def _run(
        self, step_key: str, op_def: OpDefinition, inputs: dict[str, Any]
    ) -> dict[str, Any] | None:
        writer = self.env.writer
        attempt = 1
        while True:
            if attempt == 1:
                writer.emit(EventType.STEP_START, f"Started execution of step '{step_key}'.",
                            step_key=step_key)  # fmt: skip
            else:
                writer.emit(
                    EventType.STEP_RESTARTED,
                    f"Started re-execution (attempt # {attempt}) of step '{step_key}'.",
                    step_key=step_key,
                    data={"attempt": attempt},
                )
            started = time.perf_counter()
            try:
                outputs = self._call(step_key, op_def, inputs, attempt)
                break
            except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's failure, as data
                error = ErrorInfo.from_exception(exc)
                policy = op_def.retry_policy or self.env.retry_policy
                decision = decide_retry(exc, policy, attempt)
                if decision is not None and decision.retry:
                    wait = decision.seconds_to_wait
                    writer.emit(
                        EventType.STEP_UP_FOR_RETRY,
                        f"Execution of step '{step_key}' failed and has requested a retry"
                        f"{f' in {wait:.3g} seconds' if wait else ''} (attempt {attempt + 1} "
                        f"of {decision.max_retries + 1}): {error.message}",
                        level="WARNING",
                        step_key=step_key,
                        data={"error": error.to_dict(), "attempt": attempt,
                              "next_attempt": attempt + 1, "seconds_to_wait": wait},
                    )  # fmt: skip
                    time.sleep(wait)
                    attempt += 1
                    continue
                if decision is not None and decision.message:
                    error = dataclasses.replace(error, message=decision.message)
                self.outcome.failed.append(step_key)
                self.outcome.exceptions[step_key] = exc
                writer.emit(
                    EventType.STEP_FAILURE,
                    f"Execution of step '{step_key}' failed: {error.message}",
                    level="ERROR",
                    step_key=step_key,
                    data={"error": error.to_dict(), "duration_ms": _ms_since(started)},
                )
                run_hooks(step_key, self.env, exc)
                return None
        for name in outputs:
            writer.emit(EventType.STEP_OUTPUT, f"Yielded output '{name}'.", level="DEBUG",
                        step_key=step_key, data={"output_name": name}, defer=True)  # fmt: skip
        writer.emit(
            EventType.STEP_SUCCESS,
            f"Finished execution of step '{step_key}'.",
            step_key=step_key,
            data={"duration_ms": _ms_since(started)},
        )
        self.outcome.succeeded.append(step_key)
        run_hooks(step_key, self.env, None)
        return outputs

    def _call(
        self, step_key: str, op_def: OpDefinition, given: dict[str, Any], attempt: int
    ) -> dict[str, Any]:
        entry = self.ops_config.get(step_key, self.ops_config.get(op_def.name))
        config = self.env.configs.get(step_key)
        resources = {k: self.env.resources[k] for k in op_def.required_resource_keys}
        context = AssetExecutionContext(
            run_id=self.env.run_id,
            asset_keys=[],
            step_key=step_key,
            resources=resources,
            op_config=config,
            log=RunLogger(self.env.writer.step_logger(step_key), prefix=f"[{step_key}] "),
            instance=as_dagster_instance(self.env.instance),
            run_tags=self.env.run_tags,
            retry_number=attempt - 1,
        )
        outputs = call_op(
            op_def,
            step_key,
            given,
            context=context,
            resources=resources,
            config=config,
            configured_inputs=entry.get("inputs") if isinstance(entry, Mapping) else None,
        )
        checks = TypeCheckContext(log=context.log, resources=context.resources, run_id=step_key)
        for name, value in outputs.items():
            dagster_type = op_def.output_types.get(name)
            if dagster_type is not None:
                check_output_type(
                    dagster_type, value, output_name=name, owner=f"op '{step_key}'", context=checks
                )
        return outputs

    def skip(self, step_key: str, cause: str) -> None:
        self.outcome.skipped.append(step_key)
        self.env.writer.emit(
            EventType.STEP_SKIPPED,
            f"Skipped step '{step_key}': upstream step '{cause}' did not succeed.",
            level="WARNING",
            step_key=step_key,
            data={"upstream": cause},
        )


def execute_op_job(
    job: JobDefinition,
    *,
    run_id: str,
    writer: EventWriter,
    instance: InstanceProtocol,
    run_config: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
    input_values: Mapping[str, Any] | None = None,
    capture_logs: bool = False,
) -> tuple[RunOutcome, dict[tuple[str, str], Any], dict[str, Any]]:
    """Execute `job`'s ops, recording the run's events through `writer`.

    Returns how it ended, every output by (step key, output name), and the job's outputs.
    `resources` are used over the job's own `resource_defs` of the same key. With
    `capture_logs`, each op's stdout and stderr go to the instance's compute logs.
    """
    outcome = RunOutcome(run_id=run_id, success=False)
    values: dict[tuple[str, str], Any] = {}
    job_outputs: dict[str, Any] = {}
    config = dict(run_config or {})
    writer.emit(EventType.RUN_START, f"Started run {run_id}.")
    try:
        ops_config = config.get("ops") or {}
        if not isinstance(ops_config, Mapping):
            raise ExecutionError("run_config['ops'] must be a mapping of op name to its config")
        known = set(job.op_names) | {o.name for o in job.graph.ops}
        unknown = sorted(set(ops_config) - known)
        if unknown:
            raise ExecutionError(
                f"run_config names {unknown}, which are not ops of job '{job.name}' "
                f"(ops: {job.op_names})"
            )
        ops_by_key = _ops_by_step_key(job)
        configs = {k: op_config_from(o, k, ops_config) for k, o in ops_by_key.items()}
        available = {**job.resource_defs, **(resources or {})}
        needed = job.graph.required_resource_keys | {
            k for hook in job.hooks for k in hook.required_resource_keys
        }

        def init_context(key: str, conf: Any, deps: Mapping[str, Any]) -> InitResourceContext:
            return InitResourceContext(
                resource_key=key,
                run_id=run_id,
                log=RunLogger(writer.step_logger(f"resource:{key}")),
                instance=as_dagster_instance(instance),
                resource_config=conf,
                resources=deps,
            )

        with contextlib.ExitStack() as stack:
            opener = ResourceOpener(available, stack, init_context, config.get("resources"))
            ready = {key: opener.open(key) for key in sorted(needed)}
            env = StepEnvironment(
                run_id=run_id,
                writer=writer,
                resources=ready,
                io_managers={},
                configs=configs,
                instance=instance,
                run_tags=dict(tags or {}),
                job_name=job.name,
                hooks=job.hooks,
                compute_logs=(
                    LocalComputeLogManager(instance.storage_dir) if capture_logs else None
                ),
                retry_policy=job.op_retry_policy,
            )
            steps = _OpSteps(env, ops_config, outcome)
            job_outputs = walk_graph(job.graph, dict(input_values or {}), steps, values)
    except Exception as exc:  # noqa: BLE001 - a run that cannot start is recorded as failed
        outcome.error = ErrorInfo.from_exception(exc)
        outcome.run_exception = exc
        writer.emit(EventType.RUN_FAILURE, f"Run {run_id} failed: {outcome.error.message}",
                    level="ERROR", data={"error": outcome.error.to_dict()})  # fmt: skip
        return outcome, values, job_outputs
    record_run_end(writer, outcome)
    return outcome, values, job_outputs


def _ops_by_step_key(job: JobDefinition) -> dict[str, OpDefinition]:
    from bakehouse.authoring.graphs import GraphDefinition

    found: dict[str, OpDefinition] = {}

    def visit(graph: GraphDefinition, prefix: str) -> None:
        for node in graph.nodes:
            if isinstance(node.definition, GraphDefinition):
                visit(node.definition, f"{prefix}{node.name}.")
            else:
                found[f"{prefix}{node.name}"] = node.definition

    visit(job.graph, "")
    return found


class ExecuteJobResult(ExecuteInProcessResult):
    """What a job of ops returns from `execute_in_process`: `success`, each node's outputs
    (`output_for_node`) and the job's own (`output_value`)."""

    def __init__(
        self,
        outcome: RunOutcome,
        events: list[Any],
        instance: DagsterInstance | InstanceProtocol | None,
        node_outputs: Mapping[tuple[str, str], Any],
        job_outputs: Mapping[str, Any],
    ) -> None:
        super().__init__(outcome, events, instance)
        self._node_outputs = dict(node_outputs)
        self._job_outputs = dict(job_outputs)

    def output_for_node(self, node_name: str, output_name: str = "result") -> Any:
        """The value output `output_name` of node `node_name` (``graph.op`` when nested)."""
        key = (node_name, output_name)
        if key not in self._node_outputs:
            raise KeyError(f"no output '{output_name}' of node '{node_name}' in this run")
        return self._node_outputs[key]

    def output_value(self, output_name: str = "result") -> Any:
        """The value of the job's (top graph's) output `output_name`."""
        if output_name not in self._job_outputs:
            raise KeyError(f"the job has no output '{output_name}' in this run")
        return self._job_outputs[output_name]


def execute_op_job_in_process(
    job: JobDefinition,
    *,
    run_config: Any = None,
    instance: DagsterInstance | InstanceProtocol | None = None,
    resources: Mapping[str, Any] | None = None,
    raise_on_error: bool = True,
    tags: Mapping[str, str] | None = None,
    input_values: Mapping[str, Any] | None = None,
) -> ExecuteJobResult:
    """Run `job` in this process, recorded in `instance` (a temporary one if None)."""
    from bakehouse.storage import Instance

    owned = instance is None
    storage = Instance.ephemeral() if instance is None else storage_of(instance)
    config = plain_run_config(run_config)
    run_tags = {**job.tags, **(tags or {})}
    try:
        run_id = str(uuid.uuid4())
        storage.create_run(
            RunRecord(run_id=run_id, job_name=job.name, tags=run_tags, run_config=config)
        )
        with EventWriter(storage, run_id) as writer:
            outcome, values, outputs = execute_op_job(
                job,
                run_id=run_id,
                writer=writer,
                instance=storage,
                run_config=config,
                resources=resources,
                tags=run_tags,
                input_values=input_values,
            )
        events = storage.get_events(run_id)
    finally:
        if owned:
            storage.close()
    if raise_on_error:
        raise_first_error(outcome)
    return ExecuteJobResult(outcome, events, None if owned else instance, values, outputs)


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
