"""The run worker: loads a location's code in its own interpreter and executes one run.

Started as ``<location python> -m bakehouse run-worker --run-id ...``; everything it does is
recorded in instance storage, which is how the CLI and the host follow it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bakehouse.errors import ErrorInfo, StorageError
from bakehouse.protocol.wire import EXECUTOR_TAG, STORAGE_FAILED_EXIT, STORAGE_FAILURE_PREFIX
from bakehouse.storage.records import EventType, RunStatus

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
    only_keys: list[str] | None = None,
    executor: str | None = None,
) -> int:
    """Execute run `run_id`; return 0 on success, 1 on failure, `STORAGE_FAILED_EXIT` when
    storage refused a write (the cause on stderr).

    With `only_keys`, execute just those assets as one part of a run that the launcher drives
    across locations: the launcher writes the run's start and end. `executor` names the executor
    to use over the run's tag and the definitions (see `choose_executor`).
    """
    try:
        return _run_worker(
            run_id=run_id,
            module=module,
            defs_module=defs_module,
            storage_url=storage_url,
            storage_dir=storage_dir,
            only_keys=only_keys,
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
    only_keys: list[str] | None,
    executor: str | None,
) -> int:
    from bakehouse.storage import Instance

    with Instance.open(storage_url, storage_dir=storage_dir) as instance:
        run = instance.get_run(run_id)
        if run.status.is_finished:
            return 0 if run.status == RunStatus.SUCCESS else 1
        from bakehouse.execution.events import EventWriter

        writer = EventWriter(instance, run_id)
        try:
            from bakehouse.authoring.graphs import JobDefinition
            from bakehouse.authoring.loading import load_definitions
            from bakehouse.execution.run import execute_run
            from bakehouse.execution.step_executor import LocationModule, executor_for
            from bakehouse.graph.keys import AssetKey
            from bakehouse.graph.selection import select_keys

            defs = load_definitions(module, defs_module=defs_module)
            graph = defs.resolve_asset_graph()
            run_config = dict(run.run_config)
            tags = dict(run.tags)
            found = defs.get_job_def(run.job_name) if run.job_name else None
            if found is not None:
                run_config = run_config or dict(found.config or {})
                tags = {**found.tags, **tags}
            if isinstance(found, JobDefinition):
                return _run_op_job(found, defs, run_id, writer, instance, run_config, tags)
            job = found
            # The launcher resolved the selection against a snapshot; resolve it here only for
            # runs stored without one.
            if only_keys is not None:
                keys = [AssetKey.from_user_string(k) for k in only_keys]
            elif run.asset_selection:
                keys = [AssetKey.from_user_string(k) for k in run.asset_selection]
            elif job is not None:
                keys = defs.resolve_job_keys(job)
            elif run.selection_query:
                chosen = select_keys(run.selection_query, graph.key_graph)
                keys = [AssetKey.from_user_string(k) for k in chosen]
            else:
                raise ValueError("the run names no assets, selection or job")
            runnable = graph.toposorted_keys(k for k in keys if k in graph.assets_def_by_key)
            # A job's selection says which checks run (AssetSelection.checks(...) may select
            # checks alone); other runs evaluate the checks of their assets defined here.
            check_keys = None
            if job is not None:
                # Checks of the job's assets left out of this run (a subset) stay out.
                job_keys, ran = set(defs.resolve_job_keys(job)), set(runnable)
                check_keys = [
                    c
                    for c in defs.resolve_job_check_keys(job)
                    if c.asset_key in ran or c.asset_key not in job_keys
                ]
            if not runnable and not check_keys:
                raise ValueError(
                    f"selection {run.selection_query or list(run.asset_selection)!r} contains no "
                    "asset that can be materialized here (only external assets)"
                )
            executor_def = choose_executor(executor or tags.get(EXECUTOR_TAG), job, defs)
            step_executor = executor_for(executor_def, location=LocationModule(module, defs_module))
            if only_keys is None:
                selected = tuple(k.to_user_string() for k in runnable)
                instance.update_run(run_id, asset_selection=selected)
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded as the run's failure
            error = ErrorInfo.from_exception(exc)
            if only_keys is None:
                writer.emit(EventType.RUN_START, f"Started run {run_id}.")
            writer.emit(
                EventType.RUN_FAILURE if only_keys is None else EventType.ENGINE,
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
            run_config=run_config,
            tags=tags,
            lifecycle=only_keys is None,
            executor=step_executor,
            partition_key=run.partition_key,
            partition_range=run.partition_range,
            check_keys=check_keys,
            job_name=job.name if job is not None else None,
            hooks=job.hooks if job is not None else (),
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
    )
    return 0 if outcome.success else 1


def choose_executor(
    override: str | None, job: AssetJobDefinition | None, defs: Definitions
) -> ExecutorDefinition:
    """The executor of a run: `override` if given, else the job's, else the definitions', else
    multiprocess (``materialize()`` does not come here: it always runs in process).

    An override keeps the config of the job's or definitions' executor of the same name.
    """
    from bakehouse.authoring.executors import ExecutorDefinition, multiprocess_executor

    configured = [d for d in (job.executor_def if job else None, defs.executor) if d is not None]
    if override:
        return next((d for d in configured if d.name == override), ExecutorDefinition(override))
    return configured[0] if configured else multiprocess_executor
