"""The celery executor: sends each step of a run to its location's queue and follows it to the
end through storage, where workers record what they do.

A step is sent once every upstream step succeeded. The event log says how each attempt ended
(STEP_SUCCESS, STEP_FAILURE, or STEP_UP_FOR_RETRY, which sends the next attempt after the
RetryPolicy's delay); the claims and the workers' heartbeats say whether an attempt still has a
worker. An attempt whose worker stopped heartbeating, or whose pool process died, is lost: it is
retried as the step's RetryPolicy says (recorded as STEP_UP_FOR_RETRY) or failed with the reason.
A step no live worker listens for fails after `worker_timeout`. A cancel (the run's status, or
SIGTERM to this run worker) revokes queued tasks and terminates running ones.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import signal
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from bakehouse.authoring.executors import ExecutorDefinition
from bakehouse.authoring.retries import RetryPolicy
from bakehouse.errors import ErrorInfo, ExecutionError
from bakehouse.execution.events import EventWriter
from bakehouse.execution.partitions import step_partition_key
from bakehouse.execution.plan import Step
from bakehouse.execution.step_executor import LocationModule, RunSteps
from bakehouse.execution.step_retry import job_retry_policy, step_retry_policy
from bakehouse.execution.step_scheduler import StepScheduler
from bakehouse.storage.protocol import InstanceProtocol
from bakehouse.storage.records import EventType, WorkerClaim, WorkerRecord
from bakehouse_celery import PRIORITY_TAG, QUEUE_TAG, RUN_PRIORITY_TAG
from bakehouse_celery.app import (
    DEFAULT_PRIORITY,
    MAX_PRIORITY,
    TASK_NAME,
    host_id,
    make_app,
    task_id,
)
from bakehouse_celery.config import CeleryConfig

if TYPE_CHECKING:
    from celery import Celery

    from bakehouse.execution.run import RunOutcome

# How often the event log is read for steps that ended, and how often workers' liveness is.
_POLL_SECONDS = 0.02
_LIVENESS_SECONDS = 1.0
# How hard one publish tries before the executor moves on (it tries again on the next check).
_PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
# A worker's heartbeat this long after a claim must list the claimed task, or its pool process
# died under it (covers the heartbeat's own interval).
_CLAIM_GRACE_SECONDS = 3.0


class _Canceled(BaseException):
    """Raised by the SIGTERM handler: the run is being canceled (a BaseException, so nothing in
    between swallows it)."""


@dataclass
class _Attempt:
    step: Step
    number: int
    queue: str
    sent_at: float
    task_id: str
    message: dict[str, Any]
    priority: int
    # None once the broker took it; else when publishing first failed, and why.
    unsent_since: float | None = None
    unsent_error: str = ""


class CeleryExecutor:
    """Executes a run's steps as Celery tasks (a `StepExecutor`)."""

    def __init__(self, config: CeleryConfig, *, location: LocationModule | None = None) -> None:
        self.config = config
        self.location = location

    @classmethod
    def from_definition(
        cls, definition: ExecutorDefinition, *, location: LocationModule | None = None
    ) -> CeleryExecutor:
        """The executor `celery_executor.configured(...)` describes."""
        return cls(CeleryConfig.from_executor_config(definition.config), location=location)

    def execute(
        self, steps: RunSteps, writer: EventWriter, instance: InstanceProtocol, outcome: RunOutcome
    ) -> None:
        """Execute `steps` on the workers; raises ExecutionError when the run cannot start."""
        if self.location is None:
            raise ExecutionError(
                "the celery executor needs the code location's module, for workers to load"
            )
        queues = {s.key: self.queue_of(s) for s in steps.plan.steps}
        _refuse_sqlite_across_hosts(instance, set(queues.values()))
        app = make_app(self.config)
        writer.emit(
            EventType.ENGINE,
            f"Executing {len(steps.plan.steps)} steps as Celery tasks on queue(s) "
            f"{', '.join(sorted(set(queues.values())))}.",
            data={"steps": [s.key for s in steps.plan.steps], "queues": queues},
        )
        driver = _Driver(self, app, steps, writer, instance, outcome, queues)
        with _sigterm_cancels():
            try:
                driver.run()
            except _Canceled:
                driver.revoke_all("the run worker was asked to stop (the run was canceled)")
                raise ExecutionError(
                    "stopped by SIGTERM (the run was canceled): its Celery tasks were revoked"
                ) from None

    def queue_of(self, step: Step) -> str:
        """The queue of `step`: its op tag, else its location's name, else its module."""
        tagged = _op_tags(step).get(QUEUE_TAG)
        if tagged:
            return str(tagged)
        assert self.location is not None
        return self.location.name or self.location.module or str(self.location.defs_module)


