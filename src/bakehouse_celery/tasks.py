"""What a worker does with one step task: claim the attempt, execute the step, record it.

Runs in a Celery pool process of `bh worker start`, in the location's own interpreter. The
definitions were loaded once by the worker before it forked its pool (`preload`); storage is
opened once per process and URL; a run's planned steps once per process and run. Every outcome
lands in the event log, which is what the run's executor follows:

- the run is finished (canceled, failed): the task is dropped, nothing recorded;
- the attempt was claimed already (the broker delivered it again after a worker died): dropped,
  so no step runs twice without a recorded retry; the executor retries it from the claim;
- the step fails and its retry rules allow another attempt (`bakehouse.execution.step_retry`,
  as in every executor): STEP_UP_FOR_RETRY, and the executor sends the next attempt after the
  delay the event names; resources that fail to set up count as a failed attempt too.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from bakehouse.errors import ErrorInfo
from bakehouse.execution.compute_log_upload import uploading_logs
from bakehouse.execution.events import EventWriter
from bakehouse.storage.compute_logs import LocalComputeLogManager
from bakehouse.storage.records import EventRecord, EventType, WorkerClaim
from bakehouse.storage.remote_compute_logs import (
    ObjectStoreComputeLogs,
    remote_compute_logs,
    upload_interval,
)

if TYPE_CHECKING:
    from bakehouse.authoring.definitions_class import Definitions
    from bakehouse.execution.step_executor import RunSteps
    from bakehouse.storage import Instance

_lock = threading.Lock()
_loaded: dict[tuple[str, str | None], Definitions] = {}
_instances: dict[str, Instance] = {}
_planned: dict[tuple[str, str], RunSteps] = {}
# Who this process works for: set by the worker's main process before it forks its pool.
# Its storage_url and storage_dir are the worker's own: the database as this host reaches it,
# and its folder (where steps are captured before their upload).
WORKER: dict[str, str] = {
    "worker_id": f"{socket.gethostname()}:{os.getpid()}",
    "host_id": "",
    "storage_dir": "",
    "storage_url": "",
}


def preload(module: str, defs_module: str | None, defs: Definitions) -> None:
    """Keep the worker's loaded definitions, so pool processes forked later inherit them."""
    _loaded[(module, defs_module)] = defs


def _after_fork() -> None:
    # A pool process must never use a connection its parent opened.
    _instances.clear()


os.register_at_fork(after_in_child=_after_fork)


def execute_step_task(task: Any, message: dict[str, Any]) -> dict[str, Any]:
    """The step task: execute one attempt of one step of a run (see the module's docstring)."""
    from bakehouse.storage import dialect

    run_id, step_key, attempt = message["run_id"], message["step_key"], int(message["attempt"])
    url = message["storage_url"]
    if dialect.parse_url(url).get_backend_name() == "sqlite" and message.get("host_id") != (
        WORKER["host_id"] or _host_id()
    ):
        # This worker cannot reach the run's SQLite file (another machine's disk); opening
        # the path here would make a new, empty database. The executor reads the refusal.
        return {
            "ok": False,
            "refused": (
                f"worker {WORKER['worker_id']} is on another host than the run, whose storage is "
                "SQLite (a file on the run's host): use PostgreSQL storage for workers on other "
                "hosts"
            ),
        }
    own = WORKER.get("storage_url", "")
    if (
        own
        and dialect.parse_url(url).get_backend_name() != "sqlite"
        and (dialect.parse_url(own).get_backend_name() != "sqlite")
    ):
        # The same database as the run's (the executor sees this worker's heartbeats there),
        # by the address this host reaches it at: the run's host may name it otherwise.
        url = own
    instance = _instance(url, message.get("storage_dir"))
    if instance.get_run(run_id).status.is_finished:
        return {"ok": False, "dropped": "the run has finished"}
    tid = str(task.request.id)
    claim = WorkerClaim(
        run_id=run_id,
        step_key=step_key,
        attempt=attempt,
        worker_id=WORKER["worker_id"],
        task_id=tid,
        claimed_at=time.time(),
    )
    if not instance.claim_step(claim):
        return {"ok": False, "dropped": f"attempt {attempt} of '{step_key}' was claimed already"}
    writer = _RetryWriter(instance, run_id, step_key, attempt, int(message.get("max_retries", 0)))
    # A step's events are stored together at its end (and every 100 ms); closing stores the rest.
    with writer:
        return _execute_attempt(instance, writer, message, step_key, attempt, tid)


