"""The multiprocess executor: a run's independent steps execute in parallel in warm processes.

A step goes to the `ProcessPool` once every upstream step has succeeded, with never more than
`max_concurrent` steps executing at once; a step behind a failed one is skipped, as in process.
A process whose step succeeds goes on by itself to the step that waits for that one alone (a
chain: a round trip saved per step), unless steps wait for a process or the run is stopping.
Each process writes its own steps' events; this side writes the engine's events, the skips, and
what becomes of a step whose process died under it: retried as its RetryPolicy allows, as if it
had raised, else failed.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import sys
import time
from typing import TYPE_CHECKING

from bakehouse.authoring.executors import ExecutorDefinition
from bakehouse.errors import ErrorInfo, ExecutionError, ResourceSetupError
from bakehouse.execution.events import EventWriter
from bakehouse.execution.partitions import step_partition_key
from bakehouse.execution.plan import ExecutionPlan, Step
from bakehouse.execution.process_pool import (
    ProcessPool,
    Report,
    SetupFailed,
    StepDone,
    StepLost,
)
from bakehouse.execution.step_executor import LocationModule, RunSteps
from bakehouse.execution.step_process import StorageAddress
from bakehouse.execution.step_retry import (
    job_retry_policy,
    record_up_for_retry,
    retry_by_policy,
    step_retry_policy,
)
from bakehouse.execution.step_scheduler import StepScheduler
from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import EventType

if TYPE_CHECKING:
    from bakehouse.execution.run import RunOutcome


def default_start_method() -> str:
    """``fork`` where the platform has it and it is safe, else ``spawn``.

    macOS has fork, but system frameworks loaded before it can crash the child, which is why
    Python itself spawns there by default.
    """
    if sys.platform != "darwin" and "fork" in multiprocessing.get_all_start_methods():
        return "fork"
    return "spawn"


class MultiprocessExecutor:
    """Executes steps in up to `max_concurrent` warm worker processes (a `StepExecutor`)."""

    def __init__(
        self,
        *,
        max_concurrent: int | None = None,
        start_method: str | None = None,
        location: LocationModule | None = None,
    ) -> None:
        self.max_concurrent = max_concurrent or os.cpu_count() or 1
        self.start_method = start_method or default_start_method()
        # Spawned processes import the code again from here; forked ones inherit it.
        self.location = location

    @classmethod
    def from_definition(
        cls, definition: ExecutorDefinition, *, location: LocationModule | None = None
    ) -> MultiprocessExecutor:
        """The executor `multiprocess_executor.configured(...)` describes."""
        return cls(
            max_concurrent=definition.config.get("max_concurrent"),
            start_method=definition.config.get("start_method"),
            location=location,
        )

    def execute(
        self, steps: RunSteps, writer: EventWriter, instance: InstanceProtocol, outcome: RunOutcome
    ) -> None:
        """Execute `steps` in the pool; raises ExecutionError when the run cannot go on."""
        storage = _storage_address(instance)
        if self.start_method == "spawn" and self.location is None:
            raise ExecutionError(
                "the multiprocess executor cannot spawn worker processes here: it does not know "
                "the code location's module to import in them"
            )
        size = max(1, min(self.max_concurrent, len(steps.plan.steps)))
        writer.emit(
            EventType.ENGINE,
            f"Executing {len(steps.plan.steps)} steps in up to {size} worker processes "
            f"({self.start_method}).",
            data={
                "steps": [s.key for s in steps.plan.steps],
                "max_concurrent": self.max_concurrent,
                "start_method": self.start_method,
            },
        )
        with ProcessPool(
            steps,
            size=size,
            storage=storage,
            start_method=self.start_method,
            location=self.location,
            before_fork=functools.partial(_before_fork, writer, instance),
            on_started=functools.partial(_record_started, writer, self.start_method),
        ) as pool:
            setup_failure = _Scheduler(steps.plan, pool, writer, outcome).run()
            teardown_failures = pool.close()
        if setup_failure is not None:
            writer.emit(
                EventType.ENGINE,
                f"Worker process pid {setup_failure.pid} could not set up the run: "
                f"{setup_failure.error.message}",
                level="ERROR",
                data={
                    "error": setup_failure.error.to_dict(),
                    "worker_process_pid": setup_failure.pid,
                },
            )
            # The same class as in process, so a run fails with one message either way.
            same = setup_failure.error.cls_name == ResourceSetupError.__name__
            raise (ResourceSetupError if same else ExecutionError)(setup_failure.detail)
        for failure in teardown_failures:
            writer.emit(
                EventType.ENGINE,
                f"Worker process pid {failure.pid} failed to tear down its resources: "
                f"{failure.error.message}",
                level="ERROR",
                data={"error": failure.error.to_dict(), "worker_process_pid": failure.pid},
            )
        if teardown_failures:
            first = teardown_failures[0]
            raise ExecutionError(
                f"resource teardown failed in worker process pid {first.pid}: {first.error.message}"
            )


class _Scheduler:
    """Feeds ready steps to the pool in plan order and records what comes back."""

    def __init__(
        self, plan: ExecutionPlan, pool: ProcessPool, writer: EventWriter, outcome: RunOutcome
    ) -> None:
        self.pool = pool
        self.writer = writer
        self.steps = StepScheduler(plan, writer, outcome, pool.steps.partition_key)
        # The RetryPolicy of steps without their own: a step whose process died is retried by
        # it as one that raised would be (in its process, which is gone).
        self.default_policy = job_retry_policy(pool.steps)
        self.setup_failure: SetupFailed | None = None
        # Retries due while every process was busy, and each running step's attempt number.
        self.held: list[tuple[Step, int]] = []
        self.attempts: dict[str, int] = {}

    def run(self) -> SetupFailed | None:
        """Execute until no step can start; the first setup failure, if any stopped the run."""
        while True:
            self.held += self.steps.pop_due()
            # After a setup failure nothing new starts: the run fails once running steps end.
            # Retries whose delay has passed go first, then ready steps in plan order.
            while self.pool.busy < self.pool.size and self.setup_failure is None:
                if self.held:
                    step, attempt = self.held.pop(0)
                elif self.steps.has_ready():
                    step, attempt = self.steps.pop_ready(), 1
                else:
                    break
                self.attempts[step.key] = attempt
                self.pool.submit(step.key, attempt, chain=True)
            if self.setup_failure is not None or (
                self.pool.busy >= self.pool.size and (self.held or self.steps.has_ready())
            ):
                # Steps wait for a process (they go in plan order, as in the executor without
                # chains), or nothing new may start: no process goes on by itself.
                self.pool.hold()
            wait = self.steps.seconds_to_next_retry()
            if self.setup_failure is not None:
                wait = None  # held retries are dropped with the run
            if not self.pool.busy:
                if wait is None:
                    return self.setup_failure
                time.sleep(wait)
                continue
            for report in self.pool.wait(wait):
                self._handle(report)

    def _handle(self, report: Report) -> None:
        if isinstance(report, StepDone):
            if report.retry_in is not None:
                attempt = self.attempts[report.step_key] + 1
                self.steps.retry(report.step_key, attempt, report.retry_in)
            elif report.ok:
                self.steps.succeeded(report.step_key)
                if report.chained is not None:
                    self.steps.claim(report.chained)
                    self.attempts[report.chained] = 1
            else:
                self.steps.failed(report.step_key)
        elif isinstance(report, StepLost):
            self._lost(report)
        elif self.setup_failure is None:
            self.setup_failure = report

    def _lost(self, report: StepLost) -> None:
        """The step whose process died: up for retry if its RetryPolicy allows another attempt
        (as in Dagster), else failed."""
        key = report.step_key
        step = self.steps.step(key)
        code = report.exitcode
        if code is not None and code < 0:
            how, signal_name = f"died with signal {-code}", _signal_name(-code)
        else:
            how, signal_name = f"exited with code {code}", None
        text = f"worker process pid {report.pid} {how} while executing step '{key}'"
        error = ErrorInfo(cls_name="WorkerProcessDied", message=f"WorkerProcessDied: {text}")
        attempt = self.attempts.get(key, 1)
        died = {"worker_process_pid": report.pid, "exitcode": code, "signal": signal_name}
        partition = step_partition_key(step.assets_def, self.pool.steps.partition_key)
        decision = retry_by_policy(step_retry_policy(step, self.default_policy), attempt)
        if decision is not None:
            record_up_for_retry(
                self.writer,
                key,
                error,
                attempt=attempt,
                max_retries=decision.max_retries,
                seconds_to_wait=decision.seconds_to_wait,
                partition_key=partition,
                data=died,
            )
            self.steps.retry(key, attempt + 1, decision.seconds_to_wait)
            return
        data: dict[str, object] = {"error": error.to_dict(), **died}
        if attempt > 1:
            data["attempt"] = attempt
        self.writer.emit(
            EventType.STEP_FAILURE,
            f"Execution of step '{key}' failed: {error.message}",
            level="ERROR",
            step_key=key,
            partition_key=partition,
            data=data,
        )
        self.steps.failed(key)


def _signal_name(number: int) -> str | None:
    try:
        return signal.Signals(number).name
    except ValueError:
        return None


def _storage_address(instance: InstanceProtocol) -> StorageAddress:
    from bakehouse.storage import dialect

    url = str(instance.url)
    if dialect.is_sqlite_memory(dialect.parse_url(url)):
        raise ExecutionError(
            "the multiprocess executor needs storage other processes can open, and this run's "
            "is in-memory SQLite: use the in_process executor"
        )
    return StorageAddress(url=url, storage_dir=str(instance.storage_dir))


def _before_fork(writer: EventWriter, instance: InstanceProtocol) -> None:
    """Store the buffered events, then close the connections: with nothing buffered the
    writer's background flusher has nothing to store, so no connection is open at the fork."""
    writer.flush()
    _release_connections(instance)


def _release_connections(instance: InstanceProtocol) -> None:
    """Close this process's pooled database connections before a fork.

    A forked child must never use, or even close, a connection it inherited (SQLite's file locks
    and PostgreSQL's sockets would be shared); with none open at the fork there is nothing to
    inherit, and this process reconnects on its next write. `Instance` has no public call for it,
    so the engine is reached through the database it wraps.
    """
    engine = getattr(getattr(instance, "_db", None), "engine", None)
    if engine is not None:
        engine.dispose()


def _record_started(writer: EventWriter, start_method: str, pid: int) -> None:
    writer.emit(
        EventType.ENGINE,
        f"Started worker process pid {pid} ({start_method}).",
        level="DEBUG",
        data={"worker_process_pid": pid},
    )