def _op_tags(step: Step) -> Mapping[str, Any]:
    """The step's op tags (check steps have them too, where their definition keeps them)."""
    tags = getattr(step.assets_def, "op_tags", None)
    return tags if isinstance(tags, Mapping) else {}


def _priority(step: Step, steps: RunSteps, redis: bool) -> int:
    def number(value: Any, where: str) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ExecutionError(f"{where} must be a whole number, not {value!r}") from None

    base = number(_op_tags(step).get(PRIORITY_TAG, DEFAULT_PRIORITY), PRIORITY_TAG)
    base += number(steps.tags.get(RUN_PRIORITY_TAG, 0), RUN_PRIORITY_TAG)
    value = max(0, min(MAX_PRIORITY, base))
    # Redis's transport serves lower numbers first; RabbitMQ higher ones.
    return MAX_PRIORITY - value if redis else value


def _refuse_sqlite_across_hosts(instance: InstanceProtocol, queues: set[str]) -> None:
    """SQLite is a file on this host: refuse a run that workers on other hosts would execute.

    Decided from the workers' heartbeats (which hold their machine's id, /etc/machine-id): every
    live worker listening on one of the run's queues must be on this machine. Workers on other
    machines could not even heartbeat into this file unless it sat on a shared disk, which
    SQLite's locking does not survive; a worker that gets a task anyway refuses it too.
    """
    from bakehouse.storage import dialect

    if dialect.parse_url(str(instance.url)).get_backend_name() != "sqlite":
        return
    here = host_id()
    elsewhere = [
        w
        for w in instance.get_workers(seen_since=time.time() - 120)
        if set(w.queues) & queues and w.stopped_at is None and w.host_id != here
    ]
    if elsewhere:
        names = ", ".join(f"{w.worker_id} on {w.hostname}" for w in elsewhere)
        raise ExecutionError(
            "a Celery run with SQLite storage needs every worker on this host, and "
            f"{names} is not: SQLite is a file on this machine. Use PostgreSQL storage "
            "(BAKEHOUSE_STORAGE_URL=postgresql+psycopg://...) for workers on other hosts."
        )