def _execute_attempt(
    instance: Instance,
    writer: _RetryWriter,
    message: dict[str, Any],
    step_key: str,
    attempt: int,
    tid: str,
) -> dict[str, Any]:
    """Execute one claimed attempt of the step, recording its events through `writer`."""
    writer.emit(
        EventType.ENGINE,
        f"Step '{step_key}' attempt {attempt} started on worker {WORKER['worker_id']} "
        f"(pid {os.getpid()}).",
        level="DEBUG",
        step_key=step_key,
        data={
            "worker_id": WORKER["worker_id"],
            "attempt": attempt,
            "pid": os.getpid(),
            "task_id": tid,
        },
        # Stored with the step's STEP_START, in one transaction.
        defer=True,
    )
    try:
        steps = _steps(message)
        step = next(s for s in steps.plan.steps if s.key == step_key)
    except Exception as exc:  # noqa: BLE001 - recorded as the step's failure
        _record_setup_failure(writer, step_key, exc)
        return {"ok": False}
    from bakehouse.execution.run import open_step_environment
    from bakehouse.execution.step import execute_step

    local, remote, interval = _compute_logs(message)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with open_step_environment(
            steps, instance, writer, retries_enabled=bool(message.get("retries_enabled", True))
        ) as env:
            env.compute_logs = local
            with uploading_logs(local, remote, message["run_id"], step_key, interval=interval):
                end = execute_step(step, env, attempt)
    except StepTerminated:
        # A terminated step is not retried, whatever its RetryPolicy.
        writer.emit(
            EventType.STEP_FAILURE,
            f"Execution of step '{step_key}' failed: StepTerminated: its task was revoked "
            "(the run was canceled) and its process stopped it.",
            level="ERROR",
            step_key=step_key,
            data={"attempt": attempt, "error": ErrorInfo(cls_name="StepTerminated", message=
                  "StepTerminated: the task was revoked and terminated").to_dict()},
        )  # fmt: skip
        return {"ok": False, "terminated": True}
    except Exception as exc:  # noqa: BLE001 - resources failed to set up or tear down
        _record_setup_failure(writer, step_key, exc)
        return {"ok": False}
    finally:
        signal.signal(signal.SIGTERM, previous)
    return {"ok": end.ok, "retry_in": end.retry_in}


def _compute_logs(
    message: dict[str, Any],
) -> tuple[LocalComputeLogManager | None, ObjectStoreComputeLogs | None, float | None]:
    """Where this step's stdout and stderr are captured, and the store they are uploaded to.

    With ``BAKEHOUSE_COMPUTE_LOGS_URL`` (the deployment's object store) the step is captured
    under this worker's own storage folder and uploaded, so the web app reads it from any host.
    Without it, a worker on the run's host captures into the run's storage folder, which the
    web app reads directly (as for steps run there); a worker on another host captures nothing
    (the output stays in its own log), having no place the web app could read.
    """
    remote = remote_compute_logs()
    if remote is not None:
        folder = WORKER.get("storage_dir") or message.get("storage_dir")
        if folder:
            return LocalComputeLogManager(Path(folder)), remote, upload_interval()
    if message.get("storage_dir") and message.get("host_id") == (WORKER["host_id"] or _host_id()):
        return LocalComputeLogManager(Path(message["storage_dir"])), None, None
    return None, None, None


class StepTerminated(BaseException):
    """Raised in a step by SIGTERM (a revoke with terminate): a BaseException, so that neither
    the step's own ``except Exception`` nor the engine's failure handling swallows it."""


def _raise_terminated(_signum: int, _frame: FrameType | None) -> None:
    raise StepTerminated


