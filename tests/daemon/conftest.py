"""A real deployment's parts for daemon tests: code server, storage, coordinator, a clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from bakehouse.daemon.backfills import BackfillDaemon
from bakehouse.host.client import target_for_project
from bakehouse.host.run_coordinator import RunCoordinator
from bakehouse.host.supervisor import LocationSupervisor
from bakehouse.project.workspace import find_workspace
from bakehouse.storage import Instance
from bakehouse.storage.records import BackfillRecord, RunStatus
from tests.support.projects import write_project
from tests.support.waiting import eventually


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Parts:
    """What the daemon loops are built from."""

    root: Path
    instance: Instance
    supervisor: LocationSupervisor
    coordinator: RunCoordinator


def backfill_daemon(parts: Parts, limit: int) -> BackfillDaemon:
    """The backfill loop over `parts`, at most `limit` unfinished runs per backfill."""
    return BackfillDaemon(
        parts.instance, parts.supervisor, parts.coordinator,
        clock=FakeClock(1_000_000.0), max_unfinished_runs=limit,
    )  # fmt: skip


def wait_finished(instance: Instance, run_ids: Sequence[str], timeout: float = 120) -> None:
    """Return once every run of `run_ids` has finished (the run workers are other processes)."""
    eventually(
        lambda: all(instance.get_run(r).status.is_finished for r in run_ids),
        timeout=timeout,
        message=f"runs {run_ids} to finish",
    )


def stored_backfill(parts: Parts, backfill_id: str) -> BackfillRecord:
    """The backfill `backfill_id` as stored now (the test made it, so it exists)."""
    found = parts.instance.get_backfill(backfill_id)
    assert found is not None, f"backfill {backfill_id} is not stored"
    return found


def run_queued(parts: Parts) -> None:
    """Execute every queued run to its end, as the run queue would."""
    graph = parts.supervisor.global_graph()
    for run in parts.instance.get_runs(limit=None, statuses=[RunStatus.QUEUED]):
        parts.coordinator.execute(run.run_id, graph)


MakeParts = Callable[[str, dict[str, str]], Parts]


@pytest.fixture
def make_parts(tmp_path: Path) -> Iterator[MakeParts]:
    """Build a one-location deployment from `files` (paths under src/<module>/)."""
    opened: list[tuple[Instance, LocationSupervisor]] = []

    def make(module: str, files: dict[str, str]) -> Parts:
        root = write_project(tmp_path / module, module, files)
        workspace = find_workspace(root)
        instance = Instance.for_home(root / ".bakehouse")
        targets = {p.location_name: target_for_project(p) for p in workspace.projects}
        supervisor = LocationSupervisor(targets.values(), heartbeat_interval=0.5)
        supervisor.start()
        opened.append((instance, supervisor))
        coordinator = RunCoordinator(instance, targets, log_dir=root / ".bakehouse" / "logs")
        return Parts(root, instance, supervisor, coordinator)

    yield make
    for instance, supervisor in opened:
        supervisor.stop()
        instance.close()
