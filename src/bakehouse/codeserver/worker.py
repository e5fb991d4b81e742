"""The run worker: loads a location's code in its own interpreter and executes one run.

Started as ``<location python> -m bakehouse run-worker --run-id ...``; everything it does is
recorded in instance storage, which is how the CLI and the host follow it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.check_spec import AssetCheckKey
from bakehouse.errors import ErrorInfo, StorageError
from bakehouse.graph.keys import AssetKey
from bakehouse.protocol.run_plan import RunPlan
from bakehouse.protocol.wire import (
    DEFAULT_EXECUTOR_ENV,
    EXECUTOR_TAG,
    LOCATION_NAME_ENV,
    STORAGE_FAILED_EXIT,
    STORAGE_FAILURE_PREFIX,
)
from bakehouse.storage.records import EventType, RunRecord, RunStatus

if TYPE_CHECKING:
    from bakehouse.authoring.definitions_class import Definitions
    from bakehouse.authoring.executors import ExecutorDefinition
    from bakehouse.authoring.graphs import JobDefinition
    from bakehouse.authoring.jobs import AssetJobDefinition
    from bakehouse.execution.events import EventWriter
    from bakehouse.storage.instance import Instance


def run_worker(
    *,
    run_id: str,
    module: str,
    defs_module: str | None,
    storage_url: str,
    storage_dir: Path | None,
    plan: RunPlan | None = None,
    executor: str | None = None,
) -> int:
    """Execute run `run_id`; return 0 on success, 1 on failure, `STORAGE_FAILED_EXIT` when
    storage refused a write (the cause on stderr).

    With a `plan` (the host's run coordinator hands one to every worker), execute exactly its
    assets and checks as one part of a run the coordinator drives across locations: it writes
    the run's start and end, and nothing is resolved here again. Without one (a run stored by
    hand), the run is planned here from its record and this worker writes its start and end.
    `executor` names the executor to use over the run's tag and the definitions.
    """
    try:
        return _run_worker(
            run_id=run_id,
            module=module,
            defs_module=defs_module,
            storage_url=storage_url,
            storage_dir=storage_dir,
            plan=plan,
            executor=executor,
        )
    except StorageError as exc:
        # Storage refused us (disk full, read-only, connection lost): nothing more can be
        # recorded from here, so say why to the coordinator, which records the run's failure.
        message = " ".join(str(exc).split())
        print(f"{STORAGE_FAILURE_PREFIX}{message}", file=sys.stderr, flush=True)
        return STORAGE_FAILED_EXIT


def _run_worker(
    *,
    run_id: str,
    module: str,
    defs_module: str | None,
    storage_url: str,
    storage_dir: Path | None,
    plan: RunPlan | None,
    executor: str | None,
) -> int:
    from bakehouse.storage import Instance

    with Instance.open(storage_url, storage_dir=storage_dir) as instance:
        run = instance.get_run(run_id)
        if run.status.is_finished:
            return 0 if run.status == RunStatus.SUCCESS else 1
        from bakehouse.execution.events import EventWriter

        # Stores what is still buffered however the run ends (a crash loses at most the last
        # flush interval; the monitor then fails the run).
        with EventWriter(instance, run_id) as writer:
            lifecycle = plan is None
            try:
                from bakehouse.authoring.graphs import JobDefinition
                from bakehouse.authoring.loading import (
                    isolating_module_errors,
                    isolation_from_env,
                    load_definitions,
                )
                from bakehouse.codeserver.lifetime import collector_paused, keep_for_the_process
                from bakehouse.execution.run import execute_run
                from bakehouse.execution.step_executor import LocationModule, executor_for

                # As the code server loaded it: the host refused any plan needing a skipped module.
                with collector_paused(), isolating_module_errors(isolation_from_env()):
                    defs = load_definitions(module, defs_module=defs_module)
                keep_for_the_process()  # the run's definitions, until the worker exits
                found = defs.get_job_def(run.job_name) if run.job_name else None
                if isinstance(found, JobDefinition):
                    # A job of ops: its one worker writes the whole run, start to end.
                    run_config = dict(run.run_config) or dict(found.config or {})
                    tags = {**found.tags, **run.tags}
                    return _run_op_job(found, defs, run_id, writer, instance, run_config, tags)
                job = found
                if plan is None:
                    plan = plan_stored_run(defs, run)
                    instance.update_run(run_id, asset_selection=plan.asset_keys)
                graph = defs.resolve_asset_graph()
                runnable = [AssetKey.from_user_string(k) for k in plan.asset_keys]
                check_keys = [_check_key(c) for c in plan.check_keys]
                if not runnable and not check_keys:
                    raise ValueError(
                        f"selection {run.selection_query or list(run.asset_selection)!r} "
                        "contains no asset that can be materialized here (only external assets)"
                    )
                missing = [k.to_user_string() for k in runnable if k not in graph.assets_def_by_key]
                if missing:
                    raise ValueError(f"the run's plan names assets this location lacks: {missing}")
                executor_def = choose_executor(executor or plan.tags.get(EXECUTOR_TAG), job, defs)
                location = LocationModule(
                    module, defs_module, name=os.environ.get(LOCATION_NAME_ENV)
                )
                step_executor = executor_for(executor_def, location=location)
            except StorageError:
                raise
            except Exception as exc:  # noqa: BLE001 - recorded as the run's failure
                error = ErrorInfo.from_exception(exc)
                if lifecycle:
                    writer.emit(EventType.RUN_START, f"Started run {run_id}.")
                writer.emit(
                    EventType.RUN_FAILURE if lifecycle else EventType.ENGINE,
                    f"Run {run_id} failed before any step ran: {error.message}",
                    level="ERROR",
                    data={"error": error.to_dict()},
                )
                return 1
            outcome = execute_run(
                defs=defs,
                asset_keys=runnable,
                run_id=run_id,
                writer=writer,
                instance=instance,
                run_config=plan.run_config,
                tags=plan.tags,
                lifecycle=lifecycle,
                executor=step_executor,
                partition_key=plan.partition_key,
                partition_range=plan.partition_range,
                check_keys=check_keys,
                job_name=job.name if job is not None else None,
                hooks=job.hooks if job is not None else (),
                # Each step's stdout and stderr, for the run page and `bh runs logs`.
                capture_logs=True,
            )
            return 0 if outcome.success else 1


def _run_op_job(
    job: JobDefinition,
    defs: Definitions,
    run_id: str,
    writer: EventWriter,
    instance: Instance,
    run_config: dict[str, Any],
    tags: dict[str, str],
) -> int:
    """Execute a run of a job of ops (in this process: its values stay in memory)."""
    from bakehouse.execution.op_job import execute_op_job

    outcome, _values, _outputs = execute_op_job(
        job,
        run_id=run_id,
        writer=writer,
        instance=instance,
        run_config=run_config,
        resources=job.resources_with(defs.resources),
        tags=tags,
        capture_logs=True,
    )
    return 0 if outcome.success else 1


def plan_stored_run(defs: Definitions, run: RunRecord) -> RunPlan:
    """The plan of a run stored without one (by hand, not through the host's launch service):
    its assets, selection or job resolved against `defs`, with the job's config and tags."""
    from bakehouse.graph.selection import select_keys

    graph = defs.resolve_asset_graph()
    job = defs.get_job_def(run.job_name) if run.job_name else None
    if run.asset_selection:
        keys = [AssetKey.from_user_string(k) for k in run.asset_selection]
    elif job is not None:
        keys = defs.resolve_job_keys(job)
    elif run.selection_query:
        keys = [
            AssetKey.from_user_string(k) for k in select_keys(run.selection_query, graph.key_graph)
        ]
    else:
        raise ValueError("the run names no assets, selection or job")
    runnable = graph.toposorted_keys(k for k in keys if k in graph.assets_def_by_key)
    if job is not None:
        # A job's selection says which checks run; those of its assets left out stay out.
        job_keys, ran = set(defs.resolve_job_keys(job)), set(runnable)
        checks = [
            c for c in defs.resolve_job_check_keys(job)
            if c.asset_key in ran or c.asset_key not in job_keys
        ]  # fmt: skip
    else:
        checks = graph.checks_of(runnable)
    return RunPlan(
        run_id=run.run_id,
        asset_keys=tuple(k.to_user_string() for k in runnable),
        check_keys=tuple(c.to_user_string() for c in checks),
        job_name=run.job_name,
        selection_query=run.selection_query,
        partition_key=run.partition_key,
        partition_range=run.partition_range,
        run_config=dict(run.run_config) or (dict(job.config or {}) if job else {}),
        tags={**(job.tags if job else {}), **run.tags},
    )


def _check_key(text: str) -> AssetCheckKey:
    asset, _, name = text.rpartition(":")
    return AssetCheckKey(AssetKey.from_user_string(asset), name)


def choose_executor(
    override: str | None, job: AssetJobDefinition | None, defs: Definitions
) -> ExecutorDefinition:
    """The executor of a run: `override` if given, else the job's, else the definitions', else
    the deployment's default (``[tool.bakehouse.executor]``, which the host hands over in
    `DEFAULT_EXECUTOR_ENV`), else multiprocess (``materialize()`` does not come here: it always
    runs in process).

    An override keeps the config of the job's, definitions' or deployment's executor of the
    same name.
    """
    from bakehouse.authoring.executors import ExecutorDefinition, multiprocess_executor

    default = os.environ.get(DEFAULT_EXECUTOR_ENV)
    deployment = None
    if default:
        data = json.loads(default)
        deployment = ExecutorDefinition(str(data["name"]), dict(data.get("config") or {}))
    configured = [
        d for d in (job.executor_def if job else None, defs.executor, deployment) if d is not None
    ]
    if override:
        return next((d for d in configured if d.name == override), ExecutorDefinition(override))
    return configured[0] if configured else multiprocess_executor
