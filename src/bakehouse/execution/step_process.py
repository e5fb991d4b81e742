"""What runs inside one warm worker process of the multiprocess executor: steps, on request.

The process gets the run's planned steps either inherited (forked from the run worker, which
has loaded the code already) or by importing the location module again (spawned). It opens its
own storage, sets up the run's resources on its first step, executes each step it is sent with
`execute_step` (so the step's events are written from here), answers with the outcome, and
tears the resources down when told to stop, when the run worker goes away, or on SIGTERM.

Messages are JSON over a pipe. From the run worker: ``{"op": "run", "step": KEY, "attempt": N,
"chain": BOOL}``, ``{"op": "hold"}`` and ``{"op": "stop"}``. Answers: ``{"kind": "done", "step":
KEY, "ok": BOOL, "retry_in": SECONDS|null, "succeeded_before": [KEY, ...]}`` (``retry_in`` set
when the step is up for retry; ``succeeded_before`` lists the steps of a chain, see below, that
succeeded before it in this request),
``{"kind": "setup_failed", "step": KEY|null, "detail": STR, "error": ERROR}`` when storage, code
or resources cannot be set up (the step was not started), and ``{"kind": "stopped", "error":
ERROR|null}`` once resources are torn down.

Chains: when a run request says ``"chain": true`` and its step succeeds, and the plan has one
step that waits for that step alone and is the only one waiting for it
(`ExecutionPlan.chain_successors`), the process goes on to that step at once instead of waiting a
round trip for the run worker to send it. Nothing else could run it: it became ready this
instant, and only because of this step. Nor does the process say anything between the steps of a
chain (a message wakes the run worker, and on two cores that wake-up lands on the step's time):
it counts the steps done in a shared integer, which the run worker reads only if the process
dies, to know which step died with it, and answers once, when the chain ends. The run worker
stops a chain by sending anything (``hold`` when other steps wait for a process); the process
looks for a message before each step it would chain.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from bakehouse.errors import ErrorInfo
from bakehouse.execution.leftover_children import exit_without_joining
from bakehouse.execution.step_executor import LocationModule, RunSteps
from bakehouse.storage.protocol import InstanceProtocol

if TYPE_CHECKING:
    from bakehouse.execution.events import EventWriter
    from bakehouse.execution.plan import Step
    from bakehouse.execution.step import StepEnvironment

# prctl(2) option that sends this process a signal when its parent dies (Linux only).
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class StorageAddress:
    """How a worker process opens the run worker's storage for itself."""

    url: str
    storage_dir: str


class _Terminated(BaseException):
    """Raised by the SIGTERM handler: unwinds the process so resources are torn down.

    A BaseException, so that a user's ``except Exception`` in a step cannot swallow it.
    """


class Progress(Protocol):
    """A shared integer (``multiprocessing``'s ``RawValue("i")``): how many steps of the current
    request's chain have succeeded, so far. The run worker zeroes it before each request."""

    value: int


def serve_forked(
    steps: RunSteps,
    storage: StorageAddress,
    conn: Connection,
    inherited: list[Connection],
    parent_pid: int,
    progress: Progress,
) -> None:
    """Entry point of a forked worker process: the steps and loaded code are inherited."""
    # Copies of the run worker's ends of every pipe came along with the fork; holding them
    # would keep this process from seeing its own pipe close when the run worker dies.
    for other in inherited:
        other.close()
    _serve(lambda: steps, storage, conn, parent_pid, progress)


def serve_spawned(recipe: str, conn: Connection, parent_pid: int, progress: Progress) -> None:
    """Entry point of a spawned worker process: imports the location module again by name."""
    data = json.loads(recipe)
    storage = StorageAddress(url=data["storage_url"], storage_dir=data["storage_dir"])

    def reload() -> RunSteps:
        from bakehouse.authoring.loading import (
            isolating_module_errors,
            isolation_from_env,
            load_definitions,
        )
        from bakehouse.execution.run import plan_steps
        from bakehouse.graph.keys import AssetKey

        location = LocationModule(**data["location"])
        # As the run worker loaded it (the environment is inherited).
        with isolating_module_errors(isolation_from_env()):
            defs = load_definitions(location.module, defs_module=location.defs_module)
        keys = [AssetKey.from_user_string(k) for k in data["asset_keys"]]
        job_name = data.get("job_name")
        return plan_steps(
            defs,
            keys,
            run_id=data["run_id"],
            run_config=data["run_config"],
            tags=data["tags"],
            partition_key=data.get("partition_key"),
            partition_range=_range(data.get("partition_range")),
            job_name=job_name,
            hooks=defs.get_job_def(job_name).hooks if job_name else (),
            capture_logs=bool(data.get("capture_logs")),
        )

    _serve(reload, storage, conn, parent_pid, progress)


def _range(value: Any) -> tuple[str, str] | None:
    """The (first, last) pair JSON brought back as a list."""
    return (str(value[0]), str(value[1])) if value else None