@contextmanager
def _sigterm_cancels() -> Iterator[None]:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once: revoking must finish
        raise _Canceled

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: cancels come through the run's status only
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class _Driver:
    """Sends ready steps, reads their ends from storage, watches their workers."""

    def __init__(
        self,
        executor: CeleryExecutor,
        app: Celery,
        steps: RunSteps,
        writer: EventWriter,
        instance: InstanceProtocol,
        outcome: RunOutcome,
        queues: dict[str, str],
    ) -> None:
        self.config = executor.config
        self.location = executor.location
        self.app = app
        self.steps = steps
        self.writer = writer
        self.instance = instance
        self.queues = queues
        self.scheduler = StepScheduler(steps.plan, writer, outcome, steps.partition_key)
        self.inflight: dict[str, _Attempt] = {}
        # Retries waiting for their RetryPolicy's delay: (due time, step key, attempt).
        self.delayed: list[tuple[float, str, int]] = []
        self.cursor = _last_event_id(instance, steps.run_id)
        # When a live worker last listened on each queue (a step waits for one that long).
        self.queue_seen: dict[str, float] = {}
        self.message_base = self._message_base()
        self.default_policy = job_retry_policy(steps)

    def _message_base(self) -> dict[str, Any]:
        assert self.location is not None
        steps = self.steps
        plan = {
            "asset_keys": [k.to_user_string() for k in steps.plan.asset_keys],
            "check_keys": [c.to_user_string() for c in steps.plan.check_keys],
            "run_config": dict(steps.run_config),
            "tags": dict(steps.tags),
            "partition_key": steps.partition_key,
            "partition_range": list(steps.partition_range) if steps.partition_range else None,
            "job_name": steps.job_name,
        }
        digest = hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest()[:16]
        return {
            "run_id": steps.run_id,
            "storage_url": str(self.instance.url),
            "storage_dir": str(self.instance.storage_dir),
            "host_id": host_id(),
            "location": {
                "module": self.location.module,
                "defs_module": self.location.defs_module,
                "name": self.location.name,
            },
            "plan": plan,
            "plan_digest": digest,
        }

    def max_retries(self, step: Step) -> int:
        policy = self.policy(step)
        return policy.max_retries if policy is not None and self.config.retries_enabled else 0

    def policy(self, step: Step) -> RetryPolicy | None:
        return step_retry_policy(step, self.default_policy)

    def run(self) -> None:
        next_liveness = time.monotonic() + _LIVENESS_SECONDS
        while True:
            while self.scheduler.has_ready():
                self.send(self.scheduler.pop_ready(), 1)
            now = time.time()
            while self.delayed and self.delayed[0][0] <= now:
                _, key, number = heapq.heappop(self.delayed)
                self.send(self.scheduler.step(key), number)
            if not self.inflight and not self.delayed:
                return
            self.read_events()
            if time.monotonic() >= next_liveness:
                next_liveness = time.monotonic() + _LIVENESS_SECONDS
                if self.instance.get_run(self.steps.run_id).status.is_finished:
                    self.revoke_all("the run ended while its steps were running (canceled)")
                    return
                self.check_liveness()
            time.sleep(_POLL_SECONDS)

    def send(self, step: Step, number: int) -> None:
        message = {
            **self.message_base,
            "step_key": step.key,
            "attempt": number,
            "max_retries": self.max_retries(step),
            "retries_enabled": self.config.retries_enabled,
        }
        attempt = _Attempt(
            step=step,
            number=number,
            queue=self.queues[step.key],
            sent_at=time.time(),
            task_id=task_id(self.steps.run_id, number, step.key),
            message=message,
            priority=_priority(step, self.steps, self.config.is_redis),
        )
        self.inflight[step.key] = attempt
        self.publish(attempt)

    def publish(self, attempt: _Attempt) -> None:
        """Hand `attempt` to the broker; one the broker does not take now is sent again on the
        next liveness check, and failed once the broker stayed away `worker_timeout`."""
        try:
            self.app.send_task(
                TASK_NAME,
                args=[attempt.message],
                task_id=attempt.task_id,
                queue=attempt.queue,
                priority=attempt.priority,
                retry=True,
                retry_policy=_PUBLISH_RETRY,
            )
        except Exception as exc:  # noqa: BLE001 - kombu's and the transports' connection errors
            if attempt.unsent_since is None:
                attempt.unsent_since = time.time()
            attempt.unsent_error = f"{type(exc).__name__}: {exc}"
            return
        attempt.unsent_since = None
        attempt.sent_at = time.time()

    def read_events(self) -> None:
        events = self.instance.get_events(
            self.steps.run_id,
            after_storage_id=self.cursor,
            event_types=[
                EventType.STEP_SUCCESS,
                EventType.STEP_FAILURE,
                EventType.STEP_UP_FOR_RETRY,
            ],
        )
        for event in events:
            self.cursor = max(self.cursor, event.storage_id or 0)
            attempt = self.inflight.get(event.step_key or "")
            if attempt is None:
                continue
            if event.event_type == EventType.STEP_SUCCESS:
                del self.inflight[attempt.step.key]
                self.scheduler.succeeded(attempt.step.key)
            elif event.event_type == EventType.STEP_FAILURE:
                del self.inflight[attempt.step.key]
                self.scheduler.failed(attempt.step.key)
            elif int(event.data.get("attempt", attempt.number)) == attempt.number:
                self.retry_later(attempt, event.data.get("seconds_to_wait"))

    def retry_later(self, attempt: _Attempt, seconds_to_wait: Any = None) -> None:
        """Send the next attempt after the delay the attempt's STEP_UP_FOR_RETRY named (a
        RetryRequested's own), else the step's RetryPolicy's."""
        del self.inflight[attempt.step.key]
        if isinstance(seconds_to_wait, (int, float)):
            delay = float(seconds_to_wait)
        else:
            policy = self.policy(attempt.step)
            delay = policy.delay_before(attempt.number + 1) if policy is not None else 0.0
        heapq.heappush(self.delayed, (time.time() + delay, attempt.step.key, attempt.number + 1))

    def check_liveness(self) -> None:
        now = time.time()
        workers = {w.worker_id: w for w in self.instance.get_workers()}
        live = [
            w for w in workers.values()
            if w.stopped_at is None and now - w.heartbeat_at <= self.config.worker_timeout
        ]  # fmt: skip
        for worker in live:
            for queue in worker.queues:
                self.queue_seen[queue] = now
        claims: dict[tuple[str, int], WorkerClaim] = {
            (c.step_key, c.attempt): c for c in self.instance.get_step_claims(self.steps.run_id)
        }
        for key, attempt in list(self.inflight.items()):
            claim = claims.get((key, attempt.number))
            if claim is not None:
                reason = _lost_reason(claim, workers.get(claim.worker_id), now, self.config)
                if reason is not None:
                    self.lost(attempt, reason)
                continue
            if attempt.unsent_since is not None:
                if now - attempt.unsent_since > self.config.worker_timeout:
                    self.fail_unstarted(
                        attempt,
                        f"the broker did not take the task for "
                        f"{now - attempt.unsent_since:.0f} s: {attempt.unsent_error}",
                    )
                else:
                    self.publish(attempt)
                continue
            idle = any(attempt.queue in w.queues and len(w.active) < w.concurrency for w in live)
            if idle and now - attempt.sent_at > self.config.worker_timeout:
                # A worker on its queue has been idle while the task waited: the broker lost
                # it (restarted without persistence, say). Sending it again is safe: a worker
                # runs an attempt only once it claimed it.
                self.writer.emit(
                    EventType.ENGINE,
                    f"Sent attempt {attempt.number} of step '{key}' again: no worker took it "
                    f"in {now - attempt.sent_at:.0f} s though one on queue '{attempt.queue}' "
                    "was idle.",
                    level="WARNING",
                    step_key=key,
                )
                self.publish(attempt)
                continue
            waited = now - max(attempt.sent_at, self.queue_seen.get(attempt.queue, 0.0))
            if waited > self.config.worker_timeout:
                self.fail_unstarted(
                    attempt,
                    f"no worker listening on queue '{attempt.queue}' has heartbeated in the last "
                    f"{self.config.worker_timeout:g} s (start one: bh worker start -q "
                    f"{attempt.queue})",
                )
                continue
            self.check_refused(attempt)

    def check_refused(self, attempt: _Attempt) -> None:
        """Fail an attempt a worker refused without claiming it (the SQLite rule)."""
        try:
            result = self.app.AsyncResult(attempt.task_id)
            if not result.ready():
                return
            value = result.result
        except Exception:  # noqa: BLE001 - the result backend may be away; storage is the truth
            return
        if isinstance(value, dict) and value.get("refused"):
            self.fail_unstarted(attempt, str(value["refused"]))

    def lost(self, attempt: _Attempt, reason: str) -> None:
        key = attempt.step.key
        del self.inflight[key]
        self.revoke([attempt.task_id])  # should the broker hand it out again
        error = ErrorInfo(cls_name="WorkerLostError", message=f"WorkerLostError: {reason}")
        partition = step_partition_key(attempt.step.assets_def, self.steps.partition_key)
        data = {"error": error.to_dict(), "attempt": attempt.number, "task_id": attempt.task_id}
        if attempt.number <= self.max_retries(attempt.step):
            self.writer.emit(
                EventType.STEP_UP_FOR_RETRY,
                f"Attempt {attempt.number} of step '{key}' was lost: {reason}. Retrying "
                f"(attempt {attempt.number + 1} of {self.max_retries(attempt.step) + 1}).",
                level="WARNING",
                step_key=key,
                partition_key=partition,
                data={**data, "next_attempt": attempt.number + 1},
            )
            policy = self.policy(attempt.step)
            delay = policy.delay_before(attempt.number + 1) if policy is not None else 0.0
            heapq.heappush(self.delayed, (time.time() + delay, key, attempt.number + 1))
            return
        self.writer.emit(
            EventType.STEP_FAILURE,
            f"Execution of step '{key}' failed: {error.message}",
            level="ERROR",
            step_key=key,
            partition_key=partition,
            data=data,
        )
        self.scheduler.failed(key)

    def fail_unstarted(self, attempt: _Attempt, reason: str) -> None:
        key = attempt.step.key
        self.inflight.pop(key, None)
        self.revoke([attempt.task_id])
        error = ErrorInfo(cls_name="NoWorkerError", message=f"NoWorkerError: {reason}")
        self.writer.emit(
            EventType.STEP_FAILURE,
            f"Execution of step '{key}' failed: {error.message}",
            level="ERROR",
            step_key=key,
            partition_key=step_partition_key(attempt.step.assets_def, self.steps.partition_key),
            data={"error": error.to_dict(), "attempt": attempt.number},
        )
        self.scheduler.failed(key)

    def revoke_all(self, reason: str) -> None:
        """Revoke every task of the run: queued ones are dropped, running ones terminated."""
        ids = [a.task_id for a in self.inflight.values()]
        ids += [task_id(self.steps.run_id, n, k) for _, k, n in self.delayed]
        if ids:
            self.revoke(ids, terminate=True)
        self.writer.emit(
            EventType.ENGINE,
            f"Revoked {len(ids)} Celery task(s) of the run: {reason}.",
            level="WARNING",
            data={"task_ids": ids},
        )
        self.inflight.clear()
        self.delayed.clear()

    def revoke(self, ids: list[str], *, terminate: bool = False) -> None:
        """Tell every worker to drop these tasks (and SIGTERM the processes running them)."""
        try:
            self.app.control.revoke(ids, terminate=terminate, signal="SIGTERM")
        except Exception as exc:  # noqa: BLE001 - the broker may be away; workers drop tasks of
            # finished runs and claimed attempts by themselves
            self.writer.emit(
                EventType.ENGINE,
                f"Could not revoke {len(ids)} task(s) through the broker: {exc}",
                level="WARNING",
                data={"task_ids": ids},
            )


def _lost_reason(
    claim: WorkerClaim, worker: WorkerRecord | None, now: float, config: CeleryConfig
) -> str | None:
    """Why the attempt `claim` took has no worker any more, or None while it has one."""
    if worker is None:
        return f"worker {claim.worker_id} is not registered"
    if worker.stopped_at is not None:
        return f"worker {worker.worker_id} on {worker.hostname} stopped while executing it"
    silent = now - worker.heartbeat_at
    if silent > config.worker_timeout:
        return (
            f"worker {worker.worker_id} on {worker.hostname} stopped heartbeating "
            f"{silent:.0f} s ago (worker_timeout {config.worker_timeout:g} s)"
        )
    if worker.heartbeat_at > claim.claimed_at + _CLAIM_GRACE_SECONDS and (
        claim.task_id not in worker.active
    ):
        return (
            f"the process of worker {worker.worker_id} on {worker.hostname} executing it died "
            "(the worker no longer lists the task)"
        )
    return None


def _last_event_id(instance: InstanceProtocol, run_id: str) -> int:
    events = instance.get_events(run_id)
    return (events[-1].storage_id or 0) if events else 0
