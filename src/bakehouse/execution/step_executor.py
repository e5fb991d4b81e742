"""The seam between a run and the executor of its steps: what an executor receives and records.

`execute_run` plans the run and validates its config, then hands the steps to an executor: the
in-process loop when none is given (``materialize()``), else a `StepExecutor` such as the
multiprocess one, chosen by `executor_for`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bakehouse.authoring.definitions_class import Definitions
from bakehouse.authoring.executors import ExecutorDefinition
from bakehouse.errors import ExecutionError
from bakehouse.execution.events import EventWriter
from bakehouse.execution.plan import ExecutionPlan
from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import EventType

if TYPE_CHECKING:
    from bakehouse.execution.run import RunOutcome


@dataclass(frozen=True)
class RunSteps:
    """A planned run whose steps are ready to execute: config validated, nothing set up yet."""

    defs: Definitions
    plan: ExecutionPlan
    run_id: str
    # Validated config objects by step key, and the run config they came from (a process that
    # reloads the code validates it again).
    configs: Mapping[str, Any]
    run_config: Mapping[str, Any]
    tags: Mapping[str, str]
    # Resources the caller gives in place of the definitions' own (in-process callers only).
    resource_overrides: Mapping[str, Any] | None = None
    # The partition the run's partitioned steps materialize, or the range (first, last key)
    # each of them materializes in one execution.
    partition_key: str | None = None
    partition_range: tuple[str, str] | None = None
    # The job the run is of, if any, and its hooks (`HookDefinition`s), called after each step.
    job_name: str | None = None
    hooks: tuple[Any, ...] = ()
    # Capture each step's stdout and stderr into the instance's compute logs (run workers do;
    # in-process `materialize()` does not).
    capture_logs: bool = False


class StepExecutor(Protocol):
    """Executes a run's steps in dependency order and fills `outcome` step by step.

    It writes the steps' events, including STEP_SKIPPED for steps behind a failure (through
    `record_skipped`), but not the run's start and end, which `execute_run` writes. An error that
    stops the whole run is raised.
    """

    def execute(
        self, steps: RunSteps, writer: EventWriter, instance: InstanceProtocol, outcome: RunOutcome
    ) -> None:
        """Execute every step of `steps.plan` that its upstream steps allow."""


def record_skipped(
    writer: EventWriter,
    outcome: RunOutcome,
    step_key: str,
    cause: str,
    partition_key: str | None = None,
) -> None:
    """Record that `step_key` will not run because upstream step `cause` did not succeed."""
    outcome.skipped.append(step_key)
    writer.emit(
        EventType.STEP_SKIPPED,
        f"Skipped step '{step_key}': upstream step '{cause}' did not succeed.",
        level="WARNING",
        step_key=step_key,
        partition_key=partition_key,
        data={"upstream": cause},
    )


@dataclass(frozen=True)
class LocationModule:
    """Where a run's code came from, for executor processes that must import it again."""

    module: str
    defs_module: str | None = None
    # The location's name, where the process knows it (run workers the host starts do).
    name: str | None = None


EXECUTORS = ("in_process", "multiprocess", "celery")
# Executors that live in an integration package, imported only when a run uses them.
_INTEGRATED = {"celery": ("bakehouse_celery.executor", "CeleryExecutor", "bakehouse[celery]")}


def executor_for(
    definition: ExecutorDefinition, *, location: LocationModule | None = None
) -> StepExecutor | None:
    """The implementation `definition` names; None means execute in process.

    Raises ExecutionError for a name no implementation answers to.
    """
    if definition.name == "in_process":
        return None
    if definition.name == "multiprocess":
        from bakehouse.execution.multiprocess import MultiprocessExecutor

        return MultiprocessExecutor.from_definition(definition, location=location)
    if definition.name in _INTEGRATED:
        import importlib

        module_name, class_name, extra = _INTEGRATED[definition.name]
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ExecutionError(
                f"executor '{definition.name}' needs {extra} installed in this location's "
                f"environment: {exc}"
            ) from None
        built: StepExecutor = getattr(module, class_name).from_definition(
            definition, location=location
        )
        return built
    raise ExecutionError(
        f"unknown executor '{definition.name}' (executors: {', '.join(EXECUTORS)})"
    )