def spawn_recipe(steps: RunSteps, storage: StorageAddress, location: LocationModule) -> str:
    """What `serve_spawned` needs to plan the same steps again, as JSON."""
    return json.dumps(
        {
            "storage_url": storage.url,
            "storage_dir": storage.storage_dir,
            "location": {"module": location.module, "defs_module": location.defs_module},
            "asset_keys": [k.to_user_string() for k in steps.plan.asset_keys],
            "run_id": steps.run_id,
            "run_config": dict(steps.run_config),
            "tags": dict(steps.tags),
            "partition_key": steps.partition_key,
            "partition_range": list(steps.partition_range) if steps.partition_range else None,
            "job_name": steps.job_name,
            "capture_logs": steps.capture_logs,
        }
    )


def _serve(
    load: Callable[[], RunSteps],
    storage: StorageAddress,
    conn: Connection,
    parent_pid: int,
    progress: Progress,
) -> None:
    # Ctrl-C reaches the whole process group; the run worker decides when its workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        _die_with(parent_pid)
        _serve_steps(load, storage, conn, progress)
    except _Terminated:
        # Resources are torn down by now; die of the signal so the run worker reports it.
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
    finally:
        conn.close()
    # Done: end now, so that children a step left (reported by then) do not hold this process
    # at exit, and with it the run.
    exit_without_joining(0)


def _serve_steps(
    load: Callable[[], RunSteps], storage: StorageAddress, conn: Connection, progress: Progress
) -> None:
    from bakehouse.storage import Instance

    try:
        steps = load()
        instance = Instance.open(storage.url, storage_dir=Path(storage.storage_dir))
    except Exception as exc:  # noqa: BLE001 - reported to the run worker, which fails the run
        _send(conn, _setup_failed(None, exc))
        return
    with instance:
        resources = contextlib.ExitStack()
        try:
            _step_loop(steps, instance, conn, resources, progress)
        except BaseException:
            resources.close()  # a stop by signal still tears resources down
            raise
        try:
            resources.close()
        except Exception as exc:  # noqa: BLE001 - a failed teardown fails the run
            error: dict[str, object] | None = ErrorInfo.from_exception(exc).to_dict()
        else:
            error = None
        _send(conn, {"kind": "stopped", "error": error})


def _step_loop(
    steps: RunSteps,
    instance: InstanceProtocol,
    conn: Connection,
    resources: contextlib.ExitStack,
    progress: Progress,
) -> None:
    from bakehouse.execution.events import EventWriter

    by_key = {step.key: step for step in steps.plan.steps}
    with EventWriter(instance, steps.run_id) as writer:
        _execute_requests(steps, by_key, instance, conn, resources, writer, progress)


def _execute_requests(
    steps: RunSteps,
    by_key: dict[str, Step],
    instance: InstanceProtocol,
    conn: Connection,
    resources: contextlib.ExitStack,
    writer: EventWriter,
    progress: Progress,
) -> None:
    """Execute each step the run worker asks for, until it says stop or goes away."""
    from bakehouse.execution.run import open_step_environment
    from bakehouse.execution.step import execute_step

    env: StepEnvironment | None = None
    successors = steps.plan.chain_successors()
    while True:
        try:
            request = json.loads(conn.recv_bytes())
        except EOFError:
            return  # the run worker is gone
        op = request.get("op")
        if op == "hold":
            continue  # it came after the chain it was meant to stop had ended
        if op != "run":
            return
        key: str = request["step"]
        if env is None:
            # Resources are set up once per process, on its first step, and kept until it stops.
            try:
                env = resources.enter_context(open_step_environment(steps, instance, writer))
            except Exception as exc:  # noqa: BLE001 - reported; the run worker fails the run
                _send(conn, _setup_failed(key, exc))
                continue
        attempt = int(request.get("attempt", 1))
        chain = bool(request.get("chain"))
        succeeded: list[str] = []
        while True:
            end = execute_step(by_key[key], env, attempt)
            follow = chain and end.ok and end.retry_in is None and not _has_message(conn)
            after = successors.get(key) if follow else None
            if after is None:
                break
            succeeded.append(key)
            # Counted once the step's events are stored: should the process die from here on,
            # the step it dies in is the next one.
            progress.value = len(succeeded)
            key, attempt = after, 1
        _send(conn, {"kind": "done", "step": key, "ok": end.ok, "retry_in": end.retry_in,
                     "succeeded_before": succeeded})  # fmt: skip


def _has_message(conn: Connection) -> bool:
    """True when the run worker has said something (or gone away): no step is chained then."""
    try:
        return conn.poll()
    except OSError:
        return True


def _setup_failed(step_key: str | None, exc: Exception) -> dict[str, object]:
    return {
        "kind": "setup_failed",
        "step": step_key,
        "detail": str(exc) or type(exc).__name__,
        "error": ErrorInfo.from_exception(exc).to_dict(),
    }


def _send(conn: Connection, message: dict[str, object]) -> None:
    # The run worker may be gone already; there is then no one left to tell.
    with contextlib.suppress(OSError):
        conn.send_bytes(json.dumps(message).encode())


def _raise_terminated(_signum: int, _frame: FrameType | None) -> None:
    # Once: a second SIGTERM during teardown must not interrupt it.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Terminated


def _die_with(parent: int) -> None:
    """Ask the kernel for SIGTERM when the run worker dies, so no worker outlives it."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
    if os.getppid() != parent:  # it died before the request above took effect
        raise _Terminated
