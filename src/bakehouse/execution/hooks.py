"""Calling a run's hooks after each step: success hooks after a success, failure hooks after a
failure. A hook that raises is logged and fails nothing (as in Dagster)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bakehouse.authoring.context import RunLogger
from bakehouse.errors import ErrorInfo
from bakehouse.execution.instance import as_dagster_instance
from bakehouse.storage.records import EventType

if TYPE_CHECKING:
    from bakehouse.execution.step import StepEnvironment


def run_hooks(step_key: str, env: StepEnvironment, failure: BaseException | None) -> None:
    """Call each hook of the run that runs on this outcome of step `step_key`."""
    if not env.hooks:
        return
    from bakehouse.authoring.hooks import HookContext

    for hook in env.hooks:
        if not hook.runs_on(failure is None):
            continue
        log = RunLogger(env.writer.step_logger(step_key), prefix=f"[{step_key}] ")
        context = HookContext(
            hook_name=hook.name,
            step_key=step_key,
            run_id=env.run_id,
            job_name=env.job_name,
            resources={k: env.resources[k] for k in hook.required_resource_keys},
            log=log,
            instance=as_dagster_instance(env.instance),
            op_exception=failure,
            op_config=env.configs.get(step_key),
        )
        try:
            hook.hook_fn(context)
        except Exception as exc:  # noqa: BLE001 - a hook's error is reported, never fatal
            error = ErrorInfo.from_exception(exc)
            env.writer.emit(
                EventType.ENGINE,
                f"Hook '{hook.name}' on step '{step_key}' raised: {error.message}",
                level="ERROR",
                step_key=step_key,
                data={"error": error.to_dict(), "hook": hook.name},
            )
