"""Which steps of a run may start, which are skipped behind a failure, and how the run's steps
ended: the bookkeeping every executor shares, whatever runs the steps.

An executor asks for ready steps (in plan order, as far as its concurrency allows), executes them
its own way, and reports each one's end here; the scheduler fills the run's outcome and records
STEP_SKIPPED for every step behind a failed one. An attempt up for retry is held until its
RetryPolicy's delay has passed, then handed out again with the next attempt's number.
"""

from __future__ import annotations

import heapq
import time
from typing import TYPE_CHECKING

from bakehouse.execution.events import EventWriter
from bakehouse.execution.partitions import step_partition_key
from bakehouse.execution.plan import ExecutionPlan, Step
from bakehouse.execution.step_executor import record_skipped

if TYPE_CHECKING:
    from bakehouse.execution.run import RunOutcome


class StepScheduler:
    """Tracks a plan's steps from waiting to ready to succeeded, failed or skipped."""

    def __init__(
        self,
        plan: ExecutionPlan,
        writer: EventWriter,
        outcome: RunOutcome,
        partition_key: str | None = None,
    ) -> None:
        self.plan = plan
        self.writer = writer
        self.outcome = outcome
        self.partition_key = partition_key
        self.index = {step.key: i for i, step in enumerate(plan.steps)}
        self.downstream: dict[str, list[str]] = {step.key: [] for step in plan.steps}
        self.waiting: dict[str, set[str]] = {}
        for step in plan.steps:
            self.waiting[step.key] = set(step.upstream_steps)
            for upstream in step.upstream_steps:
                self.downstream[upstream].append(step.key)
        # Plan indexes of steps whose upstream steps all succeeded; a heap, so that steps start
        # in plan order as far as concurrency allows.
        self.ready = [i for i, step in enumerate(plan.steps) if not step.upstream_steps]
        self.unsuccessful: set[str] = set()  # failed or skipped
        # Attempts up for retry: (when it is due, time.monotonic(); plan index; attempt number).
        self.delayed: list[tuple[float, int, int]] = []

    def step(self, key: str) -> Step:
        """The plan's step `key`."""
        return self.plan.steps[self.index[key]]

    def has_ready(self) -> bool:
        """True while a step waits only for the executor to start it."""
        return bool(self.ready)

    def pop_ready(self) -> Step:
        """The first ready step in plan order, now the executor's to start."""
        return self.plan.steps[heapq.heappop(self.ready)]

    def claim(self, key: str) -> None:
        """Take the ready step `key` as started: a worker went on to it by itself (a chain)."""
        self.ready.remove(self.index[key])
        heapq.heapify(self.ready)

    def retry(self, key: str, attempt: int, seconds_to_wait: float) -> None:
        """Hold attempt number `attempt` of `key` until `seconds_to_wait` have passed."""
        due = time.monotonic() + max(0.0, seconds_to_wait)
        heapq.heappush(self.delayed, (due, self.index[key], attempt))

    def pop_due(self) -> list[tuple[Step, int]]:
        """The retries whose delay has passed, with their attempt numbers, now the executor's."""
        now = time.monotonic()
        due: list[tuple[Step, int]] = []
        while self.delayed and self.delayed[0][0] <= now:
            _, index, attempt = heapq.heappop(self.delayed)
            due.append((self.plan.steps[index], attempt))
        return due

    def seconds_to_next_retry(self) -> float | None:
        """How long until the next held retry is due; None when none is held."""
        if not self.delayed:
            return None
        return max(0.0, self.delayed[0][0] - time.monotonic())

    def succeeded(self, key: str) -> None:
        """Record that `key` succeeded; the steps waiting only for it become ready."""
        self.outcome.succeeded.append(key)
        for child in self.downstream[key]:
            self.waiting[child].discard(key)
            if not self.waiting[child] and child not in self.unsuccessful:
                heapq.heappush(self.ready, self.index[child])

    def failed(self, key: str) -> None:
        """Record that `key` failed, and skip every step downstream of it (STEP_SKIPPED)."""
        self.outcome.failed.append(key)
        self.unsuccessful.add(key)
        behind: set[str] = set()
        stack = [key]
        while stack:
            for child in self.downstream[stack.pop()]:
                if child not in behind and child not in self.unsuccessful:
                    behind.add(child)
                    stack.append(child)
        # In plan order, so each skip names an upstream step already failed or skipped.
        for child in sorted(behind, key=self.index.__getitem__):
            step = self.step(child)
            cause = next(u for u in step.upstream_steps if u in self.unsuccessful)
            self.unsuccessful.add(child)
            partition = step_partition_key(step.assets_def, self.partition_key)
            record_skipped(self.writer, self.outcome, child, cause, partition)
