"""Host side of a stored run: drive run workers in each location's interpreter.

A run may select assets of several code locations (an asset in one may depend on an asset in
another). The selection is cut into phases, each a stretch of the dependency order that one
location executes in a run worker of its own. A phase starts once the phases holding its
upstream assets (and the assets its checks check) have ended, so every asset runs after its
upstream assets, whichever location they live in, and phases that do not depend on each other
run at the same time (each location's steps go to its own workers or processes anyway). The
coordinator writes the run's start and end; workers write their steps' events.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bakehouse.errors import CorruptRecordError, ErrorInfo, RunNotFoundError, StorageError
from bakehouse.host.client import LocationTarget, spawn_run_worker
from bakehouse.host.global_graph import GlobalAssetGraph
from bakehouse.host.launching import run_plan_of
from bakehouse.protocol.run_plan import RunPlan, dumps as dump_plan
from bakehouse.protocol.wire import STORAGE_FAILED_EXIT, STORAGE_FAILURE_PREFIX
from bakehouse.storage.failures import describe
from bakehouse.storage.records import EventRecord, EventType, RunStatus

if TYPE_CHECKING:
    from bakehouse.storage import Instance


@dataclass(frozen=True)
class Phase:
    """A stretch of a run that one location executes in one run worker."""

    location: str
    keys: tuple[str, ...]
    # The asset checks it evaluates (``asset/key:check_name``).
    checks: tuple[str, ...] = ()


def plan_phases(
    graph: GlobalAssetGraph, keys: list[str], checks: Sequence[str] = ()
) -> list[Phase]:
    """Cut `keys` into as few phases as dependency order allows, and give each check of
    `checks` to a phase of its location that runs after its asset.

    Each key joins the earliest phase of its location that is not before any phase holding one
    of its upstream keys; a worker orders the keys within its phase itself.
    """
    ordered = graph.key_graph.toposort(keys)
    selected = set(ordered)
    phase_of: dict[str, int] = {}
    phases: list[tuple[str, list[str]]] = []
    for key in ordered:
        location = graph.location_of(key)
        if location is None:
            raise ValueError(f"asset '{key}' is not materialized by any loaded location")
        after = max(
            (phase_of[p] for p in graph.key_graph.parents(key) if p in selected), default=-1
        )
        target = next(
            (i for i in range(max(after, 0), len(phases)) if phases[i][0] == location), None
        )
        if target is None:
            phases.append((location, []))
            target = len(phases) - 1
        phases[target][1].append(key)
        phase_of[key] = target
    checks_of: dict[int, list[str]] = {}
    for check in checks:
        asset = check.rpartition(":")[0]
        location = _check_location(graph, check)
        after = phase_of.get(asset, 0)
        target = next(
            (i for i in range(len(phases) - 1, after - 1, -1) if phases[i][0] == location), None
        )
        if target is None:
            phases.append((location, []))
            target = len(phases) - 1
        checks_of.setdefault(target, []).append(check)
    return [
        Phase(location, tuple(k), tuple(checks_of.get(i, ())))
        for i, (location, k) in enumerate(phases)
    ]


def phase_dependencies(graph: GlobalAssetGraph, phases: Sequence[Phase]) -> list[set[int]]:
    """For each phase, the (earlier) phases it waits for: those holding an upstream asset of one
    of its keys, or the asset one of its checks checks."""
    phase_of = {key: i for i, phase in enumerate(phases) for key in phase.keys}
    needs: list[set[int]] = []
    for i, phase in enumerate(phases):
        upstream = {p for key in phase.keys for p in graph.key_graph.parents(key)}
        upstream |= {check.rpartition(":")[0] for check in phase.checks}
        needs.append({phase_of[k] for k in upstream if k in phase_of} - {i})
    return needs


def _check_location(graph: GlobalAssetGraph, check: str) -> str:
    asset, _, name = check.rpartition(":")
    for placed in graph.checks.get(asset, ()):
        if placed.check.name == name:
            return placed.location
    raise ValueError(f"asset check '{check}' is not defined by any loaded location")


def _event(run_id: str, event_type: EventType, message: str, **kw: Any) -> EventRecord:
    return EventRecord(
        run_id=run_id, event_type=event_type, timestamp=time.time(), message=message, **kw
    )


# The longest wait between two attempts to record a failure that storage refused.
_STORE_RETRY_MAX_SECONDS = 5.0
# How often a run's status is read while its worker runs, to notice a cancel stored elsewhere.
_CANCEL_POLL_SECONDS = 1.0

WorkerStarted = Callable[[Phase, "subprocess.Popen[bytes]"], None]


class RunCoordinator:
    """Executes stored runs through run workers, phase by phase (`host.launching` stores them)."""

    def __init__(
        self,
        instance: Instance,
        targets: Mapping[str, LocationTarget],
        *,
        log_dir: Path,
    ) -> None:
        self.instance = instance
        # Not copied: the deployment's own mapping, which gains and loses locations as the
        # workspace file changes.
        self.targets = targets
        self.log_dir = log_dir
        # The workers each run is waiting on now, so a cancel or shutdown can stop them.
        self._workers: dict[str, list[subprocess.Popen[bytes]]] = {}
        self._driving: set[str] = set()
        # Runs driven here that were canceled: a worker started for one after the cancel looked
        # for it is stopped as soon as it is watched.
        self._canceled: set[str] = set()
        self._lock = threading.Lock()
        # Set when the deployment stops: failures still waiting for storage stop retrying, and
        # a run handed over after `cancel_all` is canceled rather than started.
        self._stopping = threading.Event()
        self._stop_reason = "Run canceled: the deployment stopped."

    def execute(
        self,
        run_id: str,
        graph: GlobalAssetGraph,
        *,
        on_worker_started: WorkerStarted | None = None,
    ) -> RunStatus:
        """Execute a stored run to its end; returns its final status."""
        with self._lock:
            self._driving.add(run_id)
        try:
            if self._stopping.is_set():  # the run queue handed it over as the deployment stopped
                self.cancel(run_id, self._stop_reason)
                return self.instance.get_run(run_id).status
            return self._execute(run_id, graph, on_worker_started)
        except (RunNotFoundError, CorruptRecordError):
            raise
        except StorageError as exc:
            # Storage refused this coordinator (disk full, read-only, connection lost): the
            # run's failure says so, once storage takes it again.
            self._store_failure(run_id, describe(str(exc)))
            return RunStatus.FAILURE
        finally:
            with self._lock:
                self._driving.discard(run_id)
                self._canceled.discard(run_id)

    def is_driving(self, run_id: str) -> bool:
        """True while this coordinator executes `run_id`."""
        with self._lock:
            return run_id in self._driving

    def _execute(
        self,
        run_id: str,
        graph: GlobalAssetGraph,
        on_worker_started: WorkerStarted | None,
    ) -> RunStatus:
        run = self.instance.get_run(run_id)
        if run.status.is_finished:
            return run.status
        if not run.asset_selection and run.job_name and run.location_name:
            return self._run_op_job(run_id, run.location_name, on_worker_started)
        phases = plan_phases(graph, list(run.asset_selection), run.check_selection)
        store = self.instance.store_event
        store(_event(run_id, EventType.RUN_START, f"Started run {run_id}.",
                     data={"phases": [[p.location, list(p.keys)] for p in phases]}))  # fmt: skip
        failed_keys: set[str] = set()
        problems: list[str] = []
        storage_failure: str | None = None
        needs = phase_dependencies(graph, phases)
        waiting = list(range(len(phases)))
        ended: set[int] = set()
        running: dict[Future[tuple[int, set[str]]], int] = {}
        with ThreadPoolExecutor(max_workers=max(1, len(phases))) as pool:
            while waiting or running:
                stopped = storage_failure is not None or (
                    self.instance.get_run(run_id).status.is_finished  # canceled meanwhile
                )
                for index in [i for i in waiting if needs[i] <= ended and not stopped]:
                    waiting.remove(index)
                    phase = phases[index]
                    # Its upstream phases have ended: their failures are all known.
                    blocked = [
                        k for k in phase.keys if graph.key_graph.upstream([k]) & failed_keys - {k}
                    ]
                    runnable = [k for k in phase.keys if k not in blocked]
                    for key in blocked:
                        store(_skip_event(run_id, graph, key))
                        failed_keys.add(key)
                    checks = [c for c in phase.checks if c.rpartition(":")[0] not in blocked]
                    if not runnable and not checks:
                        ended.add(index)
                        continue
                    part = run_plan_of(run, runnable, checks)
                    future = pool.submit(
                        self._run_phase, run_id, graph, phase, part, on_worker_started
                    )
                    running[future] = index
                if stopped and not running:
                    break
                if not running:
                    continue  # a phase with nothing to run ended: look again
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in finished:
                    index = running.pop(future)
                    ended.add(index)
                    phase = phases[index]
                    runnable = [k for k in phase.keys if k not in failed_keys]
                    code, phase_failed = future.result()
                    failed_keys |= phase_failed
                    if code == STORAGE_FAILED_EXIT:
                        cause = _storage_failure_in(self.log_dir / f"{run_id}.log")
                        storage_failure = describe(cause or "the run worker's writes failed")
                    elif code not in (0, 1):
                        problems.append(
                            f"run worker for location '{phase.location}' exited with code {code}"
                        )
                        failed_keys |= set(runnable)
                    elif code == 1 and not phase_failed:
                        problems.append(f"location '{phase.location}' could not execute its steps")
                        failed_keys |= set(runnable)
        if storage_failure is not None:
            self._store_failure(run_id, storage_failure)
            return RunStatus.FAILURE
        if self.instance.get_run(run_id).status.is_finished:  # canceled meanwhile
            return self.instance.get_run(run_id).status
        if failed_keys or problems:
            failed_steps = sorted(
                {
                    e.step_key
                    for e in self.instance.get_events(run_id, event_types=[EventType.STEP_FAILURE])
                    if e.step_key
                }
            )
            reason = "; ".join(problems) or f"steps failed: {', '.join(failed_steps)}"
            store(
                _event(
                    run_id, EventType.RUN_FAILURE, f"Run {run_id} failed: {reason}",
                    level="ERROR", data={"failed_steps": failed_steps},
                )
            )  # fmt: skip
            return RunStatus.FAILURE
        store(_event(run_id, EventType.RUN_SUCCESS, f"Finished run {run_id}."))
        return RunStatus.SUCCESS

    def _run_op_job(
        self, run_id: str, location: str, on_worker_started: WorkerStarted | None
    ) -> RunStatus:
        """Run a job of ops: one worker in its location writes the whole run, start to end."""
        worker = spawn_run_worker(
            self.targets[location],
            run_id=run_id,
            storage_url=self.instance.url,
            storage_dir=self.instance.storage_dir,
            log_path=self.log_dir / f"{run_id}.log",
        )
        self._watch(run_id, worker)
        try:
            if on_worker_started is not None:
                on_worker_started(Phase(location, ()), worker)
            code = self._wait(run_id, worker)
        finally:
            self._unwatch(run_id, worker)
        run = self.instance.get_run(run_id)
        if not run.status.is_finished:  # the worker died before it recorded the end
            self.instance.store_event(
                _event(
                    run_id,
                    EventType.RUN_FAILURE,
                    f"Run {run_id} failed: run worker for location '{location}' exited "
                    f"with code {code}",
                    level="ERROR",
                )
            )
            return RunStatus.FAILURE
        return run.status

    def _run_phase(
        self,
        run_id: str,
        graph: GlobalAssetGraph,
        phase: Phase,
        part: RunPlan,
        on_worker_started: WorkerStarted | None,
    ) -> tuple[int, set[str]]:
        """Run one worker for the `part` of the run's plan; return its exit code and the keys
        whose steps failed."""
        target = self.targets[phase.location]
        keys = part.asset_keys
        checks = f" and {len(part.check_keys)} checks" if part.check_keys else ""
        before = self._last_event_id(run_id)
        with tempfile.NamedTemporaryFile(
            "w", suffix=".json", prefix="bakehouse-plan-", delete=False
        ) as fh:
            fh.write(dump_plan(part))
            plan_file = fh.name
        worker: subprocess.Popen[bytes] | None = None
        try:
            worker = spawn_run_worker(
                target,
                run_id=run_id,
                storage_url=self.instance.url,
                storage_dir=self.instance.storage_dir,
                log_path=self.log_dir / f"{run_id}.log",
                extra_args=["--plan-file", plan_file],
            )
            self._watch(run_id, worker)
            self.instance.store_event(
                _event(
                    run_id, EventType.ENGINE,
                    f"Started run worker for location '{phase.location}' (pid {worker.pid}) to "
                    f"execute {len(keys)} assets{checks}.",
                    data={"pid": worker.pid, "location": phase.location, "python": target.python},
                )
            )  # fmt: skip
            if on_worker_started is not None:
                on_worker_started(phase, worker)
            code = self._wait(run_id, worker)
        finally:
            if worker is not None:
                self._unwatch(run_id, worker)
            os.unlink(plan_file)
        failed_steps = {
            e.step_key
            for e in self.instance.get_events(
                run_id, after_storage_id=before, event_types=[EventType.STEP_FAILURE]
            )
        }
        failed = {k for k in keys if graph.assets[k].node.step_key in failed_steps}
        return code, failed

    def cancel(self, run_id: str, reason: str) -> None:
        """Record the run as canceled and stop its current workers, and any it starts next."""
        if not self.instance.get_run(run_id).status.is_finished:
            self.instance.store_event(
                _event(run_id, EventType.RUN_CANCELED, reason, level="WARNING")
            )
        with self._lock:
            if run_id in self._driving:
                self._canceled.add(run_id)
            workers = list(self._workers.get(run_id, ()))
        for worker in workers:
            _stop_process(worker)

    def cancel_all(self, reason: str) -> None:
        """Cancel every run this coordinator is executing, with or without a worker yet (the
        deployment is stopping); runs handed to it from now on are canceled too."""
        self._stop_reason = reason
        self._stopping.set()
        with self._lock:
            run_ids = sorted(self._driving | set(self._workers))
        for run_id in run_ids:
            self.cancel(run_id, reason)

    def _watch(self, run_id: str, worker: subprocess.Popen[bytes]) -> None:
        """Make `worker` one that a cancel of `run_id` stops; stop it at once if the run was
        canceled while it started (here, or in storage by another process)."""
        with self._lock:
            self._workers.setdefault(run_id, []).append(worker)
            canceled = run_id in self._canceled
        if not canceled:
            with contextlib.suppress(StorageError):  # `_wait` reads the status again
                canceled = self.instance.get_run(run_id).status.is_finished
        if canceled:
            _stop_process(worker)

    def _wait(self, run_id: str, worker: subprocess.Popen[bytes]) -> int:
        """Wait for `worker` to exit; stop it if its run is canceled in storage meanwhile (a
        webserver beside this daemon stores the cancel; only this process can stop the worker)."""
        while True:
            try:
                return worker.wait(timeout=_CANCEL_POLL_SECONDS)
            except subprocess.TimeoutExpired:
                pass
            try:
                # Only a cancel: a worker that recorded its run's end itself (a job of ops) is
                # left to exit on its own.
                canceled = self.instance.get_run(run_id).status is RunStatus.CANCELED
            except StorageError:
                continue  # storage is down for a moment: keep waiting on the worker
            if canceled:
                _stop_process(worker)

    def _unwatch(self, run_id: str, worker: subprocess.Popen[bytes]) -> None:
        with self._lock:
            workers = self._workers.get(run_id, [])
            if worker in workers:
                workers.remove(worker)
            if not workers:
                self._workers.pop(run_id, None)

    def _store_failure(self, run_id: str, message: str) -> None:
        """Record the run's RUN_FAILURE with `message`, retrying until storage accepts it (or
        this coordinator stops): a full disk or a lost connection is usually temporary."""
        error = ErrorInfo(cls_name="StorageError", message=message, stack=[])
        event = _event(
            run_id, EventType.RUN_FAILURE, f"Run {run_id} failed: {message}",
            level="ERROR", data={"error": error.to_dict()},
        )  # fmt: skip
        delay = 0.2
        while not self._stopping.is_set():
            try:
                self.instance.store_event(event)
                return
            except (RunNotFoundError, CorruptRecordError):
                raise
            except StorageError:
                self._stopping.wait(delay)
                delay = min(delay * 2, _STORE_RETRY_MAX_SECONDS)

    def _last_event_id(self, run_id: str) -> int:
        events = self.instance.get_events(run_id)
        return events[-1].storage_id or 0 if events else 0


def _storage_failure_in(log_path: Path) -> str | None:
    """The storage error a run worker reported on its last `STORAGE_FAILURE_PREFIX` line."""
    try:
        with log_path.open("rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - 65536))
            tail = log.read().decode(errors="replace")
    except OSError:
        return None
    lines = [line for line in tail.splitlines() if line.startswith(STORAGE_FAILURE_PREFIX)]
    return lines[-1][len(STORAGE_FAILURE_PREFIX) :] if lines else None


def _stop_process(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _skip_event(run_id: str, graph: GlobalAssetGraph, key: str) -> EventRecord:
    node = graph.assets[key].node
    return _event(
        run_id,
        EventType.STEP_SKIPPED,
        f"Skipped '{key}': an upstream asset in this run did not materialize.",
        level="WARNING",
        step_key=node.step_key,
        asset_key=key,
    )