def _record_setup_failure(writer: _RetryWriter, step_key: str, exc: Exception) -> None:
    """The step's code or resources could not be set up: a failed attempt, retried while the
    step's RetryPolicy (as the executor sent it) has attempts left."""
    error = ErrorInfo.from_exception(exc)
    data: dict[str, Any] = {"error": error.to_dict()}
    if writer.attempt <= writer.max_retries:
        data["next_attempt"] = writer.attempt + 1
        writer.emit(
            EventType.STEP_UP_FOR_RETRY,
            f"Execution of step '{step_key}' failed: {error.message} Retrying (attempt "
            f"{writer.attempt + 1} of {writer.max_retries + 1}).",
            level="WARNING",
            step_key=step_key,
            data=data,
        )
        return
    writer.emit(
        EventType.STEP_FAILURE,
        f"Execution of step '{step_key}' failed: {error.message}",
        level="ERROR",
        step_key=step_key,
        data=data,
    )


def _host_id() -> str:
    from bakehouse_celery.app import host_id

    return host_id()


def _instance(url: str, storage_dir: str | None) -> Instance:
    with _lock:
        found = _instances.get(url)
        if found is None:
            from bakehouse.storage import Instance

            found = Instance.open(url, storage_dir=Path(storage_dir) if storage_dir else None)
            _instances[url] = found
        return found


def _steps(message: dict[str, Any]) -> RunSteps:
    """The run's planned steps (the part this location executes), planned once per process."""
    plan = message["plan"]
    cache_key = (message["run_id"], message["plan_digest"])
    with _lock:
        found = _planned.get(cache_key)
    if found is not None:
        return found
    from bakehouse.authoring.check_spec import AssetCheckKey
    from bakehouse.authoring.loading import (
        isolating_module_errors,
        isolation_from_env,
        load_definitions,
    )
    from bakehouse.execution.run import plan_steps
    from bakehouse.graph.keys import AssetKey

    location = message["location"]
    where = (location["module"], location.get("defs_module"))
    defs = _loaded.get(where)
    if defs is None:
        with isolating_module_errors(isolation_from_env()):
            defs = load_definitions(where[0], defs_module=where[1])
        _loaded[where] = defs
    job_name = plan.get("job_name")
    checks = [
        AssetCheckKey(AssetKey.from_user_string(a), n)
        for a, _, n in (c.rpartition(":") for c in plan.get("check_keys", ()))
    ]
    steps = plan_steps(
        defs,
        [AssetKey.from_user_string(k) for k in plan["asset_keys"]],
        run_id=message["run_id"],
        run_config=plan.get("run_config") or {},
        tags=plan.get("tags") or {},
        partition_key=plan.get("partition_key"),
        partition_range=tuple(plan["partition_range"]) if plan.get("partition_range") else None,
        check_keys=checks,
        job_name=job_name,
        hooks=defs.get_job_def(job_name).hooks if job_name else (),
    )
    with _lock:
        _planned[cache_key] = steps
    return steps


class _RetryWriter(EventWriter):
    """An `EventWriter` for one attempt: its step's events carry the attempt's number."""

    def __init__(
        self, instance: Instance, run_id: str, step_key: str, attempt: int, max_retries: int
    ) -> None:
        super().__init__(instance, run_id)
        self.step_key = step_key
        self.attempt = attempt
        self.max_retries = max_retries

    def emit(
        self,
        event_type: EventType,
        message: str = "",
        *,
        level: str = "INFO",
        step_key: str | None = None,
        asset_key: str | None = None,
        partition_key: str | None = None,
        data: dict[str, Any] | None = None,
        defer: bool | None = None,
    ) -> EventRecord:
        """Store one event, the attempt's number in its data."""
        if step_key == self.step_key:
            # The attempt's start is buffered like any event: stored with the step's end, or by
            # the writer's flusher within its interval (0.1 s) for a longer step, so a worker
            # lost mid-step still leaves it in the log beside the retry, and a short step costs
            # one commit fewer. The claim, stored before the step ran, is the attempt's record.
            data = {**(data or {}), "attempt": self.attempt}
        return super().emit(
            event_type,
            message,
            level=level,
            step_key=step_key,
            asset_key=asset_key,
            partition_key=partition_key,
            data=data,
            defer=defer,
        )
