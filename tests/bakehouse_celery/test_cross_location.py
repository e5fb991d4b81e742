"""A run across two code locations on the celery executor: steps of different locations that do
not depend on each other run at the same time, each on its location's worker, and a step still
starts only after its upstream step in the other location succeeded.

Real Redis, SQLite storage (every worker on this host), one `bh worker start` per location in
its own folder and venv, `bh launch` from the deployment's workspace.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bakehouse.storage import Instance
from bakehouse.storage.records import EventType, RunStatus
from tests.support.celery_cluster import (
    Worker,
    broker_url,
    executor_table,
    start_worker,
    worker_venv,
    write_location,
)
from tests.support.projects import write_workspace

pytestmark = pytest.mark.slow

# Each of the two independent steps waits until the other has started: run one location after
# the other, and the first waits out its minute and fails.
MEET = """
import os
import time
from pathlib import Path

import bakehouse as dg

ROOM = Path({room!r})


def meet(me, other):
    ROOM.mkdir(exist_ok=True)
    (ROOM / me).touch()
    deadline = time.monotonic() + 60
    while not (ROOM / other).exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{{other}} never started while {{me}} ran")
        time.sleep(0.05)
"""

EAST = """
@dg.asset
def east_meets() -> None:
    meet("east", "west")


@dg.asset(deps=["west_meets"])
def east_after_west() -> None:
    pass
"""

WEST = """
@dg.asset
def west_meets() -> None:
    meet("west", "east")
"""


@pytest.mark.timeout(600)
def test_independent_steps_of_two_locations_run_at_once_in_dependency_order(
    tmp_path: Path,
) -> None:
    suffix = os.urandom(4).hex()
    names = {"east": f"east_{suffix}", "west": f"west_{suffix}"}
    table = executor_table(broker_url("redis"), worker_timeout=20.0)
    room = str(tmp_path / "room")
    root = tmp_path / "deployment"
    sources = {"east": MEET.format(room=room) + EAST, "west": MEET.format(room=room) + WEST}
    for kind in ("east", "west"):
        write_location(root / kind, kind, names[kind], {"defs/assets.py": sources[kind]}, table)
    write_workspace(root, ["east", "west"])
    (root / ".bakehouse").mkdir()
    sqlite = f"sqlite:///{root / '.bakehouse' / 'bakehouse.db'}"
    workers: list[Worker] = []
    try:
        for kind in ("east", "west"):
            folder = tmp_path / f"host-{kind}" / kind
            shutil.copytree(root / kind, folder)
            workers.append(start_worker(folder, worker_venv(kind), names[kind], sqlite))
        launched = subprocess.run(
            [sys.executable, "-m", "bakehouse", "launch", "--assets", "*"],
            cwd=root, capture_output=True, timeout=300,
            env={**os.environ, "BAKEHOUSE_STORAGE_URL": sqlite},
        )  # fmt: skip
        assert launched.returncode == 0, (launched.stdout + launched.stderr).decode()[-4000:]
    finally:
        for worker in workers:
            worker.stop()
    with Instance.open(sqlite) as instance:
        (run,) = instance.get_runs()
        assert run.status == RunStatus.SUCCESS
        events = instance.get_events(run.run_id)
    # Three phases (east, west, east again); the first two ran at once.
    (start,) = [e for e in events if e.event_type == EventType.RUN_START]
    assert [location for location, _ in start.data["phases"]] == [
        names["east"], names["west"], names["east"],
    ]  # fmt: skip
    first = {e.step_key: e.timestamp for e in events if e.event_type == EventType.STEP_START}
    ended = {e.step_key: e.timestamp for e in events if e.event_type == EventType.STEP_SUCCESS}
    assert set(ended) == {"east_meets", "west_meets", "east_after_west"}
    assert first["west_meets"] < ended["east_meets"]
    assert first["east_meets"] < ended["west_meets"]
    # Dependency order across locations holds.
    assert first["east_after_west"] >= ended["west_meets"]
    # Each step ran on its own location's worker.
    ran_on = {
        e.step_key: e.data["worker_id"]
        for e in events
        if e.event_type == EventType.ENGINE and "worker_id" in e.data
    }
    assert ran_on["east_meets"] == ran_on["east_after_west"] != ran_on["west_meets"]
