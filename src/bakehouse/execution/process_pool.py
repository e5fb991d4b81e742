"""A pool of warm worker processes for one run: start them, hand them steps, notice deaths.

Processes start on demand, up to a bound, and are reused for step after step. By default they
are forked from the run worker, so they inherit its loaded code and the work per step is one
message each way; with ``spawn`` each imports the location module once instead. A step sent with
``chain=True`` lets its process go on to the step that waits for it alone, and so on (see
`bakehouse.execution.step_process`), until the chain ends or `hold` stops it: one answer then
reports each step of the chain, in order; a process that dies mid-chain reports, through a shared
count, the steps it finished and the one it died in. A process that
dies is reported with the step it held and dropped; the next step that needs a process starts a
new one. `close` stops every process so that it tears its resources down; `terminate` (on an
error or a signal) stops them at once.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkContext, SpawnContext
from multiprocessing.process import BaseProcess
from types import FrameType, TracebackType
from typing import Any

from bakehouse.errors import ErrorInfo
from bakehouse.execution.step_executor import LocationModule, RunSteps
from bakehouse.execution.step_process import (
    Progress,
    StorageAddress,
    serve_forked,
    serve_spawned,
    spawn_recipe,
)

# How long a stopping process may take to tear its resources down before it is killed.
STOP_TIMEOUT_SECONDS = 60.0
# How long processes get to exit after SIGTERM when the run is interrupted; the run worker
# itself gets a few seconds from whoever stopped it before SIGKILL.
TERMINATE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class StepDone:
    """A process finished an attempt of a step; `ok` is False when it failed (its events say
    why); `retry_in` is set when the step is up for retry after that many seconds; `chained`
    names the step the process went on to by itself (attempt 1), now executing."""

    step_key: str
    ok: bool
    retry_in: float | None = None
    chained: str | None = None


@dataclass(frozen=True)
class StepLost:
    """A process died while it executed `step_key`; `exitcode` is -N for signal N."""

    step_key: str
    pid: int
    exitcode: int | None


@dataclass(frozen=True)
class SetupFailed:
    """A process could not set up storage, code or resources; `step_key` was not started."""

    step_key: str | None
    pid: int
    detail: str
    error: ErrorInfo


Report = StepDone | StepLost | SetupFailed


@dataclass(frozen=True)
class TeardownFailed:
    """A process stopped, but tearing its resources down raised."""

    pid: int
    error: ErrorInfo


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    pid: int
    # How many steps of its current chain have succeeded (a shared integer it counts up).
    progress: Progress
    # The step it was sent last and is executing, or a chain from it, if any.
    step: str | None = None
    # True while it may go on to a chained step by itself (asked to, and not held since).
    chaining: bool = False


class ProcessPool:
    """Up to `size` warm processes executing the steps of `steps`, one step each at a time."""

    def __init__(
        self,
        steps: RunSteps,
        *,
        size: int,
        storage: StorageAddress,
        start_method: str,
        location: LocationModule | None,
        before_fork: Callable[[], None] | None = None,
        on_started: Callable[[int], None] | None = None,
    ) -> None:
        self.steps = steps
        self.size = size
        self.storage = storage
        self.start_method = start_method
        self.location = location
        # Called before each fork: the run worker drops its database connections, which must
        # not be shared with a child.
        self.before_fork = before_fork
        self.on_started = on_started
        self._context: ForkContext | SpawnContext = (
            multiprocessing.get_context("fork")
            if start_method == "fork"
            else multiprocessing.get_context("spawn")
        )
        self._workers: list[_Worker] = []
        self._successors: dict[str, str] | None = None
        self.started = 0
        self._previous_sigterm: Any = None
        self._sigterm_installed = False

    # -- lifetime -----------------------------------------------------------------------------

    def __enter__(self) -> ProcessPool:
        # SIGTERM (a cancel, a deployment stopping) must stop the processes too, not orphan them:
        # turn it into an exception that unwinds through `__exit__`.
        if threading.current_thread() is threading.main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
            self._sigterm_installed = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.terminate()
        finally:
            if self._sigterm_installed:
                # None: the handler was not set from Python; the default is the nearest.
                signal.signal(signal.SIGTERM, self._previous_sigterm or signal.SIG_DFL)
                self._sigterm_installed = False

    @property
    def busy(self) -> int:
        """How many processes are executing a step now."""
        return sum(1 for w in self._workers if w.step is not None)

    # -- work ---------------------------------------------------------------------------------

    def submit(self, step_key: str, attempt: int = 1, *, chain: bool = False) -> None:
        """Send attempt number `attempt` of `step_key` to an idle process, starting one if none
        is idle; with `chain`, the process may go on to the steps that wait for it alone."""
        if self.busy >= self.size:
            raise RuntimeError("every process of the pool is busy")
        while True:
            worker = next((w for w in self._workers if w.step is None), None) or self._start()
            worker.step = step_key
            worker.chaining = chain
            worker.progress.value = 0
            try:
                request = {"op": "run", "step": step_key, "attempt": attempt, "chain": chain}
                worker.conn.send_bytes(json.dumps(request).encode())
                return
            except OSError:
                # It died while idle and never got the step: drop it and try a fresh one.
                worker.step = None
                self._drop(worker, deadline=time.monotonic() + TERMINATE_TIMEOUT_SECONDS)

    def hold(self) -> None:
        """Ask every process that may chain to stop after its current step and wait to be sent
        the next one: other steps wait for a process, or nothing new may start."""
        for worker in self._workers:
            if worker.step is not None and worker.chaining:
                worker.chaining = False
                # A process that died meanwhile is reported by `wait`.
                with contextlib.suppress(OSError):
                    worker.conn.send_bytes(json.dumps({"op": "hold"}).encode())

    def wait(self, timeout: float | None = None) -> list[Report]:
        """Block until a process answers or dies (or `timeout` seconds pass); return what
        happened."""
        if not self._workers:
            return []
        watched: dict[Any, _Worker] = {}
        for worker in self._workers:
            watched[worker.conn] = worker
            watched[worker.process.sentinel] = worker
        ready = wait(list(watched), timeout)
        reports: list[Report] = []
        for worker in {id(watched[r]): watched[r] for r in ready}.values():
            reports.extend(self._collect(worker))
        return reports

    def close(self) -> list[TeardownFailed]:
        """Stop every process after it tears its resources down; return failed teardowns."""
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.conn.send_bytes(json.dumps({"op": "stop"}).encode())
        failures: list[TeardownFailed] = []
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for worker in list(self._workers):
            for message in _messages_until_closed(worker.conn, deadline):
                if message.get("kind") != "stopped":
                    continue
                if message.get("error"):
                    error = ErrorInfo.from_dict(message["error"])
                    failures.append(TeardownFailed(worker.pid, error))
                # Its last word: a child a step left may hold the pipe open long after.
                break
            self._drop(worker, deadline=deadline)
        return failures

    def terminate(self) -> None:
        """Stop every process now (SIGTERM, then SIGKILL after a short wait)."""
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()
        deadline = time.monotonic() + TERMINATE_TIMEOUT_SECONDS
        for worker in list(self._workers):
            self._drop(worker, deadline=deadline)

    # -- processes ----------------------------------------------------------------------------

    def _start(self) -> _Worker:
        parent_end, child_end = self._context.Pipe()
        progress: Progress = self._context.RawValue("i", 0)
        if self.start_method == "fork":
            if self.before_fork is not None:
                self.before_fork()
            inherited = [w.conn for w in self._workers] + [parent_end]
            args: tuple[Any, ...] = (
                self.steps, self.storage, child_end, inherited, os.getpid(), progress,
            )  # fmt: skip
            target: Any = serve_forked
        else:
            if self.location is None:
                raise RuntimeError("a spawned worker process needs the location module's name")
            recipe = spawn_recipe(self.steps, self.storage, self.location)
            args, target = (recipe, child_end, os.getpid(), progress), serve_spawned
        process = self._context.Process(
            target=target, args=args, name=f"bakehouse-step-worker-{self.started}"
        )
        try:
            process.start()
        finally:
            child_end.close()
        worker = _Worker(process=process, conn=parent_end, pid=process.pid or 0, progress=progress)
        self._workers.append(worker)
        self.started += 1
        if self.on_started is not None:
            self.on_started(worker.pid)
        return worker

    def _collect(self, worker: _Worker) -> Iterator[Report]:
        """The reports `worker` has sent; then, if it is dead, the step it died holding."""
        closed = False
        try:
            while worker.conn.poll():
                message = json.loads(worker.conn.recv_bytes())
                kind = message.get("kind")
                if kind == "done":
                    worker.step = None
                    worker.chaining = False
                    yield from _chained(
                        list(message.get("succeeded_before") or []), message["step"]
                    )
                    retry_in = message.get("retry_in")
                    yield StepDone(
                        message["step"],
                        bool(message["ok"]),
                        float(retry_in) if retry_in is not None else None,
                    )
                elif kind == "setup_failed":
                    worker.step = None  # the step was never started
                    yield SetupFailed(
                        message.get("step"),
                        worker.pid,
                        str(message.get("detail", "")),
                        ErrorInfo.from_dict(message.get("error") or {}),
                    )
        except (EOFError, OSError):
            closed = True
        if closed or not worker.process.is_alive():
            step = worker.step
            exitcode = self._drop(worker, deadline=time.monotonic() + TERMINATE_TIMEOUT_SECONDS)
            if step is not None:
                # It died in the step after those of its chain that it counted as done.
                path = self._chain_from(step, worker.progress.value)
                yield from _chained(path[:-1], path[-1])
                yield StepLost(path[-1], worker.pid, exitcode)

    def _chain_from(self, step: str, done: int) -> list[str]:
        """`step` and the `done` steps that follow it in its chain."""
        if self._successors is None:
            self._successors = self.steps.plan.chain_successors()
        path = [step]
        for _ in range(done):
            path.append(self._successors[path[-1]])
        return path

    def _drop(self, worker: _Worker, *, deadline: float) -> int | None:
        """Reap `worker` (killing it if it outlives `deadline`), forget it; its exit code."""
        self._workers.remove(worker)
        # Polled with waitpid (`exitcode`), not `join`: join waits for the end of a pipe that a
        # child the step left behind inherits and may hold open long after this process ended.
        while worker.process.exitcode is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if worker.process.exitcode is None:
            worker.process.kill()
            worker.process.join()
        worker.conn.close()
        exitcode = worker.process.exitcode
        worker.process.close()
        return exitcode


def _chained(succeeded: list[str], then: str) -> Iterator[StepDone]:
    """The reports of a chain's steps that succeeded, each naming the step that followed it
    (the last one, `then`)."""
    for index, key in enumerate(succeeded):
        after = succeeded[index + 1] if index + 1 < len(succeeded) else then
        yield StepDone(key, ok=True, chained=after)


def _messages_until_closed(conn: Connection, deadline: float) -> Iterator[dict[str, Any]]:
    """Messages on `conn` until the other end closes it or `deadline` passes."""
    while True:
        remaining = deadline - time.monotonic()
        try:
            if remaining <= 0 or not conn.poll(remaining):
                return
            yield json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    # Once: the unwinding that stops the processes must not be interrupted by a second signal.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(128 + signum)
